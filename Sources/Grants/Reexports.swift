// Users import Grants alone: the core values, rules and errors, the manifest reader and the export writers
// come with it.
@_exported import GrantsCore
@_exported import GrantsExports
@_exported import GrantsManifests
