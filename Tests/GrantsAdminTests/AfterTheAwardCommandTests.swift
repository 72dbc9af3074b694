import Foundation
import PGClient
import TestSupport
import Testing

@Suite("grants-admin after the award")
struct AfterTheAwardCommandTests {
    /// Dorotea's inception grant (2021:1) and the project grant that continues it (2022:1), with reports and
    /// decision references, record cleanly, and the chain, the reports and the references show.
    @Test func theDoroteaExampleRecordsCleanly() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let project = CLI.examples.appendingPathComponent("kommunala-partnerskap-2022-1.yaml").path
            let early = try cli.run(["round", "record", project])
            #expect(early.status == 65, "the grant it continues is not recorded yet: \(early.stderr)")
            #expect(early.stderr.contains("grants[0].continues"), "\(early.stderr)")
            for file in ["kommunala-partnerskap-2021-1.yaml", "kommunala-partnerskap-2022-1.yaml"] {
                let path = CLI.examples.appendingPathComponent(file).path
                let result = try cli.run(["round", "record", path])
                #expect(result.status == 0 && result.stderr.isEmpty, "\(file): \(result.stderr)")
                #expect(try cli.run(["round", "record", path]).stdout.contains("nothing changed"))
            }
            let chain = try cli.run(["partnership", "show", "KP-2022-1-01", "--format", "json"])
            let partnership = try JSONSerialization.jsonObject(with: Data(chain.stdout.utf8)) as? [String: Any]
            let grants = partnership?["grants"] as? [[String: Any]] ?? []
            #expect(grants.map { $0["reference"] as? String } == ["KP-2021-1-01", "KP-2022-1-01"], "\(chain.stdout)")
            #expect(grants.map { $0["phase"] as? String } == ["inception", "project"])
            #expect(partnership?["awarded"] as? String == "1682000.00")
            let show = try cli.run(["grant", "show", "KP-2022-1-01"])
            #expect(show.stdout.contains("(ICLD 2022/88-1)") && show.stdout.contains("continues  KP-2021-1-01"), "\(show.stdout)")
            #expect(try cli.run(["grant", "show", "KP-2021-1-01"]).stdout.contains("(ICLD 2021/41)"), "the round's default")
            let reports = try cli.run(["requirement", "list", "--round", "2022:1", "--format", "csv"])
            #expect(reports.stdout.hasPrefix("id,programme,round,grant_reference,kind,due_on,before_tranche,status,"), "\(reports.stdout)")
            #expect(reports.stdout.contains(",KP-2022-1-01,interim,2023-08-31,2,due,"))
            let overdue = try cli.run(["requirement", "list", "--overdue", "--as-of", "2023-09-01", "--format", "json"])
            let rows = try JSONSerialization.jsonObject(with: Data(overdue.stdout.utf8)) as? [[String: Any]]
            #expect(rows?.map { $0["kind"] as? String } == ["final", "interim"], "the inception's final report and the interim one")
        }
    }

    @Test func continuesNamesTheFlagAndContactsAreErased() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            for file in ["kommunala-partnerskap-2021-1.yaml", "kommunala-partnerskap-2022-1.yaml"] {
                #expect(try cli.run(["round", "record", CLI.examples.appendingPathComponent(file).path]).status == 0)
            }
            try cli.run(["round", "create", "--programme", "Kommunala partnerskap", "--name", "2023:1", "--budget", "1 000 000"])
            let other = try cli.run([
                "application", "submit", "--round", "2023:1", "--reference", "KP-2023-1-01", "--applicant", "Kalix kommun",
                "--partner", "Lusaka City Council", "--theme", "citizen-dialogue", "--amount", "500 000", "--start", "2023-09-01",
                "--end", "2024-08-31", "--continues", "KP-2022-1-01",
            ])
            #expect(other.status == 65 && other.stderr.contains("--continues"), "\(other.stderr)")

            let added = try cli.run([
                "contact", "add", "--org", "Dorotea kommun", "--name", "Kerstin Nordmark", "--email", "kerstin@dorotea.example",
                "--phone", "+46 940 111 22", "--role", "Coordinator",
            ])
            #expect(added.status == 0, "\(added.stderr)")
            let bad = try cli.run(["contact", "add", "--org", "Dorotea kommun", "--name", "X", "--email", "not an address"])
            #expect(bad.status == 65 && bad.stderr.contains("--email"), "\(bad.stderr)")
            let id = try #require(added.stdout.split(separator: " ").dropFirst().first.map(String.init))
            #expect(try cli.run(["contact", "erase", id, "--reason", "Asked to be erased"]).status == 0)
            let list = try cli.run(["contact", "list", "--org", "Dorotea kommun", "--format", "json"])
            #expect(!list.stdout.contains("Kerstin") && list.stdout.contains("Coordinator"), "\(list.stdout)")
            let audit = try cli.run(["audit", "list", "--entity", "contact", "--format", "json"])
            #expect(!audit.stdout.contains("Kerstin") && !audit.stdout.contains("dorotea.example"), "\(audit.stdout)")
        }
    }
}
