import Foundation
import MetricsTestKit
import Synchronization
import TestSupport
import Testing

@testable import PGClient

/// What a pool records, through a `TestMetrics` factory of the test's own (no global bootstrap). Counts and
/// names only: never how long anything took.
@Suite("Metrics")
struct MetricsTests {
    @Test func gaugesFollowConnectionsInUseIdleAndWaiting() async throws {
        try await TestServer.withDatabase { configuration in
            let metrics = TestMetrics()
            let pool = PGPool(configuration: configuration, size: 1, name: "gauges", metricsFactory: metrics)
            let poolDimension = [("pool", "gauges")]
            func gauge(_ label: String) throws -> Double? { try metrics.expectGauge(label, poolDimension).lastValue }
            #expect(try gauge("pg_pool_connections_in_use") == 0)
            #expect(try gauge("pg_pool_connections_idle") == 0)
            #expect(try gauge("pg_pool_tasks_waiting") == 0)
            // One task holds the only connection until told to let go; a second waits for it.
            let letGo = Mutex(false)
            let holder = Task {
                try await pool.withConnection { _ in
                    for _ in 0..<6_000 where !letGo.withLock({ $0 }) { usleep(5_000) }
                }
            }
            #expect(try await eventually { try gauge("pg_pool_connections_in_use") == 1 })
            let waiter = Task { try await pool.withConnection { $0.backendPID } }
            #expect(try await eventually { try gauge("pg_pool_tasks_waiting") == 1 })
            #expect(try gauge("pg_pool_connections_idle") == 0)
            letGo.withLock { $0 = true }
            try await holder.value
            _ = try await waiter.value
            #expect(try gauge("pg_pool_connections_in_use") == 0)
            #expect(try gauge("pg_pool_tasks_waiting") == 0)
            #expect(try gauge("pg_pool_connections_idle") == 1)
            await pool.close()
            #expect(try gauge("pg_pool_connections_idle") == 0)
        }
    }

    @Test func connectionsOpenedAndLostAreCounted() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let metrics = TestMetrics()
            let pool = PGPool(configuration: configuration, size: 1, name: "lost", metricsFactory: metrics)
            let killer = try PGConnection(configuration: configuration)
            func counter(_ label: String, _ more: [(String, String)] = []) throws -> Int64 {
                try metrics.expectCounter(label, [("pool", "lost")] + more).totalValue
            }
            let first = try await pool.withConnection { $0.backendPID }
            #expect(try counter("pg_pool_connections_opened_total") == 1)
            _ = try await pool.withConnection { $0.backendPID }
            #expect(try counter("pg_pool_connections_opened_total") == 1, "an idle, live connection is reused")
            // Ended while idle: found at checkout and replaced.
            try killer.execute("SELECT pg_terminate_backend(\(first))")
            try waitUntilGone(first, monitor: killer)
            let second = try await pool.withConnection { $0.backendPID }
            #expect(try counter("pg_pool_connections_lost_total", [("when", "idle")]) == 1)
            #expect(try counter("pg_pool_connections_opened_total") == 2)
            // Ended while in use: dropped when it comes back.
            await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in
                    let killer = try PGConnection(configuration: configuration)
                    try killer.execute("SELECT pg_terminate_backend(\(second))")
                    try waitUntilGone(second, monitor: killer)
                    try connection.execute("SELECT 1")
                }
            }
            #expect(try counter("pg_pool_connections_lost_total", [("when", "in_use")]) == 1)
            _ = try await pool.withConnection { $0.backendPID }
            #expect(try counter("pg_pool_connections_opened_total") == 3)
            #expect(try counter("pg_pool_connections_lost_total", [("when", "idle")]) == 1)
            await pool.close()
        }
    }

    @Test func retriesAreCountedWithTheirReason() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let metrics = TestMetrics()
            let pool = PGPool(configuration: configuration, size: 1, name: "retries", metricsFactory: metrics)
            func retries(_ reason: String) throws -> Int64 {
                try metrics.expectCounter("pg_transaction_retries_total", [("pool", "retries"), ("reason", reason)]).totalValue
            }
            for (reason, state) in [("serialization_failure", SQLState.serializationFailure), ("deadlock", .deadlockDetected)] {
                let runs = Mutex(0)
                try await pool.transaction { _ in
                    let run = runs.withLock {
                        $0 += 1
                        return $0
                    }
                    if run == 1 { throw PGError(kind: .server, sqlState: state, message: "simulated") }
                }
                #expect(runs.withLock { $0 } == 2)
                #expect(try retries(reason) == 1)
            }
            // A read-only transaction whose session ends in its body runs once more.
            let reads = Mutex(0)
            try await pool.transaction(readOnly: true) { connection in
                if reads.withLock({
                    $0 += 1
                    return $0
                }) == 1 {
                    let killer = try PGConnection(configuration: configuration)
                    try killer.execute("SELECT pg_terminate_backend(\(connection.backendPID))")
                    try waitUntilGone(connection.backendPID, monitor: killer)
                }
                try connection.execute("SELECT 1")
            }
            #expect(try retries("read_only_lost") == 1)
            #expect(try retries("lost_before_begin") == 0)
            await pool.close()

            // BEGIN on a session that ended while idle (the check at checkout is off, so BEGIN is where it shows).
            let unchecked = PGPool(
                configuration: configuration, size: 1, name: "retries", metricsFactory: metrics, checksIdleConnections: false)
            let victim = try await unchecked.withConnection { $0.backendPID }
            let killer = try PGConnection(configuration: configuration)
            try killer.execute("SELECT pg_terminate_backend(\(victim))")
            try waitUntilGone(victim, monitor: killer)
            try await unchecked.transaction { try $0.execute("SELECT 1") }
            #expect(try retries("lost_before_begin") == 1)
            #expect(try retries("serialization_failure") == 1)
            await unchecked.close()
        }
    }

    @Test func statementAndTransactionDurationsAreRecordedWithoutSQLOrValues() async throws {
        try await TestServer.withDatabase { configuration in
            let metrics = TestMetrics()
            let poolName = "timed"
            let statementTimer = "pg_statement_duration_seconds"
            let transactionTimer = "pg_transaction_duration_seconds"
            let pool = PGPool(configuration: configuration, size: 1, name: poolName, metricsFactory: metrics)
            let marker = "bound-value-7f3a"
            try await pool.transaction { connection in
                try connection.execute("CREATE TABLE t (name text)")
                try connection.execute("INSERT INTO t VALUES (\(marker))")
                try connection.forEachRow("SELECT name FROM t WHERE name = \(marker)") { _ in }
            }
            struct Boom: Error {}
            await #expect(throws: PGTransactionError.self) {
                try await pool.transaction { connection in
                    try connection.execute("SELECT \(marker)")
                    throw Boom()
                }
            }
            let poolDimension = [("pool", poolName)]
            // Counts of recorded values, never the values: how long anything took is for the benchmarks.
            // Four statements of the caller's; BEGIN, COMMIT and ROLLBACK are part of the transactions' own timers.
            let statements = try metrics.expectTimer(statementTimer, poolDimension)
            let committed = try metrics.expectTimer(transactionTimer, poolDimension + [("outcome", "committed")])
            let rolledBack = try metrics.expectTimer(transactionTimer, poolDimension + [("outcome", "rolled_back")])
            let failed = try metrics.expectTimer(transactionTimer, poolDimension + [("outcome", "failed")])
            #expect(statements.values.count == 4)
            #expect(committed.values.count == 1)
            #expect(rolledBack.values.count == 1)
            #expect(failed.values.count == 0)
            // Every metric names its pool, and no label or dimension carries SQL or a bound value.
            let all: [(label: String, dimensions: [(String, String)])] =
                metrics.counters.map { ($0.label, $0.dimensions) } + metrics.recorders.map { ($0.label, $0.dimensions) }
                + metrics.timers.map { ($0.label, $0.dimensions) }
            #expect(all.count == 14)
            for metric in all {
                #expect(metric.label.hasPrefix("pg_"))
                #expect(metric.dimensions.contains { $0 == ("pool", poolName) }, "\(metric.label)")
                #expect(metric.dimensions.allSatisfy { ["pool", "when", "reason", "outcome"].contains($0.0) }, "\(metric.label)")
                let text = ([metric.label] + metric.dimensions.flatMap { [$0.0, $0.1] }).joined(separator: " ")
                #expect(!text.contains(marker) && !text.uppercased().contains("SELECT"), "\(text)")
            }
            await pool.close()
        }
    }

    @Test func withoutAFactoryConnectionsRecordNothing() async throws {
        // swift-metrics' default factory is the no-op one until a backend is bootstrapped: no timers, no clock reads.
        let pool = PGPool(configuration: try TestServer.adminConfiguration(), size: 1)
        #expect(pool.metrics.connection == nil)
        await pool.close()
    }
}
