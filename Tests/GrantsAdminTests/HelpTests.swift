import Foundation
import Testing

/// Help examples a reader can copy: within 80 columns, continued with ` \`, no stray backslash in the prose.
@Suite("grants-admin help")
struct HelpTests {
    @Test(arguments: [["programme", "set"], ["application", "submit"]])
    func examplesFitAndProseHasNoStrayBackslash(_ command: [String]) throws {
        let help = try CLI(configuration: nil).run(command + ["--help"]).stdout
        let parts = help.components(separatedBy: "Example:")
        #expect(parts.count == 2, "\(help)")
        let prose = parts[0].split(separator: "\n")
        #expect(!prose.contains { $0.hasSuffix("\\") }, "\(parts[0])")
        let example = parts[1].components(separatedBy: "\n\n")[0].split(separator: "\n")
        #expect(example.count > 1 && example.dropLast().allSatisfy { $0.hasSuffix(" \\") }, "\(parts[1])")
        #expect(example.allSatisfy { $0.count <= 80 }, "\(parts[1])")
    }
}
