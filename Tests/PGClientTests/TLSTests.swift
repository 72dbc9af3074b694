import Foundation
import PGClient
import TestSupport
import Testing

@Suite("TLS")
struct TLSTests {
    /// A cluster of its own with TLS on 127.0.0.1 and a self-signed certificate for "localhost".
    @Test func requireWorksAndVerifyFullRefusesTheWrongHostName() throws {
        let folder = "/tmp/grants-tls-\(UUID().uuidString.prefix(8))"
        let port = String(Int.random(in: 30_000...39_999))
        let script = repositoryRoot.appendingPathComponent("Scripts/pg-local").path
        let started = try runTool([script, "start", folder, "--throwaway", "--tls"], environment: ["GRANTS_PG_PORT": port])
        defer {
            _ = try? runTool([script, "stop", folder])
            try? FileManager.default.removeItem(atPath: folder)
        }
        try #require(started.status == 0, "\(started.output)")
        let base = ["port": port, "user": "postgres", "dbname": "postgres"]

        let required = try PGConnection(
            configuration: PGConfiguration(parameters: base.merging(["host": "127.0.0.1", "sslmode": "require"]) { $1 }))
        #expect(try required.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.decode(Bool.self, column: 0) == true)

        let ca = folder + "/tls/ca.crt"
        let wrongHost = PGConfiguration(
            parameters: base.merging(["host": "127.0.0.1", "sslmode": "verify-full", "sslrootcert": ca]) { $1 })
        let error = #expect(throws: PGError.self) { try PGConnection(configuration: wrongHost) }
        #expect(error?.kind == .connection)
        #expect(error?.message.contains("does not match host name") == true, "\(String(describing: error))")
        #expect(error?.description.split(separator: "\n").count == 1)

        let rightHost = PGConfiguration(
            parameters: base.merging(["host": "localhost", "sslmode": "verify-full", "sslrootcert": ca]) { $1 })
        #expect(try PGConnection(configuration: rightHost).query("SELECT 1").count == 1)
    }
}
