import Foundation
import PGClient
import Synchronization
import TestSupport
import Testing

@Suite("Pool")
struct PoolTests {
    @Test func sixtyFourTasksShareFourConnections() async throws {
        try await TestServer.withDatabase { configuration in
            let pool = PGPool(configuration: configuration, size: 4)
            let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
                for i in 0..<64 {
                    group.addTask {
                        try await pool.withConnection { connection in
                            let echoed = try connection.query("SELECT \(Int64(i)), pg_sleep(0.01)").first?.decode(Int64.self, column: 0)
                            guard echoed == Int64(i) else { throw PGError(kind: .usage, message: "wrong row") }
                            return connection.backendPID
                        }
                    }
                }
                return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
            }
            #expect(pids.count <= 4)
            await pool.close()
        }
    }

    @Test func aTerminatedBackendIsATypedErrorAndThePoolRecovers() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let pool = PGPool(configuration: configuration, size: 1)
            let victim = try await pool.withConnection { $0.backendPID }
            let killer = try PGConnection(configuration: configuration)
            // Killed while idle in the pool: the next use gets a fresh connection.
            try killer.execute("SELECT pg_terminate_backend(\(victim))")
            try waitUntilGone(victim, monitor: killer)
            let replacement = try await pool.withConnection { $0.backendPID }
            #expect(replacement != victim)
            // Killed in the middle of a query: a typed connection error, then the pool recovers.
            let error = await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in
                    let killer = try PGConnection(configuration: configuration)
                    try killer.execute("SELECT pg_terminate_backend(\(connection.backendPID))")
                    try connection.execute("SELECT 1")
                }
            }
            #expect(error?.isConnectionLoss == true)
            let value = try await pool.withConnection { try $0.query("SELECT 7").first?.decode(Int.self, column: 0) }
            #expect(value == 7)
            await pool.close()
        }
    }

    @Test func aReadOnlyTransactionIsRetriedOnceOnANewConnectionAWriteIsNot() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let pool = PGPool(configuration: configuration, size: 1)
            try PGConnection(configuration: configuration).execute("CREATE TABLE t (n int)")
            // The session dies during the read (as a server restart would): the read runs again and answers.
            let attempts = Mutex(0)
            let pids = try await pool.transaction(readOnly: true) { connection in
                attempts.withLock { $0 += 1 }
                if attempts.withLock({ $0 }) == 1 {
                    try PGConnection(configuration: configuration).execute("SELECT pg_terminate_backend(\(connection.backendPID))")
                }
                try connection.execute("SELECT 1")
                return connection.backendPID
            }
            #expect(attempts.withLock { $0 } == 2)
            #expect(pids != 0)
            // A write that loses its session is reported, not repeated: its COMMIT might have landed.
            let writes = Mutex(0)
            let error = await #expect(throws: PGTransactionError.self) {
                try await pool.transaction { connection in
                    writes.withLock { $0 += 1 }
                    try PGConnection(configuration: configuration).execute("SELECT pg_terminate_backend(\(connection.backendPID))")
                    try connection.execute("INSERT INTO t VALUES (1)")
                }
            }
            #expect(writes.withLock { $0 } == 1)
            #expect(error?.beginError == nil)
            #expect((error?.closureError as? PGError)?.isConnectionLoss == true)
            await pool.close()
        }
    }

    @Test func cancellingATaskCancelsItsQueryOnTheServer() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let pool = PGPool(configuration: configuration, size: 1)
            let pid = Mutex<Int32>(0)
            let task = Task {
                try await pool.withConnection { connection in
                    pid.withLock { $0 = connection.backendPID }
                    try connection.execute("SELECT pg_sleep(300)")
                }
            }
            // Judged by what the server says, not by a clock. The cancel is sent once the backend is inside pg_sleep:
            // PostgreSQL ignores a cancel request that arrives while it reads the next message of an extended-protocol
            // query (between Parse and Execute), so a cancel at the very start of a statement can be lost.
            let monitor = try PGConnection(configuration: configuration)
            let sleeping = try await eventually { try backendActivity(pid.withLock { $0 }, monitor)?.waitEvent == "PgSleep" }
            #expect(sleeping, "the query is running on the server")
            task.cancel()
            let idle = try await eventually { try backendActivity(pid.withLock { $0 }, monitor)?.state == "idle" }
            #expect(idle, "the backend is idle again after the cancel")
            if !idle { try monitor.execute("SELECT pg_cancel_backend(\(pid.withLock { $0 }))") }
            let result = await task.result
            guard case .failure(let error as PGError) = result else {
                Issue.record("expected a PGError, got \(result)")
                return
            }
            #expect(error.kind == .cancelled)
            #expect(error.sqlState == .queryCanceled, "the server reports the query cancelled (57014)")
            // The cancelled session came back idle and is kept: the pool's only connection is the same backend.
            let reused = try await pool.withConnection { connection in
                (connection.backendPID, try connection.query("SELECT 1").first?.decode(Int.self, column: 0))
            }
            #expect(reused.0 == pid.withLock { $0 })
            #expect(reused.1 == 1)
            await pool.close()
        }
    }

    @Test func aSerializationFailureIsRetriedAndSucceeds() async throws {
        try await TestServer.withDatabase { configuration in
            let setup = try PGConnection(configuration: configuration)
            try setup.execute(
                unsafeScript: "CREATE TABLE counter (id int PRIMARY KEY, n int8 NOT NULL); INSERT INTO counter VALUES (1, 0);")
            let pool = PGPool(configuration: configuration, size: 8)
            let attempts = Counter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        try await pool.transaction(isolation: .serializable, retry: PGRetryPolicy(maxAttempts: 100)) { connection in
                            attempts.value.add(1, ordering: .relaxed)
                            let n = try connection.query("SELECT n FROM counter WHERE id = 1").first?.decode(Int64.self, column: 0) ?? 0
                            Thread.sleep(forTimeInterval: 0.002)
                            try connection.execute("UPDATE counter SET n = \(n + 1) WHERE id = 1")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let n = try setup.query("SELECT n FROM counter").first?.decode(Int64.self, column: 0)
            #expect(n == 16, "no lost update")
            #expect(attempts.value.load(ordering: .relaxed) >= 16)
            await pool.close()
        }
    }

    /// A serialization failure made to happen: a concurrent committed update between the transaction's read and
    /// its write fails the first attempt with 40001; the retry reads the new value and succeeds.
    @Test func aForcedSerializationFailureIsRetriedOnce() async throws {
        try await TestServer.withDatabase { configuration in
            let setup = try PGConnection(configuration: configuration)
            try setup.execute(
                unsafeScript: "CREATE TABLE counter (id int PRIMARY KEY, n int8 NOT NULL); INSERT INTO counter VALUES (1, 0);")
            let pool = PGPool(configuration: configuration, size: 1)
            let attempts = Counter()
            let failures = Counter()
            try await pool.transaction(isolation: .serializable, retry: PGRetryPolicy(maxAttempts: 3)) { connection in
                let attempt = attempts.value.wrappingAdd(1, ordering: .relaxed).newValue
                let n = try connection.query("SELECT n FROM counter WHERE id = 1").first?.decode(Int64.self, column: 0) ?? 0
                if attempt == 1 { try PGConnection(configuration: configuration).execute("UPDATE counter SET n = 100 WHERE id = 1") }
                do {
                    try connection.execute("UPDATE counter SET n = \(n + 1) WHERE id = 1")
                } catch let error as PGError {
                    if error.sqlState == .serializationFailure { failures.value.add(1, ordering: .relaxed) }
                    throw error
                }
            }
            #expect(failures.value.load(ordering: .relaxed) == 1, "the first attempt failed with 40001")
            #expect(attempts.value.load(ordering: .relaxed) == 2, "and was tried once more")
            #expect(try setup.query("SELECT n FROM counter").first?.decode(Int64.self, column: 0) == 101)
            await pool.close()
        }
    }

    @Test func anAutocommitStatementIsItsOwnTransactionAndADeadlockRunsItAgain() async throws {
        try await TestServer.withDatabase { configuration in
            let setup = try PGConnection(configuration: configuration)
            // Fails with 40P01 the first time it is called (the sequence is not rolled back with the statement).
            try setup.execute(
                unsafeScript: """
                    CREATE TABLE log (n int8 NOT NULL); CREATE SEQUENCE calls;
                    CREATE FUNCTION flaky() RETURNS int8 LANGUAGE plpgsql AS $$
                    DECLARE call int8 := nextval('calls');
                    BEGIN
                        INSERT INTO log VALUES (call);
                        IF call = 1 THEN RAISE EXCEPTION 'as if deadlocked' USING ERRCODE = '40P01'; END IF;
                        RETURN call;
                    END $$;
                    """)
            let pool = PGPool(configuration: configuration, size: 1)
            let (call, inBlock) = try await pool.autocommit { connection in
                let call = try connection.query("SELECT flaky()")[0].decode(Int64.self, column: 0)
                return (call, !connection.isIdle)
            }
            #expect(call == 2, "the first call failed and was run again")
            #expect(!inBlock, "no transaction block is left open after the statement")
            // Committed before the pool answered: another session sees it, and only the second call's row.
            let logged = try setup.query("SELECT n FROM log ORDER BY n").map { try $0.decode(Int64.self, column: 0) }
            #expect(logged == [2])
            await pool.close()
        }
    }

    @Test func aClosedPoolRefusesWork() async throws {
        let pool = PGPool(configuration: try TestServer.adminConfiguration(), size: 1)
        await pool.close()
        let error = await #expect(throws: PGError.self) { try await pool.withConnection { _ in 1 } }
        #expect(error?.kind == .connection)
    }
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
