import Foundation
import GrantsCore
import GrantsManifests
import Testing

/// A manifest's problems come all in one run, each with its line and, in a grant, the grant's reference.
@Suite("Manifest problems in one run")
struct OneRunTests {
    static func problems(_ text: String, fileName: String = "r.yaml") -> [Problem] {
        do {
            _ = try RoundManifest.parse(Data(text.utf8), fileName: fileName)
            return []
        } catch {
            guard let problems = invalidProblems(error) else { return [Problem("?", "\(error)")] }
            return problems
        }
    }

    /// Seven mistakes of four kinds: fields that cannot be read, sums (tranches, budget), a reference given
    /// twice, codes (country, currency is tested apart).
    static let sevenMistakes = """
        programme: Kommunala partnerskap
        round:
          name: "2021:2"
          budget: "2 000 000"
          decided_on: 2021-12-01
        grants:
          - reference: KP-1
            applicant: {name: Växjö kommun, org_number: 212000-0662, kind: municipality}
            partners: [{name: Kisumu County, country: KE}]
            themes: [citizen-dialogue]
            amount: "1,000"
            period: {start: 2022-01-01, end: 2023-12-31}
          - reference: KP-2
            applicant: {name: Habo kommun, kind: municipality}
            partners: [{name: Kisumu County, country: KE}]
            themes: [citizen-dialogue]
            amount: "500 000"
            period: {end: 2023-12-31}
          - reference: KP-3
            applicant: {name: Habo kommun, kind: municipality}
            partners: [{name: Kisumu County, country: KE}]
            theme_s: [citizen-dialogue]
            themes: [citizen-dialogue]
            amount: "500 000"
            period: {start: 2022-01-01, end: 2023-12-31}
          - reference: KP-4
            applicant: {name: Habo kommun, kind: municipality}
            partners: [{name: Kisumu County, country: KE}]
            themes: [citizen-dialogue]
            amount: "500 000"
            period: {start: 2022-01-01, end: 2023-12-31}
            tranches:
              - {due: 2022-01-31, amount: "250 000"}
              - {due: 2023-01-31, amount: "240 000"}
          - reference: KP-4
            applicant: {name: Habo kommun, kind: municipality}
            partners: [{name: Chisinau, country: Moldova}]
            themes: [citizen-dialogue]
            amount: "600 000"
            period: {start: 2022-01-01, end: 2023-12-31}
        """

    @Test func sevenMistakesOfFourKindsComeInOneRunWithLines() {
        let found = Self.problems(Self.sevenMistakes)
        let described = found.map(\.description)
        #expect(found.count == 7, "\(described.joined(separator: "\n"))")
        #expect(found.allSatisfy { $0.line != nil }, "\(described)")
        let expected = [
            "line 11, grants[0] (KP-1).amount:",
            "line 18, grants[1] (KP-2).period.start: is required",
            "line 22, grants[2] (KP-3).theme_s: unknown key",
            "line 26, grants[3] (KP-4).tranches: the tranches add up to",
            "line 35, grants[4] (KP-4).reference: KP-4 appears twice (also at grants[3])",
            "line 35, grants[4] (KP-4).partners[0].country: \"Moldova\" is not an ISO 3166-1 alpha-2 country code",
            "line 4, grants: the awards add up to",
        ]
        for prefix in expected {
            #expect(described.contains { $0.contains(prefix) }, "\(prefix) in \(described.joined(separator: "\n"))")
        }
        // In the order of the file.
        let lines = found.compactMap(\.line)
        #expect(lines == lines.sorted(), "\(lines)")
        // The domain path stays as it was; line and reference are fields of their own.
        #expect(found.contains { $0.location == "grants[2].theme_s" && $0.reference == "KP-3" && $0.line == 22 })
    }

    @Test func aCountryGivenByNameGetsItsCode() {
        let found = Self.problems(Self.sevenMistakes.replacingOccurrences(of: "amount: \"1,000\"", with: "amount: \"1 000\""))
        let country = found.first { $0.location.hasSuffix("country") }
        #expect(country?.message.contains("use a two-letter code such as MD") == true, "\(String(describing: country))")
        #expect(IATICodelist.country.problem("Kenya", at: "country")?.message.contains("KE") == true)
        #expect(IATICodelist.country.problem("se", at: "country")?.message.contains("capitals: SE") == true)
        let unknown = IATICodelist.country.problem("Atlantis", at: "country")?.message ?? ""
        #expect(unknown.contains("two-letter code such as"), "\(unknown)")
    }

    @Test func currenciesAreActiveISO4217Codes() {
        for code in ["SEK", "EUR", "USD", "NOK", "DKK", "GBP", "KES", "CHF"] {
            #expect(Currency(activeCode: code) != nil, "\(code)")
        }
        for code in ["ZZZ", "BTC", "sek", "SE", "XBT", "HRK"] {
            #expect(Currency(activeCode: code) == nil, "\(code)")
        }
        let manifest = """
            programme: P
            round: {name: "1", budget: "100", currency: ZZZ, decided_on: 2021-12-01}
            grants: []
            """
        let found = Self.problems(manifest)
        #expect(found.contains { $0.location == "round.currency" && $0.message.contains("not an active ISO 4217") && $0.line == 2 },
            "\(found)")
        let round = NewRound(programme: "P", name: "1", budget: Money(minorUnits: 100, currency: Currency(rawValue: "BTC")!))
        #expect(round.problems(at: "").map(\.location) == ["currency"])
    }

    @Test func aProblemRendersItsLineAndReference() {
        #expect(
            Problem("grants[5].themes", "unknown theme klimat", line: 42, reference: "KP-2021-2-06").description
                == "line 42, grants[5] (KP-2021-2-06).themes: unknown theme klimat")
        #expect(Problem("round.name", "is required", line: 3).description == "line 3, round.name: is required")
        #expect(Problem("round.name", "is required").description == "round.name: is required")
        #expect(Problem("a", "b", line: 1).relocated(to: "--flag").line == 1)
    }

    @Test func controlCharactersAreRefusedInEveryText() {
        for bad in ["a\u{1B}[31mb", "a\rb", "a\nb", "a\u{7F}", "a\u{85}b", "a\u{202E}b", "a\u{2066}b", "a\u{2069}", "a\tb", "\u{0}"] {
            let problem = Limits.text(bad, at: "name")
            #expect(problem?.location == "name" && problem?.message.contains("control character") == true, "\(bad.debugDescription)")
        }
        #expect(Limits.text("Växjö kommun — Kisumu", at: "name") == nil)
        let manifest = Self.sevenMistakes.replacingOccurrences(of: "name: Habo kommun", with: "name: \"Habo\\u202Ekommun\"")
        #expect(Self.problems(manifest).contains { $0.location.hasSuffix("applicant.name") && $0.message.contains("U+202E") })
    }
}
