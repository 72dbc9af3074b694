import Foundation
import GrantsCore
import GrantsManifests
import TestSeeds
import Testing

/// A seeded mutational fuzzer over the manifest (YAML/JSON), CSV and amount parsers. Every input must end in
/// a manifest or a typed error: a crash fails the run, and so does an untyped error. GRANTS_FUZZ_INPUTS sets
/// the number of inputs (default 100 000), GRANTS_FUZZ_SEED the seed.
@Suite("Fuzzing the parsers")
struct FuzzTests {
    static let inputs = Int(ProcessInfo.processInfo.environment["GRANTS_FUZZ_INPUTS"] ?? "") ?? 100_000
    static let seed = UInt64(ProcessInfo.processInfo.environment["GRANTS_FUZZ_SEED"] ?? "") ?? 0x5EED

    static let yamlSeed = Data(
        """
        programme: Kommunala partnerskap
        round: {name: "2021:2", budget: "10 641 000", decided_on: 2021-12-01}
        themes:
          - {code: citizen-dialogue, name_sv: Medborgardialog, name_en: Citizen dialogue, dac_sector: "15150"}
        grants:
          - reference: KP-1
            title: "Dialog i Växjö"
            applicant: {name: Växjö kommun, org_number: 212000-0662, kind: municipality}
            partners: [{name: Kisumu County, country: KE, kind: region}]
            themes: [citizen-dialogue]
            amount: "950 000"
            period: {start: 2022-01-01, end: 2023-12-31}
            tranches: [{due: 2022-01-31, amount: "475 000"}, {due: 2023-01-31, amount: "475 000"}]
        """.utf8)
    static let jsonSeed = Data(
        """
        {"programme": "P", "round": {"name": "R", "budget": "1 000", "decided_on": "2021-12-01"},
         "grants": [{"reference": "A", "applicant": {"name": "Umeå kommun"}, "partners": [{"name": "X", "country": "KE"}],
           "themes": ["t"], "amount": "1 000", "period": {"start": "2022-01-01", "end": "2022-12-31"}}]}
        """.utf8)
    static let csvSeed = Data(
        #"""
        reference,title,applicant,applicant_org_number,partners,partner_countries,themes,phase,amount,start,end
        KP-1,"Dialog, ""Växjö""",Växjö kommun,212000-0662,Kisumu County|Homa Bay,KE,citizen-dialogue,project,950 000,2022-01-01,2023-12-31

        """#.utf8)
    static let tokens: [[UInt8]] = [
        "&a ", "*a", "[", "]", "{", "}", ":", "- ", "\"", "'", "\\", "\n", "\r\n", "\t", "#", "|", ",", ";", "\0",
        "\u{FEFF}", "1e6", "NaN", "-", "0", ",00", "999999999999999999999", "\u{00A0}", "ö", "\u{202E}", "%YAML 1.1\n", "---\n",
        "!!binary ",
        "? ", "<<: *a\n", "        ", "=SUM(A1)", "'; DROP TABLE grants.grant; --",
    ].map { Array($0.utf8) }

    static func mutate(_ seed: Data, _ random: inout SeededGenerator) -> Data {
        var bytes = Array(seed)
        for _ in 0..<Int.random(in: 1...6, using: &random) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0: if !bytes.isEmpty { bytes[position] = UInt8.random(in: 0...255, using: &random) }
            case 1: if !bytes.isEmpty { bytes.remove(at: position) }
            case 2: bytes.insert(contentsOf: tokens.randomElement(using: &random)!, at: position)
            case 3:
                let length = Int.random(in: 0...min(64, bytes.count - position), using: &random)
                let chunk = bytes[position..<(position + length)]
                bytes.insert(contentsOf: chunk, at: min(bytes.count, position + length))
            case 4: bytes = Array(bytes.prefix(position))
            default: if !bytes.isEmpty { bytes[position] ^= 1 << UInt8.random(in: 0...7, using: &random) }
            }
        }
        return Data(bytes)
    }

    @Test func manifestsCSVAndAmountsNeverCrashAndFailTyped() throws {
        var random = SeededGenerator(state: Self.seed)
        let round = CSVRoundParameters(
            programme: "P", round: "R", budget: Money(minorUnits: 1_000_000_000, currency: .sek), decidedOn: try CalendarDate("2021-12-01"))
        var accepted = 0
        var refused = 0
        let started = ContinuousClock.now
        var slowest: Duration = .zero
        for i in 0..<Self.inputs {
            let kind = i % 10
            let input: Data
            let name: String
            switch kind {
            case 0..<4: (input, name) = (Self.mutate(Self.yamlSeed, &random), "f.yaml")
            case 4..<6: (input, name) = (Self.mutate(Self.jsonSeed, &random), "f.json")
            case 6..<8: (input, name) = (Self.mutate(Self.csvSeed, &random), "f.csv")
            default:
                let text = String(decoding: Self.mutate(Data("1 000,50 kr".utf8), &random), as: UTF8.self)
                do {
                    let value = try AmountParser.parse(text)
                    #expect(value > 0, "seed \(Self.seed) input \(i)")
                    accepted += 1
                } catch {
                    refused += 1
                }
                continue
            }
            let one = ContinuousClock.now
            do {
                let manifest = try RoundManifest.parse(input, fileName: name, csvRound: round)
                #expect(manifest.problems().isEmpty, "seed \(Self.seed) input \(i): a parsed manifest has problems")
                accepted += 1
            } catch {
                // Typed throws: the error is a GrantsError by construction; it must also say where.
                if let problems = invalidProblems(error) {
                    #expect(!problems.isEmpty, "seed \(Self.seed) input \(i)")
                } else {
                    Issue.record("seed \(Self.seed) input \(i): unexpected \(error)")
                }
                refused += 1
            }
            slowest = max(slowest, ContinuousClock.now - one)
        }
        #expect(accepted + refused == Self.inputs)
        #expect(refused > 0 && accepted > 0)
        print(
            "fuzz: \(Self.inputs) inputs (seed \(Self.seed)), \(accepted) accepted, \(refused) refused, 0 crashed, slowest \(slowest), total \(ContinuousClock.now - started)"
        )
    }

    @Test func hostileFilesAreRefusedWithAPlace() throws {
        let cases: [(String, Data)] =
            [
                ("deep.yaml", Data((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8)),
                ("deep.json", Data((String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000)).utf8)),
                (
                    "bomb.yaml",
                    Data(
                        "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                            .utf8)
                ),
                ("nul.yaml", Data("programme: a\u{0}b\n".utf8)),
                ("bad.yaml", Data([0x70, 0x3A, 0x20, 0xFF, 0xFE, 0x0A])),
                ("huge.yaml", Data(count: ManifestLimits.maximumFileSize + 1)),
            ] + Self.tooManyGrants()
        // How fast is for the benchmarks; here, that each is refused with a place, never parsed into a manifest.
        for (name, data) in cases {
            let error = #expect(throws: GrantsError.self, "\(name)") { try RoundManifest.parse(data, fileName: name) }
            guard let problems = invalidProblems(error) else {
                Issue.record("\(name): \(String(describing: error))")
                continue
            }
            #expect(!problems.isEmpty && problems.allSatisfy { !$0.location.isEmpty }, "\(name)")
        }
    }

    /// 100 001 grants written three ways (block YAML, flow YAML, JSON on one line): refused by counting their
    /// references, before the parser builds a node for any of them.
    static func tooManyGrants() -> [(String, Data)] {
        let count = ManifestLimits.maximumGrants + 1
        var block = "programme: P\ngrants:\n"
        var flow = "programme: P\ngrants: ["
        var json = #"{"programme": "P", "grants": ["#
        for i in 0..<count {
            block += "  - reference: KP-\(i)\n    amount: \"1\"\n"
            flow += "{reference: KP-\(i), amount: '1'}, "
            json += #"{"reference": "KP-\#(i)", "amount": "1"},"#
        }
        return [("many.yaml", Data(block.utf8)), ("many-flow.yaml", Data((flow + "]\n").utf8)), ("many.json", Data((json + "{}]}").utf8))]
    }

    @Test func tooManyGrantsAreCountedBeforeParsing() {
        for (name, data) in Self.tooManyGrants() {
            let problems: [Problem]
            do {
                _ = try RoundManifest.parse(data, fileName: name)
                problems = []
            } catch {
                if let found = invalidProblems(error) { problems = found } else { problems = [] }
            }
            #expect(problems.map(\.location) == ["grants"], "\(name)")
            #expect(problems.first?.message.contains("100001 grant references") == true, "\(name): \(problems)")
            #expect(problems.first?.message.contains("nothing was parsed") == true, "\(name)")
        }
    }
}
