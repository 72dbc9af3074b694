import Foundation
import PGClient
import TestSupport
import Testing

/// `period close|open|list` and the business dates of `grant amend|close` and `disbursement cancel`, as a user
/// runs them: finance's login closes, a staff login cannot, an event dated inside a closed period exits 1 with one
/// line naming the period, who closed it and the first open day.
@Suite("grants-admin periods")
struct PeriodCommandTests {
    static var today: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = .current
        return formatter.string(from: Date())
    }

    /// Today in UTC: the day a refusal says a period was closed on.
    static var utcToday: String { String(ISO8601DateFormatter().string(from: Date()).prefix(10)) }

    @Test func financeClosesAndEventsInsideAreRefusedWithOneLine() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let manifest = CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path
            #expect(try cli.run(["round", "record", manifest]).status == 0)
            var financeLogin = configuration
            financeLogin["user"] = "test_finance"
            var finance = CLI(configuration: financeLogin)
            finance.environment["GRANTS_ACTOR"] = "test_finance"
            var staffLogin = configuration
            staffLogin["user"] = "test_staff"
            var staff = CLI(configuration: staffLogin)
            staff.environment["GRANTS_ACTOR"] = "test_staff"

            let refused = try staff.run(["period", "close", "2022"])
            #expect(refused.status == 1 && refused.stderr.contains("not permitted"), "\(refused.stderr)")
            let closed = try finance.run(["period", "close", "2022", "--programme", "Kommunala partnerskap"])
            #expect(closed.status == 0, "\(closed.stderr)")
            #expect(closed.stdout == "Period 2022 of Kommunala partnerskap closed by test_finance\n")

            let listed = try cli.run(["disbursement", "list", "--round", "2021:2", "--format", "json"])
            let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
            let first = try #require(rows.first { $0["grant_reference"] as? String == "KP-2021-2-01" }?["disbursement_id"] as? Int)
            let other = try #require(rows.first { $0["grant_reference"] as? String == "KP-2021-2-02" }?["disbursement_id"] as? Int)
            #expect(try cli.run(["disbursement", "attest", "\(first)", "--actor", "bertil"]).status == 0)

            let line = { (event: String, on: String) in
                "grants-admin: \(event) dated \(on) is in period 2022 of Kommunala partnerskap, closed by test_finance on "
                    + "\(Self.utcToday): date it in the first open period (2023-01-01 or later) and name the event it corrects\n"
            }
            let pay = try cli.run([
                "disbursement", "pay", "\(first)", "--paid-on", "2022-02-01", "--payment-ref", "P-1", "--actor", "bertil",
            ])
            #expect(pay.status == 1 && pay.stderr == line("payment", "2022-02-01"), "\(pay.stderr)")
            let cancel = try cli.run(["disbursement", "cancel", "\(other)", "--reason", "Ended", "--on", "2022-03-01"])
            #expect(cancel.status == 1 && cancel.stderr == line("cancellation", "2022-03-01"), "\(cancel.stderr)")
            let amend = try cli.run(["grant", "amend", "KP-2021-2-01", "--end", "2024-06-30", "--reason", "Delayed", "--on", "2022-05-01"])
            #expect(amend.status == 1 && amend.stderr == line("amendment", "2022-05-01"), "\(amend.stderr)")

            // Checked at the door: exit 65, naming the flag.
            let future = try cli.run(["grant", "amend", "KP-2021-2-01", "--end", "2024-06-30", "--reason", "r", "--on", "2999-01-01"])
            #expect(future.status == 65 && future.stderr.hasPrefix("grants-admin: --on: 2999-01-01 is in the future"), "\(future.stderr)")
            let early = try cli.run(["disbursement", "cancel", "\(other)", "--reason", "r", "--on", "2021-11-30"])
            #expect(
                early.status == 65 && early.stderr.contains("--on: 2021-11-30 is before the grant was decided on 2021-12-01"),
                "\(early.stderr)")
            #expect(
                try cli.run(["grant", "amend", "KP-2021-2-01", "--end", "2024-06-30", "--reason", "r", "--corrects", "x1"]).status == 64)
            #expect(try finance.run(["period", "close", "2022-13"]).status == 65)
            #expect(try finance.run(["period", "open", "2022"]).status == 64, "--reason is required")

            // The correction, dated in the first open period, names what it corrects; --on defaults to today.
            let corrected = try cli.run([
                "grant", "amend", "KP-2021-2-01", "--end", "2024-08-31", "--reason", "The decision's end date was recorded wrong",
                "--corrects", "decision",
            ])
            #expect(corrected.status == 0, "\(corrected.stderr)")
            let show = try cli.run(["grant", "show", "KP-2021-2-01"])
            #expect(
                show.stdout.contains(
                    " on \(Self.today): to 2024-08-31 by tester: The decision's end date was recorded wrong (corrects decision)"),
                "\(show.stdout)")
            let cancelled = try cli.run([
                "disbursement", "cancel", "\(other)", "--reason", "Ended", "--on", "2023-01-05", "--format", "json",
            ])
            #expect(cancelled.status == 0 && cancelled.stdout.contains(#""cancelled_on" : "2023-01-05""#), "\(cancelled.stdout)")

            // Reopened with a reason, the payment goes through; closed again; the list says who, when and why.
            let opened = try finance.run(["period", "open", "2022", "--reason", "The bank booked it late"])
            #expect(
                opened.status == 0
                    && opened.stdout == "Period 2022 of Kommunala partnerskap reopened by test_finance: The bank booked it late\n")
            #expect(
                try cli.run(["disbursement", "pay", "\(first)", "--paid-on", "2022-02-01", "--payment-ref", "P-1", "--actor", "bertil"])
                    .status == 0)
            #expect(try finance.run(["period", "close", "2022"]).status == 0)
            let list = try staff.run(["period", "list", "--format", "json"])
            let periods = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(periods.count == 1)
            #expect(periods.first?["status"] as? String == "closed")
            #expect(periods.first?["reopen_reason"] as? String == "The bank booked it late")
            #expect(periods.first?["closed_by"] as? String == "test_finance")
            let text = try staff.run(["period", "list"])
            #expect(text.stdout.contains("Kommunala partnerskap  2022    closed  test_finance"), "\(text.stdout)")
            let audit = try cli.run(["audit", "list", "--entity", "period"])
            #expect(audit.stdout.components(separatedBy: "period.closed").count == 3 && audit.stdout.contains("period.opened"))
        }
    }

    /// The examples of the commands this adds or dates fit 80 columns, continued with ` \`.
    @Test(arguments: [["period", "close"], ["period", "open"], ["grant", "amend"], ["grant", "close"], ["disbursement", "cancel"]])
    func examplesFit(_ command: [String]) throws {
        let help = try CLI(configuration: nil).run(command + ["--help"]).stdout
        let example = try #require(help.components(separatedBy: "Example").dropFirst().first, "\(help)")
        let lines = example.components(separatedBy: "\n\n")[0].split(separator: "\n").dropFirst()
        #expect(!lines.isEmpty && lines.allSatisfy { $0.count <= 80 }, "\(example)")
    }
}
