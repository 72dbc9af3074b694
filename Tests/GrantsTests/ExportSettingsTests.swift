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
}
