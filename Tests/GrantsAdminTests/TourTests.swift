import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// Today as `YYYY-MM-DD` (UTC), as the CLI takes dates.
enum CalendarDateText {
    static var today: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}

@Suite("grants-admin commands")
struct TourTests {
    @Test func recordApproveScheduleAttestPayExport() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            func ok(_ arguments: [String], actor: String = "anna") throws -> String {
                let result = try cli.run(arguments + ["--actor", actor])
                #expect(result.status == 0, "\(arguments): \(result.stderr)")
                return result.stdout
            }
            // The programme's settings come first: the exports publish under them.
            let set = try ok([
                "programme", "set", "Kommunala partnerskap", "--iati-publisher-ref", "SE-ON-4020000008", "--iati-publisher-name", "ICLD",
                "--iati-publisher-type", "22", "--funder-ref", "SE-0", "--funder-name", "Sida", "--default-sector", "15150",
                "--flow-type", "10", "--finance-type", "110", "--aid-type", "C01", "--collaboration-type", "1", "--accrual", "on",
                "--sie-liability-account", "2890",
            ])
            #expect(set.contains("SE-ON-4020000008"), "\(set)")
            let badCode = try cli.run(["programme", "set", "Kommunala partnerskap", "--flow-type", "99", "--actor", "anna"])
            #expect(badCode.status == 65 && badCode.stderr.contains("--flow-type"), "\(badCode.stderr)")
            _ = try ok([
                "theme", "add", "citizen-dialogue", "--name-sv", "Medborgardialog", "--name-en", "Citizen dialogue", "--dac-sector",
                "15150",
            ])
            _ = try ok(["org", "add", "--name", "Växjö kommun", "--country", "SE", "--org-number", "212000-0662", "--kind", "municipality"])
            _ = try ok(["org", "add", "--name", "Kisumu County", "--country", "KE", "--kind", "region"])
            _ = try ok(["round", "create", "--programme", "Kommunala partnerskap", "--name", "2022:1", "--budget", "1 000 000"])
            _ = try ok([
                "application", "submit", "--round", "2022:1", "--reference", "KP-7", "--applicant", "212000-0662",
                "--partner", "Kisumu County", "--theme", "citizen-dialogue", "--amount", "600 000", "--start", "2022-09-01", "--end",
                "2024-08-31",
            ])
            // Several values after one flag, as DESIGN writes it, and the repeated-flag spelling.
            _ = try ok(["org", "add", "--name", "Homa Bay County", "--country", "KE", "--kind", "region"])
            _ = try ok([
                "application", "submit", "--round", "2022:1", "--reference", "KP-8", "--applicant", "Växjö kommun",
                "--partner", "Kisumu County", "Homa Bay County", "--theme", "citizen-dialogue", "--amount", "1 000",
                "--start", "2022-09-01", "--end", "2023-08-31",
            ])
            let two = try ok(["application", "list", "--format", "json"])
            #expect(two.contains("Homa Bay County"), "\(two)")
            let unmeant = try cli.run(["application", "approve", "KP-7", "--amount", "600 000,01", "--decided-on", "2022-05-20"])
            #expect(unmeant.status == 65)
            #expect(unmeant.stderr.hasPrefix("grants-admin: --above-requested: "), "\(unmeant.stderr)")
            let over = try cli.run([
                "application", "approve", "KP-7", "--amount", "1 000 000,01", "--decided-on", "2022-05-20", "--above-requested",
            ])
            #expect(over.status == 1)
            #expect(over.stderr.contains("budget would be exceeded by 0,01"), "\(over.stderr)")
            _ = try ok([
                "application", "approve", "KP-7", "--amount", "550 000", "--decided-on", "2022-05-20", "--decision-ref", "Beslut 2022:14",
            ])
            let scheduled = try ok(["disbursement", "schedule", "KP-7", "--amount", "275 000", "--due", "2022-09-30"])
            let id = try #require(scheduled.split(separator: " ").dropFirst().first.map(String.init))
            let own = try cli.run(["disbursement", "attest", id, "--actor", "anna"])
            #expect(own.status == 1 && own.stderr.contains("four-eyes"), "\(own.stderr)")
            _ = try ok(["disbursement", "attest", id], actor: "bertil")
            _ = try ok(["disbursement", "pay", id, "--paid-on", "2022-10-01", "--payment-ref", "=HYPERLINK(\"x\")"], actor: "bertil")
            let again = try cli.run(["disbursement", "cancel", id, "--reason", "late", "--actor", "anna"])
            #expect(again.status == 1, "\(again.stderr)")

            // After the payment (README tour): an interim report holds the second tranche back until it is approved.
            let interim = try ok(["requirement", "add", "KP-7", "--kind", "interim", "--due", "2023-06-30", "--before-tranche", "2"])
            let interimID = try #require(interim.split(separator: " ").dropFirst().first.map(String.init))
            let second = try ok(["disbursement", "schedule", "KP-7", "--amount", "275 000", "--due", "2023-09-30"])
            #expect(second.contains("(tranche 2)"), "\(second)")
            let secondID = try #require(second.split(separator: " ").dropFirst().first.map(String.init))
            let held = try cli.run(["disbursement", "attest", secondID, "--actor", "bertil"])
            #expect(
                held.status == 1 && held.stderr.contains("held back") && held.stderr.contains("requirement \(interimID)"), "\(held.stderr)")
            _ = try ok(["requirement", "receive", interimID, "--on", "2023-06-28"])
            _ = try ok(["requirement", "approve", interimID, "--on", "2023-07-05"])
            _ = try ok(["disbursement", "attest", secondID], actor: "bertil")
            _ = try ok(["disbursement", "pay", secondID, "--paid-on", "2023-10-02", "--payment-ref", "BG 5050-1055 / 2"], actor: "bertil")
            // The final account: 510 000 of 550 000 spent, so 40 000 is claimed back.
            let final = try ok(["requirement", "add", "KP-7", "--kind", "final", "--due", "2024-10-31"])
            let finalID = try #require(final.split(separator: " ").dropFirst().first.map(String.init))
            let early = try cli.run(["grant", "close", "KP-7", "--actor", "anna"])
            #expect(early.status == 1 && early.stderr.contains("final report"), "\(early.stderr)")
            _ = try ok(["requirement", "receive", finalID, "--on", "2024-10-20"])
            _ = try ok(["requirement", "approve", finalID, "--on", "2024-10-28"])
            let settled = try ok(["grant", "settle", "KP-7", "--spent", "510 000", "--on", "2024-11-01"])
            #expect(settled.contains("claim 40 000 kr"), "\(settled)")
            #expect(try ok(["grant", "settle", "KP-7", "--spent", "510 000", "--on", "2024-11-01"]) == settled, "a retry")
            let different = try cli.run(["grant", "settle", "KP-7", "--spent", "500 000", "--on", "2024-11-01", "--actor", "anna"])
            #expect(different.status == 1 && different.stderr.contains("spent: recorded"), "\(different.stderr)")
            let open = try cli.run(["grant", "close", "KP-7", "--actor", "anna"])
            #expect(open.status == 1 && open.stderr.contains("claim is open"), "\(open.stderr)")
            let pastClaim = try cli.run([
                "repayment", "receive", "KP-7", "--amount", "40 000,01", "--on", "2024-11-20", "--payment-ref", "X", "--actor", "anna",
            ])
            #expect(pastClaim.status == 1 && pastClaim.stderr.contains("exceed the claim by 0,01"), "\(pastClaim.stderr)")
            _ = try ok(["repayment", "receive", "KP-7", "--amount", "40 000", "--on", "2024-11-20", "--payment-ref", "BG inbet 311"])
            let claims = try ok(["repayment", "list", "--format", "json"])
            #expect(claims.contains("\"repaid\" : \"40000.00\""), "\(claims)")
            #expect(try ok(["repayment", "list", "--open"]).contains("(none)"))
            _ = try ok(["grant", "close", "KP-7"])
            let round = try ok(["report", "round", "2022:1", "--format", "json"])
            let totals = try JSONSerialization.jsonObject(with: Data(round.utf8)) as? [String: Any]
            #expect(totals?["repaid"] as? String == "40000.00" && totals?["claimed_open"] as? String == "0.00", "\(round)")
            #expect(totals?["disbursed"] as? String == "510000.00" && totals?["awarded"] as? String == "550000.00")
            let csv = try ok(["report", "disbursements", "--round", "2022:1", "--format", "csv"])
            #expect(
                csv.hasPrefix(
                    "disbursement_id,programme,round,grant_reference,recipient,recipient_org_number,partners,partner_countries,themes,due_on,paid_on,status,amount,currency,payment_reference\r\n"
                ))
            // Plain CSV is verbatim; only csv-excel guards against formulas.
            #expect(csv.contains(",paid,275000.00,SEK,\"=HYPERLINK(\"\"x\"\")\"\r\n"), "\(csv)")
            let excel = try ok(["report", "disbursements", "--round", "2022:1", "--format", "csv-excel"])
            #expect(excel.contains(";paid;275000,00;SEK;\"'=HYPERLINK(\"\"x\"\")\"\r\n"), "\(excel)")
            // 360Giving needs the registered prefix: refused (65) naming the setting until it is set.
            let noPrefix = try cli.run(["report", "disbursements", "--format", "360giving", "--actor", "anna"])
            #expect(noPrefix.status == 65 && noPrefix.stderr.contains("--giving360-prefix"), "\(noPrefix.stderr)")
            _ = try ok(["programme", "set", "Kommunala partnerskap", "--giving360-prefix", "360G-icld"])
            for format in ["360giving", "iati", "sie", "xlsx", "json"] {
                _ = try ok(["report", "disbursements", "--format", format, "--as-of", CalendarDateText.today])
            }
            let shown = try ok(["programme", "show", "Kommunala partnerskap", "--format", "json"])
            #expect(shown.contains("\"giving360_prefix\" : \"360G-icld\""), "\(shown)")
            #expect(try ok(["programme", "list"]).contains("Kommunala partnerskap"))
            let list = try ok(["disbursement", "list", "--format", "json"])
            let rows = try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]]
            #expect(rows?.first?["grant_reference"] as? String == "KP-7")
            #expect(rows?.first?["amount"] as? String == "275000.00")
            let audit = try ok(["audit", "list", "--entity", "disbursement", "--format", "json"])
            #expect(audit.contains("\"actor\" : \"bertil\""), "\(audit)")
            let show = try ok(["grant", "show", "KP-7"])
            #expect(show.contains("550 000 kr"))
        }
    }

    /// The README's tour, run as written (with `ga` as the built binary) on a fresh database: its commands work
    /// in that order, and the disbursement it attests and pays is the one it scheduled, whatever its id.
    @Test func theReadmeTourRunsAsWritten() async throws {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let tour = try #require(Self.tour(readme), "README.md has no ```sh block under \"## A short tour\"")
        #expect(tour.contains("alias ga="))
        let script = tour.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("alias ga=") ? "ga() { \"$GRANTS_ADMIN\" \"$@\"; }" : String(line)
        }.joined(separator: "\n")
        try await TestGrants.withService { service, configuration in
            let cli = CLI(configuration: configuration)
            let folder = try temporaryFolder("grants-tour")
            defer { try? FileManager.default.removeItem(at: folder) }
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent("Examples"), withDestinationURL: repositoryRoot.appendingPathComponent("Examples"))
            let result = try cli.shell("set -euo pipefail\n\(script)\necho \"tour id=$id\"", in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            let line = try #require(result.stdout.split(separator: "\n").last { $0.hasPrefix("tour id=") })
            let id = try #require(Int64(line.dropFirst("tour id=".count)), "\(line)")
            let paid = try await service.disbursements.get(id)
            #expect(paid.grantReference == "KP-2023-1-01" && paid.status == .paid && paid.attestedBy == "bertil")
            // The example rounds' tranches, recorded first, are untouched: id 1 is one of them.
            let example = try await service.disbursements.list(DisbursementFilter(round: "2021:2"))
            #expect(example.contains { $0.id == 1 } && example.allSatisfy { $0.status == .scheduled })
            for file in [
                "utbetalningar.csv", "utbetalningar.xlsx", "bidrag-2023.si", "utbetalningar-2023.xlsx", "iati.xml", "360giving.json",
            ] {
                let size = (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(file).path))?[.size] as? Int
                #expect((size ?? 0) > 0, "\(file)")
            }
            // As of the end of 2023 the open data has the grants decided by then, recorded today or not.
            let giving = try String(contentsOf: folder.appendingPathComponent("360giving.json"), encoding: .utf8)
            #expect(giving.contains("KP-2023-1-01") && giving.contains("KP-2021-2-01"), "\(giving.prefix(300))")
            // The year end's SIE: the decision and the first payment of 2023, on their own dates.
            let sie = String(
                decoding: try Data(contentsOf: folder.appendingPathComponent("bidrag-2023.si")).map { $0 < 0x80 ? $0 : 0x3F }, as: UTF8.self
            )
            let vouchers = sie.components(separatedBy: "\n").filter { $0.hasPrefix("#VER ") }
            #expect(vouchers.contains { $0.contains(" 20230520 \"Beslut KP-2023-1-01 ") }, "\(vouchers)")
            #expect(vouchers.contains { $0.contains(" 20231002 \"Bidrag KP-2023-1-01 ") && $0.contains("ref BG 5050-1055") }, "\(sie)")
            #expect(vouchers.allSatisfy { $0.contains(" 2023") }, "\(sie)")
            #expect(result.stdout.contains("550 000") && result.stdout.contains("275 000"), "the round at the end of 2023")
        }
    }

    /// The first ```sh block of the README's "A short tour".
    static func tour(_ readme: String) -> String? {
        guard let section = readme.range(of: "## A short tour") else { return nil }
        let rest = readme[section.upperBound...]
        guard let open = rest.range(of: "```sh\n"), let close = rest[open.upperBound...].range(of: "\n```") else { return nil }
        return String(rest[open.upperBound..<close.lowerBound])
    }

    @Test func usageAndUnavailableDatabaseExitCodes() async throws {
        let cli = CLI(configuration: nil)
        #expect(try cli.run(["round", "frobnicate"]).status == 64)
        #expect(
            try cli.run([
                "round", "create", "--programme", "P", "--name", "R", "--budget", "1,000", "--database",
                "postgresql:///x?host=/nonexistent",
            ]).status == 64)
        let down = try cli.run(["round", "list", "--database", "postgresql:///grants?host=/nonexistent-socket-dir&connect_timeout=2"])
        #expect(down.status == 69, "\(down.stderr)")
        #expect(down.stderr.split(separator: "\n").count == 1, "\(down.stderr)")
        #expect(try cli.run(["--help"]).status == 0)
    }

    @Test func theEmbeddedDefaultIsCreatedStartedAndReused() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("grants-home-\(UUID().uuidString.prefix(8))")
        var cli = CLI(configuration: nil)
        cli.environment = ["GRANTS_HOME": home.path]
        defer {
            _ = try? cli.run(["local", "stop"])
            try? FileManager.default.removeItem(at: home)
        }
        let first = try cli.run(["round", "record", CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("embedded PostgreSQL") && first.stderr.contains("created and started"), "\(first.stderr)")
        #expect(first.stderr.split(separator: "\n").count == 1)
        let status = try cli.run(["local", "status"])
        #expect(status.status == 0 && status.stdout.contains("running"))
        // The URL it prints reaches the same database (what a service sharing it is configured with).
        let url = try #require(status.stdout.split(separator: "\n").first { $0.hasPrefix("url: ") }?.dropFirst(5))
        let shared = try PGConnection(configuration: try PGConfiguration(url: String(url)))
        #expect(try shared.query("SELECT count(*)::int8 FROM grants.grant")[0].decode(Int64.self, column: 0) == 11)
        let second = try cli.run(["round", "show", "2021:2", "--format", "json"])
        #expect(second.status == 0)
        #expect(!second.stderr.contains("created"))
        #expect(try cli.run(["local", "stop"]).status == 0)
        #expect(try cli.run(["local", "status"]).status == 3)
        #expect(try cli.run(["round", "list"]).status == 0, "started again on use")
    }
}
