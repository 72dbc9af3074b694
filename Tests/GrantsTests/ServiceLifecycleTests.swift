import Foundation
import Grants
import Logging
import PGClient
import ServiceLifecycle
import TestSupport
import Testing

/// `GrantsService` as a swift-service-lifecycle `Service`: it runs in a `ServiceGroup`, closes its connections on
/// graceful shutdown, refuses a database whose schema is not the library's, and survives a database it cannot
/// reach at start.
@Suite("Service lifecycle")
struct ServiceLifecycleTests {
    /// Connections the service holds, by the application name it connects with.
    static func backends(_ name: String, _ monitor: PGConnection) throws -> Int64 {
        try monitor.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = \(name)")[0].decode(Int64.self, column: 0)
    }

    @Test func gracefulShutdownClosesTheConnections() async throws {
        let template = try await Blocking.run { try TestGrants.migratedTemplate() }
        try await TestServer.withDatabase(template: template, direct: true) { configuration in
            var tagged = configuration
            let name = "lifecycle-\(UUID().uuidString.prefix(8))"
            tagged["application_name"] = name
            let service = GrantsService(configuration: GrantsConfiguration(database: tagged, poolSize: 3), logger: TestGrants.quietLogger)
            let group = ServiceGroup(services: [service], logger: TestGrants.quietLogger)
            let running = Task { try await group.run() }
            // Calls work while the group runs, on several connections at once.
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for _ in 0..<6 { tasks.addTask { _ = try await service.rounds.list() } }
                try await tasks.waitForAll()
            }
            let monitor = try PGConnection(configuration: configuration)
            #expect(try Self.backends(name, monitor) >= 1)
            await group.triggerGracefulShutdown()
            try await running.value
            // The pool has closed its connections; their backends end as the server notices (bounded wait).
            var open = try Self.backends(name, monitor)
            for _ in 0..<500 where open > 0 {
                try await Task.sleep(for: .milliseconds(10))
                open = try Self.backends(name, monitor)
            }
            #expect(open == 0, "the service's connections are closed after graceful shutdown")
            await #expect(throws: GrantsError.self) { _ = try await service.rounds.list() }
        }
    }

    @Test func aDatabaseNotMigratedStopsTheGroupSayingWhatToDo() async throws {
        try await TestServer.withDatabase { configuration in
            let service = GrantsService(
                configuration: GrantsConfiguration(database: configuration, poolSize: 1), logger: TestGrants.quietLogger)
            let group = ServiceGroup(services: [service], logger: TestGrants.quietLogger)
            await #expect {
                try await group.run()
            } throws: { error in
                guard let error = error as? GrantsError else { return false }
                return error.code == .schemaMismatch && error.category == .unavailable && error.message.contains("migrate")
            }
        }
    }

    @Test func aDatabaseUnreachableAtStartIsNotFatal() async throws {
        // A socket folder with no server in it: every connection attempt fails at once.
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-server-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let configuration = try PGConfiguration(url: "postgresql:///grants?host=\(empty.path)&port=5999&connect_timeout=2")
        let service = GrantsService(
            configuration: GrantsConfiguration(database: configuration, poolSize: 1), logger: TestGrants.quietLogger)
        let group = ServiceGroup(services: [service], logger: TestGrants.quietLogger)
        let running = Task { try await group.run() }
        // Calls fail as unavailable while the group runs on.
        await #expect {
            _ = try await service.rounds.list()
        } throws: { error in
            (error as? GrantsError)?.category == .unavailable
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
