import Foundation
import PGClient
import TestSupport
import Testing

@testable import Grants

@Suite("An export's own settings")
struct ExportSettingsTests {
    /// An export's transaction runs without JIT (compiling its plan cost more than it saved), and the next
    /// transaction on the same connection has the server's setting back.
    @Test func anExportTurnsJITOffForItselfAlone() async throws {
        try await TestGrants.withService(poolSize: 1) { service, configuration in
            let server = try PGConnection(configuration: configuration)
            let jit = try server.query("SELECT current_setting('jit')").first?.decode(String.self, column: 0)
            #expect(jit == "on", "the test server keeps PostgreSQL's default")
            let inside = try await service.export { connection in
                try connection.query("SELECT current_setting('jit')").first?.decode(String.self, column: 0)
            }
            #expect(inside == "off")
            let after = try await service.read { connection in
                try connection.query("SELECT current_setting('jit')").first?.decode(String.self, column: 0)
            }
            #expect(after == jit)
        }
    }

    /// An export asks for at most one parallel worker, so its client keeps a core; a server that allows none
    /// keeps none, and the setting ends with the export's transaction.
    @Test func anExportAsksForOneParallelWorkerAtMost() async throws {
        try await TestGrants.withService(poolSize: 1) { service, configuration in
            let setting: PGQuery = "SELECT current_setting('max_parallel_workers_per_gather')"
            let before = try await service.read { try $0.query(setting).first?.decode(String.self, column: 0) }
            #expect(before == "2", "the test server keeps PostgreSQL's default")
            let inside = try await service.export { try $0.query(setting).first?.decode(String.self, column: 0) }
            #expect(inside == "1")
            let after = try await service.read { try $0.query(setting).first?.decode(String.self, column: 0) }
            #expect(after == before)
            // A database (or role, or server) that allows no workers keeps none. The test's database is its own.
            let server = try PGConnection(configuration: configuration)
            try server.execute(
                unsafeScript: """
                    DO $$ BEGIN
                        EXECUTE format('ALTER DATABASE %I SET max_parallel_workers_per_gather = 0', current_database());
                    END $$
                    """)
            let fresh = try PGConnection(configuration: configuration)
            let none = try fresh.transaction(isolation: .repeatableRead, readOnly: true) {
                try GrantsService.LocalSettings.export.apply(fresh)
                return try fresh.query(setting).first?.decode(String.self, column: 0)
            }
            #expect(none == "0")
        }
    }
}
