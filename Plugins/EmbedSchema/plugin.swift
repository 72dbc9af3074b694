import Foundation
import PackagePlugin

/// Compiles the package's `Schema/` folder into the target it is applied to (the `Grants` library), so an
/// installed `grants-admin` carries its schema and the copy is never committed or stale: it is rebuilt
/// whenever a file under `Schema/` changes.
@main
struct EmbedSchema: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let schema = context.package.directoryURL.appending(path: "Schema")
        var inputs: [URL] = []
        if let files = FileManager.default.enumerator(at: schema, includingPropertiesForKeys: nil) {
            for case let file as URL in files where file.pathExtension == "sql" { inputs.append(file) }
        }
        // Folders too: adding or removing a file changes its folder's timestamp.
        inputs += [schema] + ["rules", "api", "privileges"].map { schema.appending(path: $0) }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSchema.swift")
        return [
            .buildCommand(
                displayName: "Embedding the schema folder into \(target.name)",
                executable: try context.tool(named: "embed-schema").url,
                arguments: [schema.path, output.path],
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
