import Foundation
import TestSupport
import Testing

/// ESC, CR, LF, DEL and U+202E in the texts of the command line: exit 65, one line naming the flag and the
/// character, nothing written. (The library and the database API: GrantsTests' ControlCharacterTests.)
@Suite("grants-admin: control characters in text flags")
struct ControlCharacterCommandTests {
    static let controls: [(text: String, code: String)] = [
        ("\u{1B}", "U+001B"), ("\r", "U+000D"), ("\n", "U+000A"), ("\u{7F}", "U+007F"), ("\u{202E}", "U+202E"),
    ]

    /// Each command with `BAD` where a text goes, and the flag the refusal names.
    static let commands: [(flag: String, arguments: [String])] = [
        ("--name-sv", ["theme", "add", "t-1", "--name-sv", "BAD", "--name-en", "T"]),
        ("--name", ["org", "add", "--name", "BAD", "--country", "KE"]),
        ("--name", ["round", "create", "--programme", "Kommunala partnerskap", "--name", "BAD", "--budget", "1 000"]),
        ("--programme", ["round", "create", "--programme", "BAD", "--name", "2030:1", "--budget", "1 000"]),
        ("--reason", ["conflict", "declare", "--person", "david", "--org", "Växjö kommun", "--reason", "BAD"]),
        ("--name", ["contact", "add", "--org", "Växjö kommun", "--name", "BAD"]),
        ("--role", ["contact", "add", "--org", "Växjö kommun", "--name", "Eva", "--role", "BAD"]),
        ("--funder-name", ["programme", "set", "Kommunala partnerskap", "--funder-name", "BAD"]),
        ("--name", ["person", "add", "zed", "--name", "BAD"]),
        ("--reason", ["application", "reject", "KP-2021-2-01", "--decided-on", "2021-12-01", "--reason", "BAD"]),
        ("--payment-ref", ["disbursement", "pay", "1", "--paid-on", "2022-02-01", "--payment-ref", "BAD"]),
    ]

    @Test func everyTextFlagRefusesThem() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let recorded = try cli.run(["round", "record", CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let before = try tableCounts(configuration)
            for (flag, arguments) in Self.commands {
                for control in Self.controls {
                    let bad = "Kisumu\(control.text)County"
                    let result = try cli.run(arguments.map { $0 == "BAD" ? bad : $0 })
                    let shown = "\(arguments.prefix(2).joined(separator: " ")) \(flag) \(control.code)"
                    #expect(result.status == 65, "\(shown): \(result.stderr)")
                    let lines = result.stderr.split(separator: "\n")
                    #expect(lines.count == 1, "\(shown): \(result.stderr)")
                    #expect(
                        lines.first?.hasPrefix("grants-admin: \(flag): holds a") == true && result.stderr.contains(control.code),
                        "\(shown): \(result.stderr)")
                }
            }
            #expect(try tableCounts(configuration) == before, "nothing written")
        }
    }
}
