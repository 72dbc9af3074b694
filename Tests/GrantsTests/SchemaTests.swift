import Foundation
import Grants
import Testing

@Suite("Embedded schema")
struct SchemaTests {
    @Test func compiledCopyEqualsSchemaFolder() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Schema").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count == GrantsService.migrations.count, "the build embeds Schema/: rebuild")
        for (file, migration) in zip(files, GrantsService.migrations) {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let base = String(file.dropLast(4))
            #expect(Int(base.prefix(4)) == migration.version)
            #expect(String(base.dropFirst(5)) == migration.name)
            #expect(
                text.hasSuffix("\n") ? String(text.dropLast()) == migration.sql : text == migration.sql,
                "\(file) differs from the compiled copy: rebuild")
        }
        // The repeatable definitions: every file under rules/, api/ and privileges/, in that order.
        var expected: [(String, String)] = []
        for sub in ["rules", "api", "privileges"] {
            let dir = folder.appendingPathComponent(sub)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.filter { $0.hasSuffix(".sql") }.sorted() ?? []
            for name in names {
                let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
                expected.append(("\(sub)/\(name.dropLast(4))", text.hasSuffix("\n") ? String(text.dropLast()) : text))
            }
        }
        #expect(expected.map(\.0) == GrantsService.repeatables.map(\.name), "the build embeds Schema/: rebuild")
        for ((name, text), script) in zip(expected, GrantsService.repeatables) where name == script.name {
            #expect(text == script.sql, "Schema/\(name).sql differs from the compiled copy: rebuild")
        }
    }
}
