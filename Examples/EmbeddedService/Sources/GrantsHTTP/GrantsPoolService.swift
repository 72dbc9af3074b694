import Grants
import Logging
import PGClient
import ServiceLifecycle

/// Runs the library's connection pool for as long as the service runs.
///
/// At start it checks that the database's schema is the one this build of the library expects: a pending or
/// edited migration stops the service with a message saying so (the service never migrates a shared
/// database by itself; `grants-admin db migrate` does). A database that cannot be reached at start is not
/// fatal: the routes answer 503 until it is back. On graceful shutdown it closes the pool's connections.
///
/// ```swift
/// let group = ServiceGroup(services: [GrantsPoolService(service: service), server], logger: logger)
/// try await group.run()
/// ```
public struct GrantsPoolService: Service {
    let service: GrantsService
    let logger: Logger

    public init(service: GrantsService, logger: Logger = Logger(label: "grants.http")) {
        self.service = service
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await checkSchema()
        } catch let error as GrantsError where error.category == .unavailable {
            logger.warning("database not reachable at start; requests get 503 until it is", metadata: ["error": "\(error)"])
        } catch {
            await service.close()
            throw error
        }
        // Returns on graceful shutdown, throws on cancellation: either way the pool closes.
        try? await gracefulShutdown()
        await service.close()
        logger.info("grants pool closed")
    }

    func checkSchema() async throws {
        let status = try await service.migrationStatus()
        let behind = Self.behind(status)
        guard behind.isEmpty else {
            throw SchemaMismatch(migrations: behind.map { "\($0.version)_\($0.name) (\($0.state.rawValue))" })
        }
        let newer = status.filter { $0.state == .unknown }
        if !newer.isEmpty {
            logger.warning("the database has migrations this build does not know", metadata: ["count": "\(newer.count)"])
        }
        logger.info("grants schema current", metadata: ["migrations": "\(status.count)"])
    }

    /// The migrations this build expects that the database lacks or has in another text.
    static func behind(_ status: [PGMigrationStatus]) -> [PGMigrationStatus] {
        status.filter { $0.state == .pending || $0.state == .edited }
    }
}

/// The database's schema is not the one the library was built for.
public struct SchemaMismatch: Error, CustomStringConvertible {
    public let migrations: [String]
    public var description: String {
        "the database schema is not current (\(migrations.joined(separator: ", "))): run `grants-admin db migrate` first"
    }
}
