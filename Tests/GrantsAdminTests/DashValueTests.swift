import Foundation
import TestSupport
import Testing

/// A value that begins with `-` is still a value where an option expects one (amounts, references, text).
@Suite("grants-admin values beginning with -")
struct DashValueTests {
    static let unreachable = "postgresql:///grants?host=/nonexistent-socket-dir&connect_timeout=2"

    @Test func optionsTakeTheNextWordEvenWithALeadingDash() throws {
        let cli = CLI(configuration: nil)
        // Parsing happens before the database is reached: 69 (unavailable) means the words were taken as values.
        for arguments in [
            ["grant", "amend", "KP-1", "--amount-change", "-60 000", "--reason", "-cut by the board"],
            ["disbursement", "pay", "7", "--paid-on", "2022-02-01", "--payment-ref", "-17"],
            ["conflict", "declare", "--person", "cecilia", "--org", "-Org", "--reason", "-tie"],
            ["org", "add", "--name", "-Name", "--country", "SE"],
        ] {
            let result = try cli.run(arguments + ["--database", Self.unreachable])
            #expect(result.status == 69, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Missing value"), "\(arguments): \(result.stderr)")
        }
    }

    @Test func aNegativeAmendmentAndADashPaymentReferenceAreRecorded() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            #expect(
                try cli.run(["round", "record", CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path]).status == 0)
            let listed = try cli.run(["disbursement", "list", "--round", "2021:2", "--format", "json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
            let row = try #require(rows.first)
            let id = try #require(row["disbursement_id"] as? Int).description
            #expect(try cli.run(["disbursement", "attest", id, "--actor", "bertil"]).status == 0)
            let pay = try cli.run(["disbursement", "pay", id, "--paid-on", "2022-02-01", "--payment-ref", "-17", "--actor", "bertil"])
            #expect(pay.status == 0, "\(pay.stderr)")
            let paid = try cli.run(["disbursement", "list", "--round", "2021:2", "--status", "paid", "--format", "json"])
            #expect(paid.stdout.contains("\"-17\""), "\(paid.stdout)")
            let amend = try cli.run(["grant", "amend", "KP-2021-2-03", "--amount-change", "-60 000", "--reason", "-a smaller budget"])
            #expect(amend.status != 64 && !amend.stderr.contains("Missing value"), "\(amend.stderr)")
        }
    }
}
