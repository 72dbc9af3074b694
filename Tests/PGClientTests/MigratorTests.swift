import Foundation
import PGClient
import TestSupport
import Testing

@Suite("Migrator")
struct MigratorTests {
    let migrations = [
        PGMigration(version: 1, name: "schema", sql: "CREATE SCHEMA IF NOT EXISTS demo;"),
        PGMigration(version: 2, name: "table", sql: "CREATE TABLE demo.item (id int PRIMARY KEY); INSERT INTO demo.item VALUES (1);"),
    ]

    @Test func appliesInOrderOnceAndReportsStatus() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            let migrator = PGMigrator(schema: "demo", migrations: migrations)
            #expect(try migrator.status(connection).map(\.state) == [.pending, .pending])
            #expect(try migrator.migrate(connection).map(\.version) == [1, 2])
            #expect(try migrator.migrate(connection).isEmpty)
            #expect(try migrator.status(connection).map(\.state) == [.applied, .applied])
        }
    }

    @Test func anEditedMigrationIsRefused() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            try PGMigrator(schema: "demo", migrations: migrations).migrate(connection)
            var edited = migrations
            edited[1] = PGMigration(version: 2, name: "table", sql: "CREATE TABLE demo.item (id int8 PRIMARY KEY);")
            edited.append(PGMigration(version: 3, name: "more", sql: "CREATE TABLE demo.more (id int);"))
            let migrator = PGMigrator(schema: "demo", migrations: edited)
            let failure = #expect(throws: PGTransactionError.self) { try migrator.migrate(connection) }
            let error = failure?.closureError as? PGError
            #expect(error?.message.contains("migration 2") == true)
            #expect(error?.message.contains("edited") == true)
            #expect(try migrator.status(connection).map(\.state) == [.applied, .edited, .pending])
            #expect(try connection.query("SELECT to_regclass('demo.more') IS NULL").first?.decode(Bool.self, column: 0) == true)
        }
    }

    @Test func concurrentMigratorsApplyOnce() async throws {
        try await TestServer.withDatabase { configuration in
            let slow = migrations + [PGMigration(version: 3, name: "slow", sql: "SELECT pg_sleep(0.2); INSERT INTO demo.item VALUES (3);")]
            let results = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let pool = PGPool(configuration: configuration, size: 1)
                        defer { Task { await pool.close() } }
                        return try await pool.withConnection { try PGMigrator(schema: "demo", migrations: slow).migrate($0).map(\.version) }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(results.sorted() == [1, 2, 3])
            let connection = try PGConnection(configuration: configuration)
            #expect(try connection.query("SELECT count(*) FROM demo.item").first?.decode(Int64.self, column: 0) == 2)
            #expect(try connection.query("SELECT count(*) FROM demo.schema_migrations").first?.decode(Int64.self, column: 0) == 3)
        }
    }

    /// Repeatable scripts run after the migrations, again only when their text changed, and the run after them
    /// follows any that ran; what is stale is told without running anything.
    @Test func repeatablesRunWhenTheirTextChanges() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            func migrator(_ body: String) -> PGMigrator {
                PGMigrator(
                    schema: "demo", migrations: migrations,
                    repeatables: [PGRepeatable(name: "api/answer", sql: "CREATE OR REPLACE FUNCTION demo.answer() RETURNS int LANGUAGE sql AS $$ SELECT \(body) $$;")],
                    afterRepeatables: "INSERT INTO demo.item SELECT max(id) + 1 FROM demo.item")
            }
            func answer() throws -> Int32? { try connection.query("SELECT demo.answer()").first?.decode(Int32.self, column: 0) }
            func items() throws -> Int64? { try connection.query("SELECT count(*) FROM demo.item").first?.decode(Int64.self, column: 0) }
            let first = migrator("41")
            #expect(try first.staleRepeatables(connection) == ["api/answer"])
            try first.migrate(connection)
            #expect(try answer() == 41 && items() == 2)
            #expect(try first.staleRepeatables(connection).isEmpty)
            try first.migrate(connection)
            #expect(try items() == 2, "nothing changed: neither the script nor the run after it ran again")
            let second = migrator("42")
            #expect(try second.staleRepeatables(connection) == ["api/answer"])
            try second.migrate(connection)
            #expect(try answer() == 42 && items() == 3)
            #expect(try second.staleRepeatables(connection).isEmpty)
        }
    }
}
