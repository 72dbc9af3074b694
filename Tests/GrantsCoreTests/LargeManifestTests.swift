import Foundation
import Testing

@testable import GrantsCore
@testable import GrantsManifests

/// A manifest over 1 MiB has its grants decoded on another core while the parser reads on (GrantPipeline), or in
/// chunks after the parse when that cannot be used. Every path gives the same manifest, or the same problems in the
/// same order, as decoding the parsed tree one grant at a time.
@Suite("Large manifests decode the same on every path")
struct LargeManifestTests {
    /// A YAML manifest of `count` grants; `broken` grants get an amount that is no amount and an unknown key.
    static func yaml(count: Int, roundLast: Bool = false, currency: String? = nil, broken: Set<Int> = []) -> String {
        let round =
            "round: {name: \"R\", budget: \"\(count * 2_000_000)\", decided_on: 2021-12-01"
            + (currency.map { ", currency: \"\($0)\"" } ?? "") + "}\n"
        var out = "programme: Kommunala partnerskap\n" + (roundLast ? "" : round)
        out += "themes:\n  - {code: citizen-dialogue, name_sv: Medborgardialog, name_en: Citizen dialogue}\ngrants:\n"
        for i in 0..<count {
            out += "  - reference: KP-\(i)\n    title: \"Partnerskap Växjö–Kisumu \(i), medborgardialog och ungas delaktighet\"\n"
            out += "    applicant: {name: \"Växjö kommun \(i % 290)\", kind: municipality}\n"
            out += "    partners: [{name: \"Kisumu County \(i)\", country: KE}, {name: \"Zomba City \(i)\", country: MW}]\n"
            out += "    themes: [citizen-dialogue]\n"
            out += broken.contains(i) ? "    amount: \"ett tusen\"\n    colour: blue\n" : "    amount: \"1 000\"\n"
            out += "    period: {start: 2022-01-01, end: 2023-12-31}\n"
            out += "    tranches: [{due: 2022-01-31, amount: \"500\"}, {due: 2023-01-31, amount: \"500\"}]\n"
        }
        return out + (roundLast ? round : "")
    }

    /// The manifest (or its error) through `RoundManifest.parse`, and through the parsed tree decoded plainly.
    static func bothWays(_ text: String) -> (Result<RoundManifest, GrantsError>, Result<RoundManifest, GrantsError>) {
        let viaParse = Result { () throws(GrantsError) in try RoundManifest.parse(Data(text.utf8), fileName: "round.yaml") }
        let plain = Result { () throws(GrantsError) in try ManifestDecoder.decode(ManifestNode.parse(text)) }
        return (viaParse, plain)
    }

    @Test(arguments: [false, true])
    func aValidManifestIsTheSame(roundLast: Bool) throws {
        let text = Self.yaml(count: 3_000, roundLast: roundLast)
        #expect(text.utf8.count > 1 << 20, "large enough for the pipeline")
        let (viaParse, plain) = Self.bothWays(text)
        let manifest = try viaParse.get()
        #expect(manifest == (try plain.get()))
        #expect(manifest.grants.count == 3_000)
        #expect(manifest.grants.map(\.reference) == (0..<3_000).map { "KP-\($0)" })
        #expect(manifest.isChecked)
    }

    /// The pipeline itself: every grant when the round comes first, none when it comes after the grants.
    @Test func thePipelineDecodesWhileParsingWhenTheRoundComesFirst() throws {
        for roundLast in [false, true] {
            let pipeline = GrantPipeline()
            _ = try ManifestNode.parse(Self.yaml(count: 1_234, roundLast: roundLast, currency: "EUR")) { pipeline.take($0, $1, $2) }
            let decoded = pipeline.finish()
            if roundLast {
                #expect(decoded == nil)
            } else {
                #expect(decoded?.count == 1_234)
                #expect(decoded?.grants.map(\.reference) == (0..<1_234).map { "KP-\($0)" })
                #expect(decoded?.currency.rawValue == "EUR")
            }
        }
    }

    @Test func anotherCurrencyIsTheSame() throws {
        let (viaParse, plain) = Self.bothWays(Self.yaml(count: 3_000, currency: "EUR"))
        let manifest = try viaParse.get()
        #expect(manifest == (try plain.get()))
        #expect(manifest.grants.allSatisfy { $0.amount.currency.rawValue == "EUR" })
    }

    @Test(arguments: [false, true])
    func brokenGrantsGiveTheSameProblemsInOrder(roundLast: Bool) {
        let text = Self.yaml(count: 3_000, roundLast: roundLast, currency: "kronor", broken: [0, 499, 500, 1_777, 2_999])
        let (viaParse, plain) = Self.bothWays(text)
        guard case .failure(let parseError) = viaParse, case .failure(let plainError) = plain,
            let found = invalidProblems(parseError), let expected = invalidProblems(plainError)
        else {
            Issue.record("expected invalid input both ways: \(viaParse), \(plain)")
            return
        }
        #expect(found == expected)
        #expect(found.contains { $0.location == "round.currency" })
        #expect(found.contains { $0.location.hasPrefix("grants[2999].") })
        #expect(found.filter { $0.location.hasPrefix("grants[") }.count == 10, "\(found)")
    }
}
