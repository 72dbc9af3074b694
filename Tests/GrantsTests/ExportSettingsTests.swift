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
            // A setting that allows no workers (the server's, a database's, a role's: here the transaction's own,
            // which holds through a pooler too) keeps none.
            let connection = try PGConnection(configuration: configuration)
            let none = try connection.transaction(isolation: .repeatableRead, readOnly: true) {
                try connection.execute(unsafeScript: "SET LOCAL max_parallel_workers_per_gather = 0")
                try GrantsService.LocalSettings.export.apply(connection)
                return try connection.query(setting).first?.decode(String.self, column: 0)
            }
            #expect(none == "0")
        }
    }
}
