// Compiles the package's Schema/ folder into Swift source: the numbered migrations (Schema/NNNN_name.sql) and the
// repeatable definitions (Schema/rules, Schema/api, Schema/privileges, in that order), each file's exact text.
// Run by the EmbedSchema build-tool plugin; the output is a build product, never committed.
//
//     embed-schema SCHEMA_FOLDER OUTPUT.swift
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: embed-schema SCHEMA_FOLDER OUTPUT.swift\n".utf8))
    exit(64)
}
let folder = URL(fileURLWithPath: arguments[1])
let output = URL(fileURLWithPath: arguments[2])

func sqlFiles(_ directory: URL) throws -> [URL] {
    guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
    return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        .filter { $0.pathExtension == "sql" }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
}

/// A file's text as a Swift raw string literal; a file holding the delimiter is refused.
func literal(_ file: URL) throws -> String {
    var text = try String(contentsOf: file, encoding: .utf8)
    if text.hasSuffix("\n") { text.removeLast() }
    guard !text.contains("\"####") else {
        FileHandle.standardError.write(Data("embed-schema: \(file.path) contains the raw-string delimiter\n".utf8))
        exit(65)
    }
    return "####\"\"\"\n" + text + "\n\"\"\"####"
}

var swift = """
    // Generated at build time by the EmbedSchema plugin from Schema/. Not committed: edit Schema/.
    import PGClient

    enum EmbeddedSchema {
        static let migrations: [PGMigration] = [

    """
for file in try sqlFiles(folder) {
    let base = file.deletingPathExtension().lastPathComponent
    guard let version = Int(base.prefix(4)), base.dropFirst(4).first == "_" else { continue }
    let name = String(base.dropFirst(5))
    swift += "        PGMigration(version: \(version), name: \"\(name)\", sql: \(try literal(file))),\n"
}
swift += "    ]\n\n    static let repeatables: [PGRepeatable] = [\n"
for sub in ["rules", "api", "privileges"] {
    for file in try sqlFiles(folder.appendingPathComponent(sub)) {
        let name = sub + "/" + file.deletingPathExtension().lastPathComponent
        swift += "        PGRepeatable(name: \"\(name)\", sql: \(try literal(file))),\n"
    }
}
swift += "    ]\n}\n"
let data = Data(swift.utf8)
// Unchanged output keeps its timestamp, so the library is not recompiled for nothing.
if (try? Data(contentsOf: output)) != data {
    try data.write(to: output, options: .atomic)
}
