import Foundation
import InMemoryTracing
import MetricsTestKit
import PGClient
import Synchronization
import TestSupport
import Testing

@testable import Grants

/// Reads through the shared hot standby of the test server, with metrics and spans into the test's own
/// backends (no global bootstrap). Counts and names only, never timings. Tests that stop or pause a server use
/// private pairs (GrantsAdminTests' ReplicaCommandTests), since other tests read through this standby meanwhile.
@Suite("Replica reads")
struct ReplicaTests {
    struct Setup {
        let service: GrantsService
        let metrics: TestMetrics
        let tracer: InMemoryTracer
        let notices: Notices
        let primary: PGConfiguration
    }

    final class Notices: Sendable {
        let list = Mutex<[ReplicaNotice]>([])
    }

    enum Replica {
        case sharedStandby
        /// The test's own database on the primary: a server that is not in recovery.
        case primary
        case other(PGConfiguration)
    }

    /// A service on a fresh database with the replica chosen (by default the shared standby's copy of it).
    func withReplica(_ choice: Replica = .sharedStandby, _ body: (Setup) async throws -> Void) async throws {
        try await TestGrants.withService { _, primary in
            let replica: PGConfiguration
            switch choice {
            case .sharedStandby:
                replica = try TestStandby.configuration(database: primary["dbname"] ?? "")
                try await TestStandby.waitForDatabase(replica)
            case .primary: replica = primary
            case .other(let configuration): replica = configuration
            }
            let metrics = TestMetrics()
            let tracer = InMemoryTracer()
            let notices = Notices()
            var configuration = GrantsConfiguration(database: primary, replica: replica, poolSize: 2, replicaWaitLimit: .seconds(20))
            configuration.metricsFactory = metrics
            configuration.tracer = tracer
            configuration.replicaNotices = { notice in notices.list.withLock { $0.append(notice) } }
            let service = GrantsService(configuration: configuration)
            do {
                try await body(Setup(service: service, metrics: metrics, tracer: tracer, notices: notices, primary: primary))
                await service.close()
            } catch {
                await service.close()
                throw error
            }
        }
    }

    func counter(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)]) throws -> Int64 {
        try metrics.expectCounter(label, dimensions).totalValue
    }

    func csv(_ service: GrantsService) async throws -> [UInt8] {
        let bytes = Mutex<[UInt8]>([])
        try await service.reports.disbursements(
            ReportFilter(), format: .csv, to: ReportOutput.sink { chunk in bytes.withLock { $0 += chunk } })
        return bytes.withLock { $0 }
    }

    @Test func listingsAndExportsReadTheStandbyAsFreshAsThePrimary() async throws {
        try await withReplica { setup in
            let service = setup.service
            try await seedRound(service, budget: "100 000")
            try await service.applications.submit(application("KP-1", amount: "50 000"), actor: "anna")
            try await service.approvals.approve("KP-1", amount: sek("50 000"), decidedOn: day("2021-12-01"), actor: "anna")
            try await service.disbursements.schedule("KP-1", amount: sek("25 000"), dueOn: day("2022-01-31"), actor: "anna")
            // Right after the writes: the standby has to have replayed them, or the read goes to the primary.
            #expect(try await service.rounds.list().map(\.name) == ["R1"])
            #expect(try await service.disbursements.list().count == 1)
            let fromStandby = try await csv(service)
            let primaryOnly = GrantsService(configuration: GrantsConfiguration(database: setup.primary, poolSize: 1))
            let fromPrimary = try await csv(primaryOnly)
            await primaryOnly.close()
            #expect(fromStandby == fromPrimary)
            #expect(String(decoding: fromStandby, as: UTF8.self).contains("KP-1"))
            #expect(try await service.reports.round("R1").grants == 1)

            let metrics = setup.metrics
            // Every read went to the standby, except that on a machine too loaded for the standby to replay within the
            // wait limit (seen at a load average of 16 on 2 cores) a read goes to the primary, as designed, and says so.
            let notices = setup.notices.list.withLock { $0 }
            let replicaReads = try counter(metrics, "grants_replica_reads_total", [("server", "replica")])
            let primaryReads = try counter(metrics, "grants_replica_reads_total", [("server", "primary")])
            #expect(replicaReads + primaryReads == 4)
            #expect(Int64(notices.count) == primaryReads)
            #expect(notices.allSatisfy { $0 == .readFromPrimary(.lagging) || $0 == .readFromPrimary(.failed) }, "\(notices)")
            for reason in [ReplicaFallbackReason.unavailable, .notStandby] {
                #expect(try counter(metrics, "grants_replica_fallbacks_total", [("reason", reason.rawValue)]) == 0)
            }
            // The pools record under their own names.
            #expect(try metrics.expectGauge("pg_pool_connections_in_use", [("pool", "replica")]).lastValue == 0)
            #expect(try metrics.expectCounter("pg_pool_connections_opened_total", [("pool", "primary")]).totalValue >= 1)

            // One span per call, named for it, with the server that answered the reads.
            let spans = setup.tracer.finishedSpans
            #expect(
                spans.map(\.operationName) == [
                    "grants.themes.add", "grants.rounds.create", "grants.organisations.add", "grants.organisations.add",
                    "grants.applications.submit", "grants.approvals.approve", "grants.disbursements.schedule", "grants.rounds.list",
                    "grants.disbursements.list", "grants.reports.disbursements", "grants.reports.round",
                ])
            let readFrom = spans.filter { $0.operationName.hasSuffix(".list") || $0.operationName.hasPrefix("grants.reports.") }
                .map { $0.attributes["grants.read_from"]?.toSpanAttribute() }
            #expect(readFrom.count == 4)
            #expect(Int64(readFrom.count { $0 == .string("replica") }) == replicaReads)
            #expect(Int64(readFrom.count { $0 == .string("primary") }) == primaryReads)
            // Never a bound value or a name in an attribute.
            for span in spans {
                span.attributes.forEach { key, value in
                    let text = "\(value)"
                    #expect(!["anna", "KP-1", "Växjö", "R1", "50000"].contains { text.contains($0) }, "\(span.operationName) \(key)")
                }
                #expect(span.errors.isEmpty)
            }
        }
    }

    @Test func aRefusedCallIsOneSpanWithItsCategoryAndNoMessage() async throws {
        try await withReplica { setup in
            try await seedRound(setup.service, budget: "1 000")
            try await setup.service.applications.submit(application("KP-9", amount: "5 000"), actor: "anna")
            setup.tracer.clearFinishedSpans()
            await #expect(throws: GrantsError.self) {
                try await setup.service.approvals.approve("KP-9", amount: sek("5 000"), decidedOn: day("2021-12-01"), actor: "anna")
            }
            let spans = setup.tracer.finishedSpans
            #expect(spans.map(\.operationName) == ["grants.approvals.approve"])
            #expect(spans.first?.status?.code == .error)
            #expect(spans.first?.attributes["grants.error.category"]?.toSpanAttribute() == .string("rule"))
            #expect(spans.first?.errors.isEmpty == true)
        }
    }

    /// Writes cannot reach the replica: the write path only has the primary's pool (a compile-time fact), and the
    /// replica is reached only through `READ ONLY` transactions on a server in recovery.
    @Test func theReplicaSessionsAreReadOnly() async throws {
        try await withReplica { setup in
            let replica = try #require(setup.service.replica)
            #expect(try await replica.route() == .replica)
            // On a machine busy enough for the standby to lag past the wait limit, a read goes to the primary (and
            // says so): that read is read-only too, but says nothing about the standby, so it is asked again.
            var (readOnly, recovering) = ("", false)
            for attempt in 0..<10 {
                (readOnly, recovering) = try await replica.read(retry: .never, rerunnable: false) { connection in
                    let readOnly: String = try connection.query("SHOW transaction_read_only")[0].decode(column: 0)
                    let recovering: Bool = try connection.query("SELECT pg_is_in_recovery()")[0].decode(column: 0)
                    return (readOnly, recovering)
                }
                #expect(readOnly == "on", "attempt \(attempt)")
                if recovering { break }
                try await Task.sleep(for: .seconds(3))
            }
            var refused: String?
            do {
                _ = try await replica.read(retry: .never, rerunnable: false) { try $0.execute("CREATE TEMPORARY TABLE t (x int)") }
            } catch {
                refused = (PGTransactionError.underlyingError(of: error) as? PGError)?.sqlState?.rawValue
            }
            #expect(readOnly == "on")
            #expect(recovering)
            #expect(refused == "25006")
        }
    }

    @Test func aReplicaThatIsNotAStandbyIsNeverAnErrorAndSaysSo() async throws {
        // The "replica" is the primary itself: not in recovery, so reads go to the primary, read-only still.
        try await withReplica(.primary) { setup in
            try await seedRound(setup.service)
            #expect(try await setup.service.rounds.list().count == 1)
            let readOnly = try await setup.service.replica?.read(retry: .never, rerunnable: false) { connection in
                try connection.query("SHOW transaction_read_only")[0].decode(String.self, column: 0)
            }
            #expect(readOnly == "on")
            #expect(try counter(setup.metrics, "grants_replica_fallbacks_total", [("reason", "not_standby")]) == 2)
            #expect(setup.notices.list.withLock { $0 } == [.readFromPrimary(.notStandby), .readFromPrimary(.notStandby)])
        }
    }

    @Test func anUnreachableStandbyIsNeverAnError() async throws {
        let nowhere = PGConfiguration(parameters: ["host": "/nonexistent-standby", "port": "5999", "dbname": "x", "connect_timeout": "2"])
        try await withReplica(.other(nowhere)) { setup in
            try await seedRound(setup.service)
            #expect(try await setup.service.rounds.list().count == 1)
            #expect(try await setup.service.themes.list().count == 1)
            #expect(try counter(setup.metrics, "grants_replica_fallbacks_total", [("reason", "replica_unavailable")]) == 2)
            #expect(await setup.service.replicaStatus()?.state != .standby)
        }
    }

    @Test func walPositions() {
        #expect(WALPosition("16/B374D848")?.value == 0x16_B374_D848)
        #expect(WALPosition("0/0")?.value == 0)
        #expect(WALPosition("x/1") == nil && WALPosition("1") == nil && WALPosition("1/100000000") == nil)
        #expect(WALPosition(value: 0x16_B374_D848).description == "16/B374D848")
        // Just past a page header: no record ends there, the standby stops at the page boundary.
        let page: UInt64 = 8192
        let segment: UInt64 = 16 << 20
        #expect(WALPosition(value: 5 * page + 24).recordEnd(pageSize: page, segmentSize: segment).value == 5 * page)
        #expect(WALPosition(value: segment + 40).recordEnd(pageSize: page, segmentSize: segment).value == segment)
        #expect(WALPosition(value: 5 * page + 40).recordEnd(pageSize: page, segmentSize: segment).value == 5 * page + 40)
        #expect(WALPosition(value: 5 * page + 200).recordEnd(pageSize: page, segmentSize: segment).value == 5 * page + 200)
    }
}
