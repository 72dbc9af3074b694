import Foundation
import PGClient

/// The test server's streaming hot standby (`GRANTS_TEST_REPLICA_URL`, which `Scripts/test` sets), and private
/// primary + standby pairs for tests that stop or pause servers (the shared standby serves tests in parallel).
public enum TestStandby {
    /// Database `name` on the shared standby. Without GRANTS_TEST_REPLICA_URL the test fails, saying how to run it.
    public static func configuration(database name: String) throws -> PGConfiguration {
        guard let url = ProcessInfo.processInfo.environment["GRANTS_TEST_REPLICA_URL"], !url.isEmpty else {
            throw TestStandbyError.notConfigured
        }
        var configuration = try PGConfiguration(url: url)
        configuration["dbname"] = name
        return configuration
    }

    /// Waits until the standby has replayed the creation of the database `configuration` names (bounded: 20 s).
    public static func waitForDatabase(_ configuration: PGConfiguration) async throws {
        for _ in 0..<800 {
            let reached = try? await Blocking.run {
                _ = try PGConnection(configuration: configuration)
                return true
            }
            if reached == true { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestStandbyError.databaseMissing(configuration["dbname"] ?? "?")
    }

    /// A throwaway primary with a standby in a temporary folder of its own, stopped and removed after `body`.
    public static func withPrivatePair<T>(_ body: (PrivatePair) async throws -> T) async throws -> T {
        let pair = PrivatePair(
            folder: "/tmp/grants-pair-\(UUID().uuidString.prefix(8).lowercased())", port: String(Int.random(in: 40_000...49_999)))
        let started = try await Blocking.run { try pair.script("start", "--throwaway", "--replica") }
        defer {
            _ = try? pair.script("stop")
            try? FileManager.default.removeItem(atPath: pair.folder)
        }
        guard started.status == 0 else { throw TestStandbyError.pairFailed(started.output) }
        return try await body(pair)
    }
}

/// A private primary and its standby (see ``TestStandby/withPrivatePair(_:)``), reached over Unix sockets.
public struct PrivatePair: Sendable {
    public let folder: String
    public let port: String

    public var primary: PGConfiguration {
        PGConfiguration(parameters: ["host": folder + "/socket", "port": port, "user": "postgres", "dbname": "postgres"])
    }

    /// pg-local puts the standby on the primary's port + 2.
    public var standby: PGConfiguration {
        PGConfiguration(parameters: [
            "host": folder + "/replica/socket", "port": String((Int(port) ?? 0) + 2), "user": "postgres", "dbname": "postgres",
        ])
    }

    /// Runs `Scripts/pg-local COMMAND FOLDER ARGUMENTS…` for this pair.
    @discardableResult
    public func script(_ command: String, _ arguments: String...) throws -> (status: Int32, output: String) {
        let path = repositoryRoot.appendingPathComponent("Scripts/pg-local").path
        return try runTool([path, command, folder] + arguments, environment: ["GRANTS_PG_PORT": port])
    }
}

public enum TestStandbyError: Error, CustomStringConvertible {
    case notConfigured
    case databaseMissing(String)
    case pairFailed(String)

    public var description: String {
        switch self {
        case .notConfigured:
            "GRANTS_TEST_REPLICA_URL is not set: run the tests with Scripts/test, which starts a hot standby for them"
        case .databaseMissing(let name): "the standby did not replay the creation of database \(name) within 20 s"
        case .pairFailed(let output): "could not start a private primary and standby: \(output)"
        }
    }
}
