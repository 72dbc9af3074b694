import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("grants-admin payments")
struct PaymentCommandTests {
    /// Four-eyes on a payee account through the CLI, then a batch to a file that the official schema accepts.
    @Test func accountsAndABatchThroughTheCLI() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let path = CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path
            #expect(try cli.run(["round", "record", path, "--actor", "anna"]).status == 0)
            let bad = try cli.run([
                "org", "account", "set", "Växjö kommun", "--bankgiro", "5050-1056", "--reason", "Letter", "--actor", "anna",
            ])
            #expect(bad.status == 65 && bad.stderr.contains("check digit"), "\(bad.stderr)")
            let set = try cli.run([
                "org", "account", "set", "Växjö kommun", "--bankgiro", "5050-1055", "--reason", "Letter", "--actor", "anna",
            ])
            #expect(set.status == 0 && set.stdout.contains("not verified"), "\(set.stdout)\(set.stderr)")
            let same = try cli.run(["org", "account", "verify", "Växjö kommun", "--actor", "anna"])
            #expect(same.status == 1 && same.stderr.contains("four-eyes"), "\(same.stderr)")
            let verified = try cli.run(["org", "account", "verify", "Växjö kommun", "--actor", "bertil"])
            #expect(verified.status == 0 && verified.stdout.contains("verified by bertil"), "\(verified.stdout)\(verified.stderr)")
            #expect(try cli.run(["org", "account", "history", "Växjö kommun"]).stdout.contains("Bankgiro 5050-1055"))
            let settings = try cli.run([
                "programme", "set", "Kommunala partnerskap", "--debtor-name", "ICLD", "--debtor-bankgiro", "991-2346", "--actor", "anna",
            ])
            #expect(settings.status == 0, "\(settings.stderr)")

            // The round's first tranche to Växjö kommun, as recorded from the manifest.
            let first = try PGConnection(configuration: configuration).query(
                """
                SELECT d.id FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id
                  JOIN grants.application a ON a.id = g.application_id JOIN grants.organisation o ON o.id = a.applicant_id
                 WHERE o.name = 'Växjö kommun' ORDER BY d.due_on, d.id LIMIT 1
                """)
            let id = try first[0].decode(Int64.self, column: 0)
            #expect(try cli.run(["disbursement", "attest", String(id), "--actor", "bertil"]).status == 0)
            let folder = try temporaryFolder()
            let file = folder.appendingPathComponent("batch.xml").path
            let nextWeek = try CalendarDate(daysSinceEpoch: CalendarDate.today.daysSinceEpoch + 7).iso
            let created = try cli.run([
                "payment", "batch", "create", "--programme", "Kommunala partnerskap", "--due-by", "2022-12-31", "--execution-date",
                nextWeek,
                "--output", file, "--actor", "cecilia",
            ])
            #expect(created.status == 0 && created.stdout.contains("Payment batch 1"), "\(created.stdout)\(created.stderr)")
            let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("GrantsTests/Fixtures/standards/iso20022/pain.001.001.03.xsd")
            let valid = try runTool(["xmllint", "--nonet", "--noout", "--schema", schema.path, file])
            #expect(valid.status == 0, "\(valid.output)")
            let again = folder.appendingPathComponent("again.xml").path
            #expect(try cli.run(["payment", "batch", "export", "1", "--output", again]).status == 0)
            #expect(FileManager.default.contents(atPath: again) == FileManager.default.contents(atPath: file))
            #expect(try cli.run(["payment", "batch", "show", "1"]).stdout.contains("GRANTS-D\(id)"))
            // With the bank, the tranche is not paid by hand.
            let byHand = try cli.run([
                "disbursement", "pay", String(id), "--paid-on", "2022-02-01", "--payment-ref", "P-1", "--actor", "david",
            ])
            #expect(byHand.status == 1 && byHand.stderr.contains("payment batch 1"), "\(byHand.stdout)\(byHand.stderr)")
            #expect(byHand.stderr.contains("withdraw the batch") && byHand.stderr.contains("wait for the bank's notification"))
            let withdrawn = try cli.run(["payment", "batch", "withdraw", "1", "--reason", "Wrong date", "--actor", "cecilia"])
            #expect(withdrawn.status == 0 && withdrawn.stdout.contains("withdrawn"), "\(withdrawn.stdout)\(withdrawn.stderr)")
        }
    }
}

extension PaymentCommandTests {
    /// The README's "Paying through the bank", run as written after its tour on a fresh database.
    @Test func theReadmeBankExampleRunsAsWritten() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let tour = try #require(TourTests.tour(readme))
        let section = try #require(readme.range(of: "## Paying through the bank"))
        let rest = readme[section.upperBound...]
        let open = try #require(rest.range(of: "```sh\n"))
        let close = try #require(rest[open.upperBound...].range(of: "\n```"))
        let script = (tour + "\n" + rest[open.upperBound..<close.lowerBound]).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("alias ga=") ? "ga() { \"$GRANTS_ADMIN\" \"$@\"; }" : String($0) }.joined(separator: "\n")
        try await TestGrants.withService { service, configuration in
            let cli = CLI(configuration: configuration)
            let folder = try temporaryFolder("grants-bank")
            defer { try? FileManager.default.removeItem(at: folder) }
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent("Examples"), withDestinationURL: root.appendingPathComponent("Examples"))
            let result = try cli.shell("set -euo pipefail\n\(script)\necho \"tranche=$tranche\"", in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("refused (exit 1): whoever sets an account does not verify it"), "\(result.stdout)")
            let batch = try await service.paymentBatches.get(1)
            #expect(batch.status == "withdrawn" && batch.items.map(\.grantReference) == ["KP-2023-1-02"])
            let schema = root.appendingPathComponent("Tests/GrantsTests/Fixtures/standards/iso20022/pain.001.001.03.xsd")
            let valid = try runTool([
                "xmllint", "--nonet", "--noout", "--schema", schema.path, folder.appendingPathComponent("betalningar.xml").path,
            ])
            #expect(valid.status == 0, "\(valid.output)")
        }
    }
}
