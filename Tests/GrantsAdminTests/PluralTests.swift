import Foundation
import Grants
import TestSupport
import Testing

/// Counts in output and messages agree with their nouns: "1 grant", "2 grants", never "1 grants".
@Suite("grants-admin: plurals")
struct PluralTests {
    static let header = "reference,title,applicant,applicant_org_number,partners,partner_countries,themes,phase,amount,start,end\n"
    static let round = ["--programme", "Kommunala partnerskap", "--round", "2020:1", "--budget", "8 000 000", "--decided-on", "2020-06-10"]

    @Test func oneGrantIsOneGrant() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let row = "KP-1,T,Växjö kommun,212000-0662,Kisumu County,KE,citizen-dialogue,project,100 000,2022-01-01,2023-12-31\n"
            #expect(try cli.run(["theme", "add", "citizen-dialogue", "--name-sv", "Medborgardialog", "--name-en", "Dialogue"]).status == 0)
            let recorded = try cli.run(["round", "record", try temporaryFile("one.csv", Data((Self.header + row).utf8)).path] + Self.round)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            #expect(recorded.stdout.contains("1 grant got one tranche of its whole amount on its start date"), "\(recorded.stdout)")
            #expect(recorded.stdout.contains("in 1 new grant\n"), "\(recorded.stdout)")
            for command in [["report", "round", "2020:1"], ["round", "show", "2020:1"]] {
                let shown = try cli.run(command)
                #expect(shown.status == 0, "\(shown.stderr)")
                #expect(shown.stdout.contains(" in 1 grant\n"), "\(command): \(shown.stdout)")
            }
            let more = "KP-2,T,Lunds kommun,,Kisumu County,KE,citizen-dialogue,project,100 000,2022-01-01,2023-12-31\n"
            let again = try cli.run(
                ["round", "record", try temporaryFile("two.csv", Data((Self.header + row + more).utf8)).path] + Self.round)
            #expect(again.status == 0, "\(again.stderr)")
            let report = try cli.run(["report", "round", "2020:1"])
            #expect(report.stdout.contains(" in 2 grants\n"), "\(report.stdout)")
        }
    }

    @Test func problemsCountInTheRightNumber() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let rows =
                "KP-1\n"
                + "KP-2,T,Växjö kommun,,Kisumu County,KE|ZM|UG,citizen-dialogue,project,100 000,2022-01-01,2023-12-31\n"
            let result = try cli.run(["round", "record", try temporaryFile("bad.csv", Data((Self.header + rows).utf8)).path] + Self.round)
            #expect(result.status == 65, "\(result.stderr)")
            #expect(result.stderr.contains("line 2: has 1 field; the header has 11 fields"), "\(result.stderr)")
            #expect(result.stderr.contains("3 countries for 1 partner (give one"), "\(result.stderr)")
        }
    }

    @Test func theHelper() {
        #expect(counted(0, "grant") == "0 grants")
        #expect(counted(1, "grant") == "1 grant")
        #expect(counted(2, "tranche") == "2 tranches")
        #expect(counted(1, "country", "countries") == "1 country")
        #expect(counted(Int64(3), "country", "countries") == "3 countries")
    }
}
