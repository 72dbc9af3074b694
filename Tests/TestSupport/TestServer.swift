import Foundation
import PGClient

/// The PostgreSQL server the tests use: `GRANTS_TEST_DATABASE_URL`, which `Scripts/test` sets after starting
/// a throwaway cluster. Without it every database test fails with a message saying how to run the tests;
/// none is ever skipped.
public enum TestServer {
    public static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["GRANTS_TEST_DATABASE_URL"], !url.isEmpty else {
            throw TestServerError.notConfigured
        }
        return url
    }

    /// The configuration of the server's maintenance database. Under pgbouncer (`GRANTS_TEST_DIRECT_URL` set)
    /// this is the direct connection: databases are created and dropped, and backends inspected, past the pooler.
    public static func adminConfiguration() throws -> PGConfiguration {
        if let direct = ProcessInfo.processInfo.environment["GRANTS_TEST_DIRECT_URL"], !direct.isEmpty {
            return try PGConfiguration(url: direct)
        }
        return try PGConfiguration(url: url())
    }

    /// A configuration for database `name` on the test server (through pgbouncer when the run uses it).
    public static func configuration(database name: String) throws -> PGConfiguration {
        var configuration = try PGConfiguration(url: url())
        configuration["dbname"] = name
        return configuration
    }

    /// Database `name` reached directly, never through a pooler: for tests about backends themselves
    /// (their PIDs, killing them, cancelling them, cutting their sockets).
    public static func directConfiguration(database name: String) throws -> PGConfiguration {
        var configuration = try adminConfiguration()
        configuration["dbname"] = name
        return configuration
    }

    /// A fresh, empty database (or a copy of `template`), dropped when `body` returns or throws. Creating and
    /// dropping run off the cooperative pool (see ``Blocking``).
    public static func withDatabase<T>(
        template: String? = nil, direct: Bool = false, _ body: (PGConfiguration) async throws -> T
    ) async throws -> T {
        let name = String("t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20))
        try await Blocking.run {
            let admin = try PGConnection(configuration: adminConfiguration())
            if let template {
                try createDatabase(admin, name: name, template: template)
            } else {
                try admin.execute("CREATE DATABASE \(identifier: name)")
            }
        }
        let drop: @Sendable () async -> Void = {
            _ = try? await Blocking.run {
                try PGConnection(configuration: adminConfiguration()).execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
            }
        }
        do {
            let result = try await body(direct ? directConfiguration(database: name) : configuration(database: name))
            await drop()
            return result
        } catch {
            await drop()
            throw error
        }
    }

    /// CREATE DATABASE … TEMPLATE fails while anyone else is connected to the template (55006); the
    /// templates here are only connected to while being built, so a short retry covers that window.
    static func createDatabase(_ admin: PGConnection, name: String, template: String) throws {
        var attempt = 0
        while true {
            do {
                try admin.execute("CREATE DATABASE \(identifier: name) TEMPLATE \(identifier: template)")
                return
            } catch let error as PGError where error.sqlState == .objectInUse && attempt < 50 {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    /// Builds a template database once per server and content key: `prepare` runs on a fresh database
    /// that is then kept under the name `template_<key>`. Safe across concurrent tests and processes.
    public static func template(key: String, prepare: (PGConnection) throws -> Void) throws -> String {
        let name = "template_\(key)"
        let admin = try PGConnection(configuration: adminConfiguration())
        try admin.execute("SELECT pg_advisory_lock(\(Int64(7_210_001)))")
        defer { _ = try? admin.execute("SELECT pg_advisory_unlock(\(Int64(7_210_001)))") }
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = \(name)").count == 1
        if exists { return name }
        let building = name + "_building"
        try admin.execute("DROP DATABASE IF EXISTS \(identifier: building) WITH (FORCE)")
        try admin.execute("CREATE DATABASE \(identifier: building)")
        do {
            let connection = try PGConnection(configuration: directConfiguration(database: building))
            try prepare(connection)
        }
        try admin.execute("ALTER DATABASE \(identifier: building) RENAME TO \(identifier: name)")
        return name
    }
}

public enum TestServerError: Error, CustomStringConvertible {
    case notConfigured
    public var description: String {
        "GRANTS_TEST_DATABASE_URL is not set: run the tests with Scripts/test, which starts a PostgreSQL server for them"
    }
}
