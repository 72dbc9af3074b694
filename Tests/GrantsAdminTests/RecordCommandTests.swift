import Foundation
import PGClient
import TestSupport
import Testing

let csvRoundFlags = ["--programme", "Kommunala partnerskap", "--round", "2020:1", "--budget", "8 000 000", "--decided-on", "2020-06-10"]

@Suite("grants-admin round record")
struct RecordCommandTests {
    @Test func everyExampleRecordsOnceThenChangesNothing() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let examples = CLI.examples
            // 2021-1 before 2022-1: Dorotea's project grant continues its inception grant.
            for file in [
                "kommunala-partnerskap-2021-2.yaml", "kommunala-partnerskap-2020-2.json", "kommunala-partnerskap-2021-1.yaml",
                "kommunala-partnerskap-2022-1.yaml",
            ] {
                let first = try cli.run(["round", "record", examples.appendingPathComponent(file).path])
                #expect(first.status == 0, "\(file): \(first.stderr)")
                #expect(first.stdout.contains("Recorded round"), "\(first.stdout)")
                let again = try cli.run(["round", "record", examples.appendingPathComponent(file).path])
                #expect(again.status == 0)
                #expect(again.stdout.contains("nothing changed"), "\(again.stdout)")
            }
            try cli.run(["theme", "add", "inclusion", "--name-sv", "Inkludering", "--name-en", "Inclusion"])
            let csv = examples.appendingPathComponent("kommunala-partnerskap-2020-1.csv").path
            let recorded = try cli.run(["round", "record", csv] + csvRoundFlags)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            #expect(try cli.run(["round", "record", csv] + csvRoundFlags).stdout.contains("nothing changed"))
            let summary = try cli.run(["report", "round", "2021:2", "--format", "json"])
            let json = try JSONSerialization.jsonObject(with: Data(summary.stdout.utf8)) as? [String: Any]
            #expect(json?["awarded"] as? String == "10641000.00")
            #expect(json?["budget"] as? String == "10641000.00")
            #expect(json?["grants"] as? Int == 11)
            #expect(json?["by_theme"] != nil && json?["by_country"] != nil && json?["remaining"] as? String == "0.00")
            let announcement = try cli.run(["report", "round", "2021:2", "--format", "announcement-sv"])
            #expect(
                announcement.stdout.contains("11 svenska kommuner och regioner får dela på 10 641 000 kronor"), "\(announcement.stdout)")
        }
    }

    @Test func aChangedCopyIsRefusedWithItsDifferencesAndNothingWritten() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let original = CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml")
            #expect(try cli.run(["round", "record", original.path]).status == 0)
            var text = try String(contentsOf: original, encoding: .utf8)
            text = text.replacingOccurrences(of: "budget: \"10 641 000\"", with: "budget: \"11 000 000\"")
            text = text.replacingOccurrences(of: "Lusaka City Council, country: ZM", with: "Ndola City Council, country: ZM")
            text += """
                  - reference: KP-2021-2-99
                    applicant: {name: Habo kommun, kind: municipality}
                    partners: [{name: Kisumu County, country: KE}]
                    themes: [citizen-dialogue]
                    amount: "1 000"
                    period: {start: 2022-01-01, end: 2022-12-31}

                """
            let changed = try temporaryFile("changed.yaml", Data(text.utf8))
            let before = try tableCounts(configuration)
            let result = try cli.run(["round", "record", changed.path])
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("round.budget"), "\(result.stderr)")
            #expect(result.stderr.contains("partners"), "\(result.stderr)")
            #expect(result.stderr.contains("nothing was written"))
            #expect(try tableCounts(configuration) == before)
            let dry = try cli.run(["round", "record", original.path, "--dry-run"])
            #expect(dry.status == 0 && dry.stdout.contains("Dry run"))
        }
    }

    /// One bad input: the expected exit code, a message naming `place`, and no row written.
    func refuse(_ name: String, _ contents: Data, exit: Int32 = 65, place: String, flags: [String] = [], seed: Bool = true) async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            if seed {
                #expect(
                    try cli.run(["theme", "add", "citizen-dialogue", "--name-sv", "Medborgardialog", "--name-en", "Citizen dialogue"])
                        .status == 0)
            }
            let before = try tableCounts(configuration)
            let file = try temporaryFile(name, contents)
            let result = try cli.run(["round", "record", file.path] + flags)
            #expect(result.status == exit, "\(name): exit \(result.status), \(result.stderr)")
            #expect(result.stderr.contains(place), "\(name): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack"), "\(result.stderr)")
            for line in result.stderr.split(separator: "\n") { #expect(line.hasPrefix("grants-admin: "), "\(line)") }
            #expect(try tableCounts(configuration) == before, "\(name) wrote something")
        }
    }

    static let good = """
        programme: Kommunala partnerskap
        round: {name: "2021:2", budget: "10 641 000", decided_on: 2021-12-01}
        grants:
          - reference: KP-1
            applicant: {name: Växjö kommun, org_number: 212000-0662, kind: municipality}
            partners: [{name: Kisumu County, country: KE, kind: region}]
            themes: [citizen-dialogue]
            amount: "950 000"
            period: {start: 2022-01-01, end: 2023-12-31}
            tranches:
              - {due: 2022-01-31, amount: "475 000"}
              - {due: 2023-01-31, amount: "475 000"}
        """

    func variant(_ old: String, _ new: String) -> Data { Data(Self.good.replacingOccurrences(of: old, with: new).utf8) }

    @Test func malformedYAML() async throws { try await refuse("bad.yaml", Data("programme: [x\ngrants: {".utf8), place: "line") }
    @Test func malformedJSON() async throws {
        try await refuse("bad.json", Data("{\"programme\": \"x\", \"grants\": [}".utf8), place: "line")
    }
    @Test func malformedCSV() async throws {
        let csv =
            "reference,applicant,partners,partner_countries,themes,amount,start,end\nKP-1,\"Växjö kommun,X,KE,citizen-dialogue,100,2022-01-01,2022-12-31\n"
        try await refuse("bad.csv", Data(csv.utf8), place: "line 2", flags: csvRoundFlags)
    }
    @Test func missingRequiredKey() async throws {
        try await refuse("m.yaml", variant("    amount: \"950 000\"\n", ""), place: "line 4, grants[0] (KP-1).amount: is required")
    }
    @Test func unknownKey() async throws {
        try await refuse("u.yaml", variant("    themes:", "    theme_s: [x]\n    themes:"), place: "line 7, grants[0] (KP-1).theme_s")
    }
    @Test(arguments: ["1,000", "1.000.000", "-5", "0", "1e6", "NaN", "99999999999999999999"])
    func refusedAmount(_ amount: String) async throws {
        try await refuse("a.yaml", variant("amount: \"950 000\"", "amount: \"\(amount)\""), place: "line 8, grants[0] (KP-1).amount")
    }
    @Test func invalidOrganisationNumber() async throws {
        try await refuse("o.yaml", variant("212000-0662", "212000-0663"), place: "line 5, grants[0] (KP-1).applicant.org_number")
    }
    @Test func unknownTheme() async throws {
        try await refuse("t.yaml", variant("[citizen-dialogue]", "[no-such-theme]"), place: "grants[0] (KP-1).themes: unknown theme no-such-theme")
    }
    @Test func periodEndsBeforeItStarts() async throws {
        try await refuse("p.yaml", variant("end: 2023-12-31", "end: 2021-12-31"), place: "grants[0] (KP-1).period.end")
    }
    @Test func tranchesDoNotAddUp() async throws {
        try await refuse(
            "s.yaml", variant("{due: 2023-01-31, amount: \"475 000\"}", "{due: 2023-01-31, amount: \"474 000\"}"),
            place: "grants[0] (KP-1).tranches")
    }
    @Test func sameReferenceTwice() async throws {
        let twice = Self.good + "\n" + Self.good.components(separatedBy: "grants:\n")[1]
        try await refuse("d.yaml", Data(twice.utf8), place: "grants[1] (KP-1).reference")
    }
    @Test func totalAboveBudget() async throws {
        try await refuse("b.yaml", variant("budget: \"10 641 000\"", "budget: \"900 000\""), place: "budget")
    }
    @Test func aYAMLAlias() async throws {
        try await refuse(
            "alias.yaml",
            variant(
                "partners: [{name: Kisumu County, country: KE, kind: region}]",
                "partners: &p [{name: Kisumu County, country: KE}]\n    requested: *p"), place: "aliases")
    }
    @Test func invalidUTF8() async throws {
        var data = Data(Self.good.utf8)
        data.insert(contentsOf: [0xC3, 0x28], at: 20)
        try await refuse("i.yaml", data, place: "UTF-8")
    }
    @Test func fileOverTheSizeLimit() async throws {
        var data = Data(Self.good.utf8)
        data.append(Data(repeating: UInt8(ascii: "#"), count: 64 * 1024 * 1024))
        try await refuse("huge.yaml", data, place: "64 MiB")
    }
    @Test func moreGrantsThanTheLimit() async throws {
        var csv = "reference,applicant,partners,partner_countries,themes,amount,start,end\n"
        csv.reserveCapacity(8_000_000)
        for i in 0...100_000 { csv += "R\(i),A,P,KE,citizen-dialogue,1,2022-01-01,2022-12-31\n" }
        try await refuse("many.csv", Data(csv.utf8), place: "limit", flags: csvRoundFlags)
    }
}
