import Foundation
import GrantsCore
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
            guard case .invalidInput(let problems) = error else { return [Problem("?", "\(error)")] }
            return problems
        }
    }

    @Test func theManifestAsWrittenIsAccepted() {
        #expect(problems("", "").isEmpty)
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
}
