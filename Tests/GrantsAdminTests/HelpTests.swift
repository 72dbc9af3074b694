import Foundation
import Testing

/// Help examples a reader can copy: within 80 columns, continued with ` \`, no stray backslash in the prose.
@Suite("grants-admin help")
struct HelpTests {
    @Test(arguments: [["programme", "set"], ["application", "submit"]])
    func examplesFitAndProseHasNoStrayBackslash(_ command: [String]) throws {
        let help = try CLI(configuration: nil).run(command + ["--help"]).stdout
        let header = try #require(help.range(of: "\nExample:\n") ?? help.range(of: "\nExamples:\n"), "\(help)")
        let prose = help[..<header.lowerBound].split(separator: "\n")
        #expect(!prose.contains { $0.hasSuffix("\\") }, "\(help)")
        let examples = help[header.upperBound...].components(separatedBy: "\n\n")[0]
        let example = examples.split(separator: "\n")
        // Each example starts with the command; every line it continues onto follows a ` \`.
        let continued = zip(example.dropFirst(), example).filter { !$0.0.hasPrefix("  grants-admin ") }
        #expect(example.count > 1 && continued.allSatisfy { $0.1.hasSuffix(" \\") }, "\(examples)")
        #expect(example.allSatisfy { $0.count <= 80 }, "\(examples)")
    }
}
