import Foundation
import GrantsCore
import GrantsManifests
import Testing

/// CSV grant lists as spreadsheets save them: blank rows, Windows-1252.
@Suite("CSV grant lists")
struct CSVManifestTests {
    static func round() throws -> CSVRoundParameters {
        CSVRoundParameters(
            programme: "Kommunala partnerskap", round: "2020:1", budget: try Money(parsing: "8 000 000", currency: .sek),
            decidedOn: try CalendarDate("2020-06-10"))
    }

    static func problems(_ data: Data) throws -> [Problem] {
        let round = try round()
        do {
            _ = try RoundManifest.parse(data, fileName: "g.csv", csvRound: round)
            return []
        } catch {
            guard let found = invalidProblems(error) else { return [Problem("?", "\(error)")] }
            return found
        }
    }

    @Test func blankRowsAreSkipped() throws {
        let semicolons = """
            reference;title;applicant;applicant_org_number;partners;partner_countries;themes;phase;amount;start;end
            KP-1;;Växjö kommun;;Kisumu County;KE;citizen-dialogue;;100;2022-01-01;2022-12-31
            ;;;;;;;;;;
            KP-2;;Habo kommun;;Kisumu County;KE;citizen-dialogue;;100;2022-01-01;2022-12-31
             ; ;;;;;;;;;
            """
        let manifest = try RoundManifest.parse(Data(semicolons.utf8), fileName: "g.csv", csvRound: try Self.round())
        #expect(manifest.grants.map(\.reference) == ["KP-1", "KP-2"])
        let commas = """
            reference,applicant,partners,partner_countries,themes,amount,start,end
            ,,,,
            KP-1,Växjö kommun,Kisumu County,KE,citizen-dialogue,100,2022-01-01,2022-12-31
            ,,,,,,,
            """
        #expect(try Self.problems(Data(commas.utf8)).isEmpty)
    }

    @Test func windows1252IsRefusedWithTheLineAndAHint() throws {
        var data = Data("reference,applicant,partners,partner_countries,themes,amount,start,end\n".utf8)
        data += Data("KP-1,V".utf8) + Data([0xE4]) + Data("xj".utf8) + Data([0xF6]) + Data(" kommun,K,KE,c,100,2022-01-01,2022-12-31\n".utf8)
        let found = try Self.problems(data)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.location == "line 2", "\(found)")
        #expect(found.first?.message.contains("CSV UTF-8 (comma delimited)") == true, "\(found)")
    }

    @Test func rowProblemsAndTheBudgetComeInOneRun() throws {
        let csv = """
            reference,applicant,partners,partner_countries,themes,amount,start,end
            KP-1,Växjö kommun,Kisumu County,KE,citizen-dialogue,5 000 000,2022-01-01,2022-12-31
            KP-2,Habo kommun,Kisumu County,KE,citizen-dialogue,4 000 000,2022-01-01,not-a-date
            KP-1,Habo kommun,Kisumu County,KE,citizen-dialogue,100,2022-01-01,2022-12-31
            """
        let found = try Self.problems(Data(csv.utf8))
        #expect(found.contains { $0.location == "line 3, column end" }, "\(found)")
        #expect(found.contains { $0.location == "line 4, column reference" && $0.message.contains("twice") }, "\(found)")
        #expect(found.contains { $0.location == "grants" && $0.message.contains("over the budget") }, "\(found)")
    }
}
