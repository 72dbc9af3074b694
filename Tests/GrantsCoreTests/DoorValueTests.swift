import Foundation
import GrantsCore
import GrantsManifests
import Testing

/// Values checked before anything is written, in manifests: every problem with its place.
@Suite("Values checked at the door (manifests)")
struct DoorValueTests {
    static let manifest = """
        programme: Kommunala partnerskap
        round: {name: "2021:2", budget: "10 641 000", decided_on: 2021-12-01}
        themes:
          - {code: citizen-dialogue, name_sv: Medborgardialog, name_en: Citizen dialogue, dac_sector: "15150"}
        grants:
          - reference: KP-1
            applicant: {name: Växjö kommun, org_number: 212000-0662, kind: municipality}
            partners: [{name: Kisumu County, country: KE, kind: region}]
            themes: [citizen-dialogue]
            amount: "950 000"
            period: {start: 2022-01-01, end: 2023-12-31}
        """

    func problems(_ old: String, _ new: String) -> [Problem] {
        do {
            _ = try RoundManifest.parse(Data(Self.manifest.replacingOccurrences(of: old, with: new).utf8), fileName: "r.yaml")
            return []
        } catch {
            guard let problems = invalidProblems(error) else { return [Problem("?", "\(error)")] }
            return problems
        }
    }

    @Test func theManifestAsWrittenIsAccepted() {
        #expect(problems("", "").isEmpty)
    }

    @Test func aDecisionDateInTheFutureIsRefused() throws {
        let tomorrow = try CalendarDate(daysSinceEpoch: CalendarDate.today.daysSinceEpoch + 1)
        for date in ["2999-01-01", tomorrow.iso] {
            let found = problems("decided_on: 2021-12-01", "decided_on: \(date)")
            #expect(found.map(\.location) == ["round.decided_on"], "\(found)")
            #expect(found.first?.message.contains("in the future") == true)
        }
        #expect(problems("decided_on: 2021-12-01", "decided_on: \(CalendarDate.today.iso)").isEmpty)
    }

    @Test func requestedDefaultsToTheAmountAndCannotBeBelowIt() {
        #expect(problems("    amount:", "    requested: \"950 000\"\n    amount:").isEmpty)
        #expect(problems("    amount:", "    requested: \"1 000 000\"\n    amount:").isEmpty)
        let below = problems("    amount:", "    requested: \"900 000\"\n    amount:")
        #expect(below.map(\.location) == ["grants[0].requested"], "\(below)")
    }

    @Test func countriesAndSectorsAreCheckedAgainstTheCodelists() {
        let country = problems("country: KE", "country: XX")
        #expect(country.map(\.location) == ["grants[0].partners[0].country"], "\(country)")
        let withdrawn = problems("country: KE", "country: AN")
        #expect(withdrawn.first?.message.contains("withdrawn") == true, "\(withdrawn)")
        let sector = problems("dac_sector: \"15150\"", "dac_sector: \"15120\"")
        #expect(sector.map(\.location) == ["themes[0].dac_sector"], "\(sector)")
    }

    @Test func theExportSeparatorCannotBeInAName() {
        let found = problems("name: Kisumu County", "name: Kisumu | Homa Bay")
        #expect(found.map(\.location) == ["grants[0].partners[0].name"], "\(found)")
    }

    @Test func aCSVGrantListIsCheckedTheSameWay() throws {
        let csv = """
            reference,applicant,partners,partner_countries,themes,amount,start,end
            KP-1,Växjö kommun,Kisumu County,QQ,citizen-dialogue,100,2022-01-01,2022-12-31
            """
        let round = CSVRoundParameters(
            programme: "Kommunala partnerskap", round: "2020:1", budget: try Money(parsing: "8 000 000", currency: .sek),
            decidedOn: try CalendarDate("2999-06-10"))
        do {
            _ = try RoundManifest.parse(Data(csv.utf8), fileName: "g.csv", csvRound: round)
            Issue.record("accepted")
        } catch {
            guard let found = invalidProblems(error) else {
                Issue.record("\(error)")
                return
            }
            #expect(Set(found.map(\.location)) == ["round.decided_on", "line 2, column partners[0].country"], "\(found)")
        }
    }
}
