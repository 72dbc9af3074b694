import Foundation
@testable import PGClient
import TestSupport
import Testing

@Suite("Prepared statements")
struct PreparedStatementTests {
    /// The statements the session has prepared, as the server lists them.
    func prepared(_ connection: PGConnection) throws -> [String] {
        try connection.query("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time").map { try $0.decode(String.self, column: 0) }
    }

    @Test func aStatementIsPreparedOnceAndReusedWithOtherValues() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let connection = try PGConnection(configuration: configuration)
            #expect(connection.sessionKeepsPreparedStatements())
            for n in [Int64(1), 2, 3] {
                let name: String? = n == 2 ? nil : "n\(n)"
                let row = try connection.queryPrepared("SELECT \(n) * 10, coalesce(\(name)::text, 'none')")[0]
                #expect(try row.decode(Int64.self, column: 0) == n * 10)
                #expect(try row.decode(String.self, column: 1) == (name ?? "none"))
            }
            #expect(try prepared(connection) == ["SELECT $1 * 10, coalesce($2::text, 'none')"])
            // Inside preparingStatements, query() is prepared too: the same text is the same statement.
            let value = try connection.preparingStatements { try connection.query("SELECT \(Int64(4)) * 10, coalesce(\("x")::text, 'none')") }
            #expect(try value[0].decode(Int64.self, column: 0) == 40)
            #expect(try prepared(connection).count == 1)
        }
    }

    @Test func aStatementThatWentMissingIsPreparedAgain() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let connection = try PGConnection(configuration: configuration)
            #expect(try connection.queryPrepared("SELECT \(Int64(1)) + 1")[0].decode(Int64.self, column: 0) == 2)
            try connection.execute(unsafeScript: "DEALLOCATE ALL")
            #expect(try connection.queryPrepared("SELECT \(Int64(2)) + 1")[0].decode(Int64.self, column: 0) == 3)
            #expect(try prepared(connection).count == 1)
        }
    }

    @Test func aFunctionWhoseResultChangedIsPreparedAgain() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let connection = try PGConnection(configuration: configuration)
            try connection.execute(unsafeScript: "CREATE FUNCTION f(n int) RETURNS TABLE (a int) LANGUAGE sql AS 'SELECT n'")
            #expect(try connection.queryPrepared("SELECT * FROM f(\(Int32(5)))")[0].decode(Int32.self, column: 0) == 5)
            // What a migration does to an API function: the same call now answers with another row type.
            try connection.execute(
                unsafeScript: "DROP FUNCTION f(int); CREATE FUNCTION f(n int) RETURNS TABLE (a int, b text) LANGUAGE sql AS 'SELECT n, ''b'''")
            let row = try connection.queryPrepared("SELECT * FROM f(\(Int32(6)))")[0]
            #expect(try row.decode(Int32.self, column: 0) == 6)
            #expect(try row.decode(String.self, column: 1) == "b")
            #expect(try prepared(connection).count == 1)
        }
    }

    @Test func anErrorInAPreparedStatementIsTheStatementsOwn() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let connection = try PGConnection(configuration: configuration)
            let error = #expect(throws: PGError.self) { try connection.queryPrepared("SELECT 1 / \(Int32(0))") }
            #expect(error?.sqlState == SQLState(rawValue: "22012"))
            #expect(connection.isIdle)
            #expect(try connection.queryPrepared("SELECT 1 / \(Int32(1))")[0].decode(Int32.self, column: 0) == 1)
        }
    }

    /// Through pgbouncer in transaction mode (the suite's pgbouncer run) each statement may meet another server
    /// session: nothing is prepared, and every call still answers.
    @Test func throughTheTestServersURLEveryCallAnswers() async throws {
        try await TestServer.withDatabase { configuration in
            let pool = PGPool(configuration: configuration, size: 2)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        for j in 0..<25 {
                            let n = Int64(i * 100 + j)
                            let value = try await pool.autocommit { connection in
                                try connection.preparingStatements { try connection.query("SELECT \(n) + 1")[0].decode(Int64.self, column: 0) }
                            }
                            #expect(value == n + 1)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let direct = ProcessInfo.processInfo.environment["GRANTS_TEST_DIRECT_URL"].map { !$0.isEmpty } ?? false
            let keeps = try await pool.withConnection { $0.sessionKeepsPreparedStatements() }
            #expect(keeps == !direct)
            await pool.close()
        }
    }
}
