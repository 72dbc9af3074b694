import Foundation
import PGClient
import TestSupport
import Testing

/// grants-admin with --replica, as separate processes: what a report sees right after another process wrote, and
/// what happens when the standby lags, is down, or the primary is. Stopping and pausing servers happens on private
/// primary + standby pairs, since other tests read through the shared standby meanwhile.
@Suite("grants-admin with a replica")
struct ReplicaCommandTests {
    static let manifest = CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path

    @Test func aReportRightAfterARecordInAnotherProcessEqualsThePrimarys() async throws {
        try await TestGrants.withService { _, configuration in
            let standby = try TestStandby.configuration(database: configuration["dbname"] ?? "")
            try await TestStandby.waitForDatabase(standby)
            let cli = CLI(configuration: configuration)
            let recorded = try cli.run(["round", "record", Self.manifest, "--actor", "anna"])
            try #require(recorded.status == 0, "\(recorded.stderr)")
            for arguments in [
                ["report", "disbursements", "--format", "csv"], ["report", "disbursements", "--format", "json"],
                ["report", "round", "2021:2", "--format", "json"], ["grant", "list", "--format", "json"],
            ] {
                // At once, in a new process: the standby must have replayed the record first.
                let fromStandby = try cli.run(arguments + ["--replica", CLI.url(standby)])
                let fromPrimary = try cli.run(arguments)
                #expect(fromStandby.status == 0 && fromPrimary.status == 0, "\(fromStandby.stderr) \(fromPrimary.stderr)")
                #expect(fromStandby.stdout == fromPrimary.stdout, "\(arguments)")
                #expect(fromStandby.stdout.contains("2021:2"), "\(arguments)")
                // Nothing on stderr: the standby answered. (On a machine too loaded for it to replay within the wait
                // limit, the primary answers instead and says so; the bytes are the same either way.)
                #expect(
                    fromStandby.stderr == ""
                        || fromStandby.stderr.hasPrefix("grants-admin: read from the primary: the standby had not replayed"),
                    "\(arguments): \(fromStandby.stderr)")
            }
            let status = try cli.run(["db", "status", "--replica", CLI.url(standby)])
            #expect(status.status == 0)
            #expect(status.stdout.contains("schema version: "), "\(status.stdout)")
            #expect(status.stdout.contains("replica: standby, replay lag "), "\(status.stdout)")
        }
    }

    @Test func lagADownStandbyAndADownPrimary() async throws {
        try await TestStandby.withPrivatePair { pair in
            var cli = CLI(configuration: pair.primary)
            cli.environment["GRANTS_REPLICA_URL"] = CLI.url(pair.standby)
            func run(_ arguments: [String]) throws -> CLI.Result { try cli.run(arguments) }
            try #require(try run(["db", "migrate"]).status == 0)
            try #require(try run(["person", "add", "tester", "--name", "Tester"]).status == 0)
            try #require(try run(["round", "record", Self.manifest]).status == 0)
            var primaryOnly = cli
            primaryOnly.environment["GRANTS_REPLICA_URL"] = ""
            let export = ["report", "disbursements", "--format", "csv"]
            let baseline = try primaryOnly.run(export)
            try #require(baseline.status == 0 && baseline.stdout.contains("2021:2"))
            let caughtUp = try run(export)
            #expect(caughtUp.stdout == baseline.stdout && caughtUp.stderr == "", "\(caughtUp.stderr)")

            // Replay paused past the limit: the reads go to the primary, complete, and say so.
            let standby = try PGConnection(configuration: pair.standby)
            try standby.execute("SELECT pg_wal_replay_pause()")
            try #require(
                try run(["round", "create", "--programme", "Kommunala partnerskap", "--name", "2099:1", "--budget", "1 000"]).status == 0)
            let lagging = try run(export + ["--replica-wait", "0.3"])
            #expect(lagging.status == 0 && lagging.stdout == baseline.stdout)
            #expect(lagging.stderr.contains("read from the primary: the standby had not replayed"), "\(lagging.stderr)")
            let rounds = try run(["round", "list", "--replica-wait", "0.3"])
            #expect(rounds.status == 0 && rounds.stdout.contains("2099:1"), "\(rounds.stdout)")
            let status = try run(["db", "status"])
            #expect(status.stdout.contains("replay paused"), "\(status.stdout)")
            try standby.execute("SELECT pg_wal_replay_resume()")

            // The standby down: the same, never an error.
            try #require(try pair.script("replica-stop").status == 0)
            let down = try run(export)
            #expect(down.status == 0 && down.stdout == baseline.stdout)
            #expect(down.stderr.contains("read from the primary: the standby cannot be reached"), "\(down.stderr)")
            #expect(try run(["db", "status"]).stdout.contains("replica: unreachable"))

            // The primary down, the standby up: an error (69) unless stale reads are allowed, which say how stale.
            try #require(try pair.script("replica-start").status == 0)
            for _ in 0..<200 where try run(export + ["--replica-wait", "0.2"]).stderr != "" { try await Task.sleep(for: .milliseconds(50)) }
            try #require(try pair.script("stop").status == 0)
            try pair.script("replica-start")  // waits for streaming, which never comes: it says so and starts anyway
            let refused = try run(["round", "list"])
            #expect(refused.status == 69, "\(refused.stderr)")
            let stale = try run(["round", "list", "--allow-stale"])
            #expect(stale.status == 0 && stale.stdout.contains("2099:1"), "\(stale.stderr)")
            #expect(stale.stderr.contains("the primary cannot be reached: read from the standby, which may be up to"), "\(stale.stderr)")
            let staleExport = try run(export + ["--allow-stale"])
            #expect(staleExport.status == 0 && staleExport.stdout == baseline.stdout, "\(staleExport.stderr)")
        }
    }
}
