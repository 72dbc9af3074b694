import Foundation
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
                "programme", "set", "Kommunala partnerskap", "--iati-publisher-ref", "SE-ON-2120000142", "--iati-publisher-name", "ICLD",
                "--iati-publisher-type", "10", "--funder-ref", "SE-0", "--funder-name", "Sida", "--default-sector", "15150",
                "--flow-type", "10", "--finance-type", "110", "--aid-type", "C01", "--collaboration-type", "1", "--accrual", "on",
                "--sie-liability-account", "2890",
            ])
            #expect(set.contains("SE-ON-2120000142"), "\(set)")
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
            let over = try cli.run(["application", "approve", "KP-7", "--amount", "1 000 000,01", "--decided-on", "2022-05-20"])
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
