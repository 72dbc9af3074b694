import Foundation
import Synchronization
import TestSupport
import Testing

@testable import PGClient

/// Sessions that end under the pool: which transactions are run again and which are reported.
@Suite("Lost connections")
struct LostConnectionTests {
    @Test func aWriteAfterTheIdleBackendWasKilledSucceedsAndAppliesOnce() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let pool = PGPool(configuration: configuration, size: 1)
            let killer = try PGConnection(configuration: configuration)
            try killer.execute("CREATE TABLE t (n int)")
            let runs = Mutex(0)
            for round in 1...10 {
                let victim = try await pool.withConnection { $0.backendPID }
                try killer.execute("SELECT pg_terminate_backend(\(victim))")
                // Every other round the backend is surely gone first; otherwise the write races its end.
                if round.isMultiple(of: 2) { try waitUntilGone(victim, monitor: killer) }
                let pid = try await pool.transaction { connection in
                    runs.withLock { $0 += 1 }
                    try connection.execute("INSERT INTO t VALUES (\(round))")
                    return connection.backendPID
                }
                #expect(pid != victim)
            }
            #expect(runs.withLock { $0 } == 10, "the body ran once per write")
            let rows = try killer.query("SELECT n FROM t ORDER BY n").map { try $0.decode(Int.self, column: 0) }
            #expect(rows == Array(1...10), "each write applied exactly once")
            await pool.close()
        }
    }

    @Test func aBeginThatMeetsALostSessionStartsAgainOnAFreshConnection() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            // Idle connections go out unchecked, so the lost session is only found at BEGIN.
            let pool = PGPool(configuration: configuration, size: 1, checksIdleConnections: false)
            let killer = try PGConnection(configuration: configuration)
            try killer.execute("CREATE TABLE t (n int)")
            let victim = try await pool.withConnection { $0.backendPID }
            try killer.execute("SELECT pg_terminate_backend(\(victim))")
            try waitUntilGone(victim, monitor: killer)
            let runs = Mutex(0)
            let pid = try await pool.transaction { connection in
                runs.withLock { $0 += 1 }
                try connection.execute("INSERT INTO t VALUES (1)")
                return connection.backendPID
            }
            #expect(pid != victim)
            #expect(runs.withLock { $0 } == 1)
            #expect(try killer.query("SELECT count(*) FROM t").first?.decode(Int64.self, column: 0) == 1)
            await pool.close()
        }
    }

    @Test func aWriteThatLosesItsSessionAfterBeginIsReportedNotRunAgain() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let pool = PGPool(configuration: configuration, size: 1)
            let killer = try PGConnection(configuration: configuration)
            try killer.execute("CREATE TABLE t (n int)")
            // Lost inside the body, at its first statement after BEGIN.
            let inBody = Mutex(0)
            let bodyError = await #expect(throws: PGTransactionError.self) {
                try await pool.transaction { connection in
                    inBody.withLock { $0 += 1 }
                    let killer = try PGConnection(configuration: configuration)
                    try killer.execute("SELECT pg_terminate_backend(\(connection.backendPID))")
                    try waitUntilGone(connection.backendPID, monitor: killer)
                    try connection.execute("INSERT INTO t VALUES (1)")
                }
            }
            #expect(inBody.withLock { $0 } == 1)
            #expect(bodyError?.beginError == nil)
            #expect((bodyError?.closureError as? PGError)?.isConnectionLoss == true)
            // Lost at COMMIT: the write may or may not have landed as far as the client can know, so it is not repeated.
            let atCommit = Mutex(0)
            let commitError = await #expect(throws: PGTransactionError.self) {
                try await pool.transaction { connection in
                    atCommit.withLock { $0 += 1 }
                    try connection.execute("INSERT INTO t VALUES (2)")
                    let killer = try PGConnection(configuration: configuration)
                    try killer.execute("SELECT pg_terminate_backend(\(connection.backendPID))")
                    try waitUntilGone(connection.backendPID, monitor: killer)
                }
            }
            #expect(atCommit.withLock { $0 } == 1)
            #expect(commitError?.closureError == nil)
            #expect(commitError?.commitError?.isConnectionLoss == true)
            // Neither was applied (the server rolled both back with their sessions), and the pool goes on.
            #expect(try killer.query("SELECT count(*) FROM t").first?.decode(Int64.self, column: 0) == 0)
            #expect(try await pool.transaction { try $0.query("SELECT 1").first?.decode(Int.self, column: 0) } == 1)
            await pool.close()
        }
    }
}
