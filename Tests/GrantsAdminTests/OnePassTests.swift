import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// A manifest's problems all come out of one run: the file's own (fields, sums, references) and the themes only
/// the database can say do not exist, each with its line and its grant's reference; nothing is written.
@Suite("round record: every problem in one run")
struct OnePassTests {
    /// One grant of the manifest below; `amount` and `second` (the second tranche) are where the mistakes go.
    static func grant(_ reference: String, themes: String = "citizen-dialogue", amount: String = "950 000", second: String = "475 000")
        -> String
    {
        """
          - reference: \(reference)
            applicant: {name: Kommun \(reference), country: SE, kind: municipality}
            partners: [{name: Kisumu County, country: KE, kind: region}]
            themes: [\(themes)]
            amount: "\(amount)"
            period: {start: 2022-01-01, end: 2023-12-31}
            tranches:
              - {due: 2022-01-31, amount: "475 000"}
              - {due: 2023-01-31, amount: "\(second)"}

        """
    }

    /// Seven mistakes of four kinds: two amounts that are not amounts, two tranche lists that do not add up, a
    /// reference given twice, and two themes that are neither recorded nor declared.
    static let seven =
        """
        programme: Kommunala partnerskap
        round: {name: "2021:2", budget: "10 641 000", decided_on: 2021-12-01}
        themes:
          - {code: citizen-dialogue, name_sv: Medborgardialog, name_en: Citizen dialogue, dac_sector: "15150"}
        grants:

        """
        + grant("KP-1", second: "474 000")
        + grant("KP-2", amount: "1,000")
        + grant("KP-3", themes: "klimat")
        + grant("KP-2", themes: "citizen-dialogue, vatten")
        + grant("KP-5", amount: "1e6")
        + grant("KP-6", second: "470 000")

    /// What each mistake is: the grant (index, reference) and the words of its message.
    static let expected: [(index: Int, reference: String, says: String)] = [
        // The grant whose amount could not be read counts for references after those that could: the second KP-2 is
        // reported at the first one's place, "also at grants[3]".
        (0, "KP-1", "tranches"), (1, "KP-2", "appears twice (also at grants[3])"), (1, "KP-2", "amount"),
        (2, "KP-3", "unknown theme klimat"), (3, "KP-2", "unknown theme vatten"), (4, "KP-5", "amount"), (5, "KP-6", "tranches"),
    ]

    /// The lines grant `index` spans in the file.
    static func lines(ofGrant index: Int) -> ClosedRange<Int> {
        let lines = seven.split(separator: "\n", omittingEmptySubsequences: false)
        let starts = lines.indices.filter { lines[$0].hasPrefix("  - reference:") }.map { $0 + 1 }
        return starts[index]...(index + 1 < starts.count ? starts[index + 1] - 1 : lines.count)
    }

    /// Each problem is on a line of its grant, names the grant by place and reference, and says what is wrong.
    static func check(_ problems: [String]) {
        #expect(problems.count == expected.count, "\(problems.joined(separator: "\n"))")
        for (problem, expected) in zip(problems, expected) {
            let line = Int(problem.dropFirst("line ".count).prefix(while: \.isNumber)) ?? 0
            #expect(problem.hasPrefix("line "), "\(problem)")
            #expect(lines(ofGrant: expected.index).contains(line), "\(problem): not on a line of grants[\(expected.index)]")
            #expect(problem.contains("grants[\(expected.index)] (\(expected.reference))"), "\(problem)")
            #expect(problem.contains(expected.says), "\(problem)")
        }
    }

    @Test func throughTheCLI() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let before = try tableCounts(configuration)
            let file = try temporaryFile("seven.yaml", Data(Self.seven.utf8))
            let result = try cli.run(["round", "record", file.path])
            #expect(result.status == 65, "\(result.stderr)")
            #expect(result.stdout.isEmpty)
            let lines = result.stderr.split(separator: "\n").map(String.init)
            #expect(lines.allSatisfy { $0.hasPrefix("grants-admin: ") })
            Self.check(lines.map { String($0.dropFirst("grants-admin: ".count)) })
            #expect(try tableCounts(configuration) == before, "nothing written")
        }
    }

    @Test func throughTheLibrary() async throws {
        try await TestGrants.withService { service, configuration in
            let before = try tableCounts(configuration)
            do {
                try await service.rounds.record(file: Data(Self.seven.utf8), fileName: "seven.yaml", actor: "anna")
                Issue.record("recorded a manifest with seven mistakes")
            } catch let caught as GrantsError where caught.code == .invalidInput {
                let problems = caught.problems
                Self.check(problems.map(\.description))
            }
            // A CSV grant list: its rows' own problems and its unknown themes, in the order of its lines.
            let csv = """
                reference,title,applicant,applicant_org_number,partners,partner_countries,themes,phase,amount,start,end
                KP-1,T,Växjö kommun,212000-0662,Kisumu County,KE,klimat,project,950 000,2022-01-01,2023-12-31
                KP-2,T,Lunds kommun,,Kisumu County,KE,citizen-dialogue,project,1e6,2022-01-01,2023-12-31
                KP-3,T,Umeå kommun,,Kisumu County,KE,vatten,project,100 000,2022-01-01,2023-12-31
                """
            let round = CSVRoundParameters(
                programme: "Kommunala partnerskap", round: "2020:1", budget: try Money(parsing: "8 000 000", currency: .sek),
                decidedOn: try CalendarDate("2020-06-10"))
            do {
                try await service.rounds.record(file: Data(csv.utf8), fileName: "grants.csv", csvRound: round, actor: "anna")
                Issue.record("recorded a CSV grant list with three mistakes")
            } catch let caught as GrantsError where caught.code == .invalidInput {
                let problems = caught.problems
                #expect(
                    problems.map(\.description) == [
                        "line 2, column themes: unknown theme klimat: record it first (theme add)",
                        "line 3, column amount: \(problems.count > 1 ? problems[1].message : "")",
                        "line 3, column themes: unknown theme citizen-dialogue: record it first (theme add)",
                        "line 4, column themes: unknown theme vatten: record it first (theme add)",
                    ])
            }
            #expect(try tableCounts(configuration) == before, "nothing written")
        }
    }
}
