import Foundation
import Testing

/// The layers as the sources have them: the core imports nothing but Foundation and keeps no thread or file of
/// its own; manifests and exports sit on the core with their C library, never on the database; no type name is
/// declared in two modules. (Scripts/test checks the same graph from Package.swift: the core has no dependency.)
@Suite struct LayerTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// Every Swift file of a module, with its text.
    static func files(_ module: String) throws -> [(name: String, text: String)] {
        let folder = sources.appendingPathComponent(module)
        guard let names = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        return try names.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted().map {
            ($0, try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8))
        }
    }

    static func imports(_ text: String) -> Set<String> {
        Set(text.matches(of: /(?m)^\s*(?:@\w+\s+)*import\s+(\w+)/).map { String($0.output.1) })
    }

    @Test(arguments: [
        ("GrantsCore", ["Foundation"]),
        ("GrantsManifests", ["Foundation", "GrantsCore", "CLibYAML", "Dispatch", "Synchronization"]),
        ("GrantsExports", ["Foundation", "FoundationXML", "GrantsCore", "CZlib", "Synchronization"]),
    ])
    func eachLayerImportsOnlyWhatIsBelowIt(module: String, allowed: [String]) throws {
        let files = try Self.files(module)
        #expect(files.count > 5, "\(module) has its sources")
        for file in files {
            let extra = Self.imports(file.text).subtracting(allowed)
            #expect(extra.isEmpty, "\(module)/\(file.name) imports \(extra.sorted())")
        }
    }

    @Test func theCoreKeepsNoThreadAndNoFile() throws {
        let forbidden = [
            "FileManager", "fopen(", "open(", "FileHandle", "Thread", "DispatchQueue", "pthread_", "Mutex", "NSLock",
            "fileURLWithPath", "contentsOfFile",
        ]
        for file in try Self.files("GrantsCore") {
            let code = file.text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
                .joined(separator: "\n")
            for word in forbidden {
                #expect(!code.contains(word), "GrantsCore/\(file.name) uses \(word)")
            }
        }
    }

    @Test func noTypeNameIsDeclaredInTwoModules() throws {
        let modules = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter {
            !$0.hasPrefix("C") && !$0.hasPrefix(".")
        }
        var declaredIn: [String: Set<String>] = [:]
        for module in modules {
            for file in try Self.files(module) {
                for match in file.text.matches(of: /(?m)^(?:public |package |internal |private |fileprivate |final )*(?:struct|enum|class|actor|protocol|typealias)\s+(\w+)/) {
                    declaredIn[String(match.output.1), default: []].insert(module)
                }
            }
        }
        #expect(declaredIn.count > 100, "the scan found the types")
        let twice = declaredIn.filter { $0.value.count > 1 }.map { "\($0.key): \($0.value.sorted())" }.sorted()
        #expect(twice.isEmpty, "\(twice)")
    }
}
