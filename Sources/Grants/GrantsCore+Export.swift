// Users import Grants alone: the core values, rules and errors come with it.
@_exported import GrantsCore
