import Foundation
import PGClient
import TestSupport
import Testing

/// `report disbursements` and `report round` read the books by business date: `--from/--to` select the same
/// events in every format, `--as-of` cuts by business date, `--known-at` by recording time.
@Suite("grants-admin time in the books")
struct TimeInTheBooksCommandTests {
    /// The example round 2021:2, its settings, and two tranches due in January 2022 paid in February (one reversed).
    func february(_ cli: CLI) throws {
        #expect(
            try cli.run(["round", "record", CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path]).status == 0)
        let set = try cli.run(["programme", "set", "Kommunala partnerskap", "--iati-publisher-name", "ICLD"])
        #expect(set.status == 0, "\(set.stderr)")
        let list = try cli.run(["disbursement", "list", "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        func id(_ reference: String) throws -> String {
            let row = try #require(rows.first { $0["grant_reference"] as? String == reference && $0["due_on"] as? String == "2022-01-31" })
            return String(describing: try #require(row["disbursement_id"]))
        }
        for (reference, paidOn) in [("KP-2021-2-01", "2022-02-03"), ("KP-2021-2-02", "2022-02-14")] {
            let tranche = try id(reference)
            #expect(try cli.run(["disbursement", "attest", tranche, "--actor", "bertil"]).status == 0)
            let paid = try cli.run([
                "disbursement", "pay", tranche, "--paid-on", paidOn, "--payment-ref", "BG \(reference)", "--actor", "bertil",
            ])
            #expect(paid.status == 0, "\(paid.stderr)")
        }
        let reversed = try cli.run(["disbursement", "reverse", try id("KP-2021-2-02"), "--on", "2022-02-20", "--reason", "Wrong account"])
        #expect(reversed.status == 0, "\(reversed.stderr)")
    }

    /// February 2022 is the same three events in every format: two payments and a reversal, although the
    /// tranches were due in January.
    @Test func februaryIsTheSameEventsInEveryFormat() async throws {
        try await TestGrants.withService { _, configuration in
            var cli = CLI(configuration: configuration)
            cli.environment["SOURCE_DATE_EPOCH"] = "1700000000"
            try february(cli)
            let period = ["report", "disbursements", "--from", "2022-02-01", "--to", "2022-02-28"]
            let csv = try cli.run(period + ["--format", "csv"])
            let lines = csv.stdout.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }
            #expect(lines.count == 3, "\(csv.stdout)")
            #expect(lines.map { $0.components(separatedBy: ",")[11] }.sorted() == ["paid", "paid", "reversal"])
            let json = try cli.run(period + ["--format", "json"])
            #expect((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any])?.count == 3)
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            for accrual in ["off", "on"] {
                let path = folder.appendingPathComponent("bidrag-\(accrual).si").path
                let sie = try cli.run(
                    period + ["--format", "sie", "--accrual", accrual, "--sie-liability-account", "2890", "--output", path])
                #expect(sie.status == 0, "\(sie.stderr)")
                // CP437: the ASCII parts read the same in Latin-1.
                let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)).map { $0 < 0x80 ? $0 : 0x3F }, as: UTF8.self)
                let file = SIEReaderLite(text)
                #expect(file.vouchers == ["20220203", "20220214", "20220220"], "accrual \(accrual): \(text)")
                #expect(text.contains("ref BG KP-2021-2-01"))
                let declared = accrual == "on" ? ["1689", "1930", "2890", "6993"] : ["1930", "6993"]
                #expect(file.accounts == declared, "\(text)")
            }
            let due = try cli.run(period + ["--date-field", "due", "--format", "csv"])
            #expect(due.status == 64 && due.stderr.contains("--date-field is withdrawn"), "\(due.stderr)")
            let rates = folder.appendingPathComponent("rates.csv")
            try Data("date,rate\n2022-02-01,ten\n".utf8).write(to: rates)
            let badRate = try cli.run(period + ["--format", "sie", "--rate", rates.path])
            #expect(badRate.status == 65 && badRate.stderr.contains("--rate \(rates.path): line 2"), "\(badRate.stderr)")
            let status = try cli.run(period + ["--status", "paid", "--format", "sie"])
            #expect(status.status == 65 && status.stderr.contains("status"), "\(status.stderr)")
        }
    }

    /// A round recorded after the fact stands in the books as of its decision; the README's 360Giving export as
    /// of a year end has its grants; `--known-at` gives the same bytes after later events, with that moment as
    /// the generation time.
    @Test func asOfIsABusinessDateAndKnownAtIsReproducible() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            try february(cli)
            let round = try cli.run(["report", "round", "2021:2", "--as-of", "2021-12-31", "--format", "json"])
            let report = try JSONSerialization.jsonObject(with: Data(round.stdout.utf8)) as? [String: Any]
            #expect(report?["awarded"] as? String == "10641000.00", "\(round.stdout) \(round.stderr)")
            #expect(report?["disbursed"] as? String == "0.00", "nothing was paid in 2021")
            let set = try cli.run([
                "programme", "set", "Kommunala partnerskap", "--iati-publisher-ref", "SE-ON-2021004359", "--iati-publisher-type", "10",
                "--funder-ref", "SE-0", "--funder-name", "Sida", "--giving360-prefix", "360G-icld", "--default-sector", "15150",
            ])
            #expect(set.status == 0, "\(set.stderr)")
            let giving = try cli.run(["report", "disbursements", "--format", "360giving", "--as-of", "2022-12-31"])
            #expect(giving.status == 0 && giving.stdout.contains("KP-2021-2-01"), "\(giving.stdout.prefix(300)) \(giving.stderr)")
            let known = ["report", "disbursements", "--as-of", "2022-12-31", "--known-at", "2030-01-01T00:00:00Z"]
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("b.si").path
            #expect(try cli.run(known + ["--format", "sie", "--output", path]).status == 0)
            let gen = String(
                decoding: try Data(contentsOf: URL(fileURLWithPath: path)).prefix(200).map { $0 < 0x80 ? $0 : 0x3F }, as: UTF8.self)
            #expect(gen.contains("#GEN 20300101"), "the known-at moment is the generation time: \(gen)")
            let now = ISO8601DateFormatter().string(from: Date())
            let cut = ["report", "disbursements", "--as-of", "2022-12-31", "--known-at", now, "--format", "csv"]
            let before = try cli.run(cut)
            // Later: a payment dated 2022 (back-dated), recorded after the known-at moment.
            let list = try cli.run(["disbursement", "list", "--format", "json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            let next = try #require(
                rows.first { $0["grant_reference"] as? String == "KP-2021-2-03" && $0["status"] as? String == "scheduled" })
            let tranche = String(describing: try #require(next["disbursement_id"]))
            #expect(try cli.run(["disbursement", "attest", tranche, "--actor", "bertil"]).status == 0)
            #expect(
                try cli.run(["disbursement", "pay", tranche, "--paid-on", "2022-03-01", "--payment-ref", "late", "--actor", "bertil"])
                    .status == 0)
            let after = try cli.run(cut)
            #expect(after.stdout == before.stdout && !after.stdout.contains("late"))
            let books = try cli.run(["report", "disbursements", "--as-of", "2022-12-31", "--format", "csv"])
            #expect(books.stdout.contains(",2022-03-01,paid,") && books.stdout.contains("late"), "as the books stand, it is in")
            let bad = try cli.run(["report", "round", "2021:2", "--known-at", "yesterday"])
            #expect(bad.status == 64, "\(bad.stderr)")
        }
    }
}

/// The parts of an SIE file these tests look at: voucher dates in order and the declared accounts, sorted.
struct SIEReaderLite {
    let vouchers: [String]
    let accounts: [String]

    init(_ text: String) {
        let lines = text.components(separatedBy: "\n")
        vouchers = lines.filter { $0.hasPrefix("#VER ") }.map { $0.components(separatedBy: " ")[3] }
        accounts = lines.filter { $0.hasPrefix("#KONTO ") }.map { $0.components(separatedBy: " ")[1] }.sorted()
    }
}
