import Foundation
import PGClient
import TestSupport
import Testing

@Suite("Connections and errors")
struct ConnectionTests {
    @Test func descriptionMasksThePassword() throws {
        let configuration = try PGConfiguration(url: "postgres://staff:s3cret-pass@localhost:5432/grants?sslmode=disable")
        #expect(!configuration.description.contains("s3cret-pass"))
        #expect(configuration.description.contains("password=***"))
        #expect(configuration["user"] == "staff")
        #expect(configuration["dbname"] == "grants")
    }

    @Test func aMalformedURLIsAConfigurationError() {
        let error = #expect(throws: PGError.self) { try PGConfiguration(url: "postgres://host:notaport/db?bogus=1") }
        #expect(error?.kind == .configuration)
    }

    @Test func aFailedConnectIsATypedErrorWithoutThePassword() throws {
        var configuration = try TestServer.adminConfiguration()
        configuration["user"] = "no_such_role_here"
        configuration["password"] = "hunter2-secret"
        let error = #expect(throws: PGError.self) { try PGConnection(configuration: configuration) }
        #expect(error?.kind == .connection)
        #expect(error?.description.contains("hunter2-secret") == false)
    }

    @Test func constraintViolationsCarrySQLState() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            try connection.execute(
                unsafeScript: """
                    CREATE TABLE parent (id int PRIMARY KEY);
                    CREATE TABLE child (id int PRIMARY KEY, parent int REFERENCES parent, amount int8 CONSTRAINT amount_positive CHECK (amount > 0));
                    INSERT INTO parent VALUES (1);
                    INSERT INTO child VALUES (1, 1, 5);
                    """)
            let unique = #expect(throws: PGError.self) { try connection.execute("INSERT INTO child VALUES (\(1), 1, 5)") }
            #expect(unique?.sqlState == .uniqueViolation)
            #expect(unique?.constraint == "child_pkey")
            #expect(unique?.table == "child")
            #expect(unique?.description.contains("(1)") == false, "description must not quote row values")
            let check = #expect(throws: PGError.self) { try connection.execute("INSERT INTO child VALUES (2, 1, \(Int64(-1)))") }
            #expect(check?.sqlState == .checkViolation)
            #expect(check?.constraint == "amount_positive")
            let foreign = #expect(throws: PGError.self) { try connection.execute("INSERT INTO child VALUES (3, \(99), 1)") }
            #expect(foreign?.sqlState == .foreignKeyViolation)
            #expect(foreign?.sqlState?.class == "23")
            let unknown = #expect(throws: PGError.self) { try connection.execute("SELEC 1") }
            #expect(unknown?.sqlState == SQLState(rawValue: "42601"))
        }
    }

    /// The client's work runs while the server executes the statement; the statement's error comes first, and
    /// the connection is usable after either error.
    @Test func workDoneWhileTheServerRunsAStatement() async throws {
        struct Failed: Error {}
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            let (rows, prepared) = try connection.query("SELECT pg_sleep(0.05), 41 + 1 AS n") { [1, 2, 3].pgBinding }
            #expect(try rows[0].decode(Int32.self, column: "n") == 42)
            // A binding made meanwhile is interpolated as it is.
            #expect(try connection.query("SELECT cardinality(\(prepared)::int8[])")[0].decode(Int32.self, column: 0) == 3)
            let both = #expect(throws: PGError.self) {
                _ = try connection.query("SELECT 1 / 0") { throw Failed() }
            }
            #expect(both?.sqlState?.rawValue == "22012")
            #expect(throws: Failed.self) {
                _ = try connection.query("SELECT 1") { throw Failed() }
            }
            #expect(try connection.query("SELECT 7")[0].decode(Int32.self, column: 0) == 7)
            // A NUL inside an element of a text array is refused before anything is sent, as in a text parameter.
            let nul = #expect(throws: PGError.self) { try connection.query("SELECT \(["a", "b\u{0}c"])::text[]") }
            #expect(nul?.kind == .usage)
        }
    }

    @Test func transactionsCommitOrRollBack() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            try connection.execute("CREATE TABLE t (id int PRIMARY KEY)")
            struct Boom: Error {}
            let thrown = #expect(throws: PGTransactionError.self) {
                try connection.transaction {
                    try connection.execute("INSERT INTO t VALUES (1)")
                    throw Boom()
                }
            }
            // The body's error is always wrapped, and is what the transaction failed of.
            #expect(thrown?.closureError is Boom)
            #expect(thrown?.underlyingError is Boom)
            #expect(thrown.map { PGTransactionError.underlyingError(of: $0) is Boom } == true)
            #expect(thrown?.beginError == nil && thrown?.commitError == nil && thrown?.rollbackError == nil)
            try connection.transaction { try connection.execute("INSERT INTO t VALUES (2)") }
            #expect(try connection.query("SELECT id FROM t").map { try $0.decode(Int.self, column: 0) } == [2])
            // An error swallowed inside the transaction turns COMMIT into ROLLBACK: that is reported, not hidden.
            let swallowed = #expect(throws: PGTransactionError.self) {
                try connection.transaction {
                    _ = try? connection.execute("INSERT INTO t VALUES (2)")
                    _ = try? connection.execute("INSERT INTO t VALUES (3)")
                }
            }
            #expect(swallowed?.commitError?.sqlState == .inFailedSQLTransaction)
            #expect(swallowed?.closureError == nil)
            #expect(connection.isIdle)
            // A transaction inside a transaction cannot begin.
            let nested = #expect(throws: PGTransactionError.self) {
                try connection.transaction { try connection.transaction { 1 } }
            }
            #expect((nested?.closureError as? PGTransactionError)?.beginError?.kind == .usage)
            #expect(connection.isIdle)
        }
    }

    @Test func aFailedRollbackIsKeptBesideTheBodysError() async throws {
        try await TestServer.withDatabase(direct: true) { configuration in
            let connection = try PGConnection(configuration: configuration)
            let killer = try PGConnection(configuration: configuration)
            struct Boom: Error {}
            let error = #expect(throws: PGTransactionError.self) {
                try connection.transaction {
                    // The session ends after the body's last statement and before its ROLLBACK, which then fails.
                    try killer.execute("SELECT pg_terminate_backend(\(connection.backendPID))")
                    try waitUntilGone(connection.backendPID, monitor: killer)
                    throw Boom()
                }
            }
            #expect(error?.closureError is Boom, "the original error is not replaced")
            #expect(error?.underlyingError is Boom)
            #expect(error?.rollbackError?.isConnectionLoss == true)
            #expect(error?.description.contains("ROLLBACK failed as well") == true)
            #expect(connection.isBroken)
        }
    }
}
