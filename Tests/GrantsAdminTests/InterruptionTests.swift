import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// Ctrl-C (SIGINT) and SIGTERM, sent to the built `grants-admin` while it works: it stops, rolls back, leaves no
/// temporary file, and exits 130 or 143 with one line on stderr.
///
/// Each signal lands while the command is demonstrably mid-way, judged by what can be seen, never by a clock or by
/// catching a moment: the command is held inside its work by a lock another session holds (an export's query waits
/// for the disbursement table, a record's new tranches for theirs), and the lock is kept until the command has
/// gone, so only its own cancel can have stopped the server's side.
@Suite("grants-admin on SIGINT and SIGTERM")
struct InterruptionTests {
    /// A round of `grants` grants with 12 tranches each: 12 × `grants` disbursement rows to export.
    static func largeRound(_ service: GrantsService, grants: Int) async throws {
        func day(_ text: String) throws -> CalendarDate { try CalendarDate(text) }
        let tranche = Money(minorUnits: 1_000_000, currency: .sek)
        let dues = try (1...12).map { try day(String(format: "2022-%02d-28", $0)) }
        let (start, end) = (try day("2022-01-01"), try day("2023-12-31"))
        let list = (0..<grants).map { i in
            ManifestGrant(
                reference: "SIG-\(i + 1)", title: "Partnerskap \(i + 1)",
                applicant: NewOrganisation(name: "Kommun \(i + 1)", country: "SE", kind: .municipality),
                partners: [NewOrganisation(name: "Partner County \(i % 50)", country: "KE", kind: .region)],
                themes: ["citizen-dialogue"], amount: Money(minorUnits: 12 * tranche.minorUnits, currency: .sek),
                startsOn: start, endsOn: end,
                tranches: dues.map { Tranche(dueOn: $0, amount: tranche) },
                location: ManifestLocation(base: "grants[\(i)]", style: .path))
        }
        let manifest = RoundManifest(
            programme: "Kommunala partnerskap",
            round: NewRound(
                programme: "Kommunala partnerskap", name: "2021:9",
                budget: Money(minorUnits: Int64(grants) * 12 * tranche.minorUnits, currency: .sek), decidedOn: try day("2021-12-01")),
            themes: [Theme(code: "citizen-dialogue", nameSv: "Medborgardialog", nameEn: "Citizen dialogue", dacSector: "15150")],
            grants: list)
        try await service.rounds.record(manifest, actor: "anna")
    }

    /// Polls `condition` until it holds; a test that never sees it fails instead of hanging.
    static func waitUntil(_ what: String, _ condition: () throws -> Bool) async throws {
        for _ in 0..<6000 {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("never saw: \(what)")
        throw CancellationError()
    }

    static func entries(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    @Test(arguments: [("csv", SIGINT), ("xlsx", SIGTERM), ("csv", SIGTERM), ("xlsx", SIGINT)])
    func anExportStopsLeavesNoFileAndExits(format: String, signal: Int32) async throws {
        try await TestGrants.withService { service, configuration in
            try await Self.largeRound(service, grants: 500)
            let folder = try temporaryFolder("grants-signal-out")
            // The CLI's own temporary folder (TMPDIR), so files of other tests running at the same time are never
            // mistaken for its own: it must be left empty.
            let scratch = try temporaryFolder("grants-signal-tmp")
            defer {
                try? FileManager.default.removeItem(at: folder)
                try? FileManager.default.removeItem(at: scratch)
            }
            // The export's query waits behind this lock: the output's temporary file is open, the server is running
            // the query, and nothing is finished until the command is stopped.
            let holder = try PGConnection(configuration: configuration)
            try holder.execute(unsafeScript: "BEGIN; LOCK TABLE grants.disbursement IN ACCESS EXCLUSIVE MODE")
            var cli = CLI(configuration: configuration)
            cli.environment["TMPDIR"] = scratch.path
            let output = folder.appendingPathComponent("utbetalningar.\(format)").path
            let running = try cli.start(["report", "disbursements", "--format", format, "--output", output])
            let monitor = try PGConnection(configuration: configuration)
            func temporaryOutput() -> String? {
                Self.entries(folder).first { $0.hasPrefix(".utbetalningar.\(format).\(running.pid).") && $0.hasSuffix(".tmp") }
            }
            func working() throws -> Bool { try temporaryOutput() != nil && Self.waitingOnALock(monitor) }
            do {
                try await Self.waitUntil("the export at work") { try working() }
            } catch {
                kill(running.pid, SIGKILL)
                _ = try await running.wait()
                try holder.execute(unsafeScript: "ROLLBACK")
                throw error
            }
            kill(running.pid, signal)
            // The lock is held until the command has gone and its query has left the queue: a query the command
            // failed to cancel would wait here for as long as the lock is held.
            let result = try await running.wait(limit: .seconds(120))
            try await Self.waitUntil("the export's query cancelled on the server") { try !Self.waitingOnALock(monitor) }
            try holder.execute(unsafeScript: "ROLLBACK")

            #expect(result.status == 128 + signal, "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "one line on stderr: \(result.stderr)")
            #expect(lines.first?.hasPrefix("grants-admin: interrupted by \(signal == SIGINT ? "SIGINT" : "SIGTERM")") == true)
            #expect(result.stdout.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: output), "no output file")
            #expect(Self.entries(folder).isEmpty, "no temporary file beside the output: \(Self.entries(folder))")
            #expect(Self.entries(scratch).isEmpty, "no temporary file in TMPDIR: \(Self.entries(scratch))")
        }
    }

    /// Whether a backend of this database is waiting for a lock while inside a statement.
    static func waitingOnALock(_ monitor: PGConnection) throws -> Bool {
        try monitor.query(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND state = 'active' AND wait_event_type = 'Lock'
            """)[0].decode(Int64.self, column: 0) > 0
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aRecordStoppedMidwayWritesNothing(signal: Int32) async throws {
        try await TestGrants.withService { _, configuration in
            let before = try tableCounts(configuration)
            // New tranches wait behind this lock, so the record is held inside its transaction after it has written
            // its organisations, round and grants: the signal finds it with uncommitted rows.
            let holder = try PGConnection(configuration: configuration)
            try holder.execute(unsafeScript: "BEGIN; LOCK TABLE grants.disbursement IN SHARE MODE")
            let monitor = try PGConnection(configuration: configuration)
            let running = try CLI(configuration: configuration).start([
                "round", "record", CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path,
            ])
            do {
                try await Self.waitUntil("the record waiting with uncommitted writes") {
                    try monitor.query(
                        """
                        SELECT count(*) FROM pg_stat_activity
                        WHERE datname = current_database() AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL
                        """)[0].decode(Int64.self, column: 0) > 0
                }
            } catch {
                kill(running.pid, SIGKILL)
                _ = try await running.wait()
                try holder.execute(unsafeScript: "ROLLBACK")
                throw error
            }
            kill(running.pid, signal)
            // The lock is held until the CLI has gone: only the cancel can have stopped it.
            let result = try await running.wait(limit: .seconds(120))
            try holder.execute(unsafeScript: "ROLLBACK")
            #expect(result.status == 128 + signal, "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stdout.isEmpty)
            #expect(try tableCounts(configuration) == before, "nothing written")
        }
    }
}
