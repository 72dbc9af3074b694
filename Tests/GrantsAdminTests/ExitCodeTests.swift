import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// The exit codes of DESIGN §6 for the cases that used to come out otherwise.
@Suite("grants-admin exit codes")
struct ExitCodeTests {
    static let unreachable = "postgresql:///grants?host=/nonexistent-socket-dir&connect_timeout=2"

    @Test func aMalformedDatabaseURLIsUsage() throws {
        let cli = CLI(configuration: nil)
        for url in ["notaurl", "postgres://[bad", "postgres://host:notaport/db", "postgresql:///x?sslmode=bogus", "postgresql:///x?port=0"]
        {
            let result = try cli.run(["round", "list", "--database", url])
            #expect(result.status == 64, "\(url): \(result.stderr)")
            #expect(result.stderr.hasPrefix("grants-admin: --database: invalid database URL"), "\(url): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        var fromEnvironment = CLI(configuration: nil)
        fromEnvironment.environment = ["GRANTS_DATABASE_URL": "postgres://[bad"]
        let result = try fromEnvironment.run(["round", "list"])
        #expect(result.status == 64 && result.stderr.contains("GRANTS_DATABASE_URL"), "\(result.stderr)")
        // A well-formed URL to a server that is not there is still "unavailable".
        #expect(try cli.run(["round", "list", "--database", Self.unreachable]).status == 69)
    }

    @Test func anUnknownFlagIsReportedBeforeTheCommandsOwnChecks() throws {
        let cli = CLI(configuration: nil)
        let amend = try cli.run(["grant", "amend", "KP-1", "--amuont-change", "+1 000", "--reason", "r", "--database", Self.unreachable])
        #expect(amend.status == 64)
        #expect(amend.stderr.contains("Unknown option '--amuont-change'"), "\(amend.stderr)")
        #expect(!amend.stderr.contains("give --amount-change or --end"), "\(amend.stderr)")
        // Without an unknown flag the command's own check still speaks.
        let missing = try cli.run(["grant", "amend", "KP-1", "--reason", "r", "--database", Self.unreachable])
        #expect(missing.status == 64 && missing.stderr.contains("give --amount-change or --end"), "\(missing.stderr)")
        // Without --partner the command's check would say one is required; the unknown flag comes first.
        let submit = try cli.run([
            "application", "submit", "--round", "R", "--reference", "A", "--applicant", "X", "--amount", "1", "--start", "2022-01-01",
            "--end", "2022-12-31", "--frob", "--database", Self.unreachable,
        ])
        #expect(submit.status == 64 && submit.stderr.contains("Unknown option '--frob'"), "\(submit.stderr)")
    }

    @Test func anUnmigratedOrNewerDatabaseIsUnavailableWithWhatToRun() async throws {
        try await TestServer.withDatabase { configuration in
            let cli = CLI(configuration: configuration)
            for arguments in [
                ["round", "list"], ["report", "disbursements", "--format", "csv"],
                ["theme", "add", "x", "--name-sv", "a", "--name-en", "b"],
            ] {
                let result = try cli.run(arguments)
                #expect(result.status == 69, "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("run `grants-admin db migrate`"), "\(result.stderr)")
                #expect(result.stdout.isEmpty && result.stderr.split(separator: "\n").count == 1, "\(result.stdout)\(result.stderr)")
            }
            #expect(try cli.run(["db", "migrate"]).status == 0)
            #expect(try cli.run(["round", "list"]).status == 0)
            let connection = try PGConnection(configuration: configuration)
            try connection.execute("INSERT INTO grants.schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')")
            let newer = try cli.run(["round", "list"])
            #expect(newer.status == 69, "\(newer.stderr)")
            #expect(newer.stderr.contains("newer version") && newer.stderr.contains("upgrade grants-admin"), "\(newer.stderr)")
            #expect(try cli.run(["db", "status"]).stdout.contains("unknown"))
        }
    }

    @Test func aFilterNamingNothingRecordedIsInvalidInput() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            #expect(
                try cli.run(["round", "record", CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path]).status == 0)
            let round = try cli.run(["report", "disbursements", "--round", "NOPE", "--format", "csv"])
            #expect(round.status == 65, "\(round.stderr)")
            #expect(round.stderr == "grants-admin: --round: no round NOPE is recorded\n", "\(round.stderr)")
            #expect(round.stdout.isEmpty, "not even a header: \(round.stdout)")
            let programme = try cli.run(["report", "disbursements", "--programme", "Nope", "--format", "iati"])
            #expect(programme.status == 65 && programme.stderr.contains("--programme: no programme Nope"), "\(programme.stderr)")
            #expect(try cli.run(["grant", "list", "--round", "NOPE"]).status == 65)
            #expect(try cli.run(["disbursement", "list", "--round", "NOPE", "--format", "json"]).status == 65)
            let empty = try cli.run(["report", "disbursements", "--round", "2021:2", "--status", "paid", "--format", "csv"])
            #expect(empty.status == 0 && empty.stdout.hasPrefix("disbursement_id,"), "a round that exists, with nothing to show")
        }
    }

    @Test func aSecondReversalWithAnotherDateOrReasonIsRefused() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            #expect(
                try cli.run(["round", "record", CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path]).status == 0)
            let listed = try cli.run(["disbursement", "list", "--round", "2021:2", "--format", "json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
            let id = try #require(rows.first?["disbursement_id"] as? Int).description
            #expect(try cli.run(["disbursement", "attest", id, "--actor", "bertil"]).status == 0)
            #expect(
                try cli.run(["disbursement", "pay", id, "--paid-on", "2022-02-01", "--payment-ref", "P", "--actor", "bertil"]).status == 0)
            let first = try cli.run(["disbursement", "reverse", id, "--on", "2022-02-10", "--reason", "Wrong account"])
            #expect(first.status == 0, "\(first.stderr)")
            let retry = try cli.run(["disbursement", "reverse", id, "--on", "2022-02-10", "--reason", "Wrong account"])
            #expect(retry.status == 0 && retry.stdout == first.stdout, "\(retry.stderr)")
            let other = try cli.run(["disbursement", "reverse", id, "--on", "2022-02-11", "--reason", "Another reason"])
            #expect(other.status == 1, "\(other.stderr)")
            #expect(other.stderr.contains("--on: recorded 2022-02-10, given 2022-02-11"), "\(other.stderr)")
            #expect(other.stderr.contains("--reason: recorded Wrong account, given Another reason"), "\(other.stderr)")
        }
    }

    @Test func valuesAtTheDoorNameTheirFlag() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let before = try tableCounts(configuration)
            let country = try cli.run(["org", "add", "--name", "Nowhere", "--country", "XX"])
            #expect(country.status == 65 && country.stderr.hasPrefix("grants-admin: --country: \"XX\""), "\(country.stderr)")
            let bar = try cli.run(["org", "add", "--name", "Kisumu | Homa Bay", "--country", "KE"])
            #expect(bar.status == 65 && bar.stderr.hasPrefix("grants-admin: --name: "), "\(bar.stderr)")
            let sector = try cli.run(["theme", "add", "t", "--name-sv", "a", "--name-en", "b", "--dac-sector", "15120"])
            #expect(
                sector.status == 65 && sector.stderr.contains("--dac-sector: 15120") && sector.stderr.contains("withdrawn"),
                "\(sector.stderr)")
            let future = CSVManifest.future
            let file = try temporaryFile("future.csv", Data(future.utf8))
            let csv = try cli.run([
                "round", "record", file.path, "--programme", "P", "--round", "R", "--budget", "1 000", "--decided-on", "2999-01-01",
            ])
            #expect(csv.status == 65 && csv.stderr.contains("--decided-on: 2999-01-01 is in the future"), "\(csv.stderr)")
            #expect(try tableCounts(configuration) == before)
        }
    }

    enum CSVManifest {
        static let future = """
            reference,applicant,partners,partner_countries,themes,amount,start,end
            KP-1,Växjö kommun,Kisumu County,KE,citizen-dialogue,100,2022-01-01,2022-12-31
            """
    }

    /// As root the server runs as `postgres`, which cannot reach a folder only root may enter; as a user,
    /// a folder nobody may enter. Either way: one clear line, exit 69, and no folder left behind.
    @Test func aGrantsHomeTheServerCannotReachFailsCleanly() throws {
        let parent = try temporaryFolder("grants-locked")
        defer {
            chmod(parent.path, 0o755)
            try? FileManager.default.removeItem(at: parent)
        }
        #expect(chmod(parent.path, 0o000) == 0)
        var cli = CLI(configuration: nil)
        let home = parent.appendingPathComponent("home/nested")
        cli.environment = ["GRANTS_HOME": home.path]
        let result = try cli.run(["round", "list"])
        #expect(result.status == 69, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(home.path) && !result.stderr.contains("checksums"), "\(result.stderr)")
        #expect(chmod(parent.path, 0o755) == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).isEmpty, "nothing left behind")
    }
}
