import Logging
import ServiceLifecycle

/// `GrantsService` is a swift-service-lifecycle `Service`: list it in your `ServiceGroup` *before* the server
/// that uses it. A group shuts its services down in reverse order, so the server drains its requests first and
/// the pools close last.
///
/// ```swift
/// let group = ServiceGroup(services: [service, httpServer], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
extension GrantsService: Service {
    /// Checks the schema, then runs until graceful shutdown (or cancellation) and closes the pools.
    ///
    /// A database whose schema is not the one this library needs (not migrated, behind, or migrated by a newer
    /// version) stops the group at start with a `GrantsError` of code `schemaMismatch` saying what to do; the service
    /// never migrates a shared database by itself. A database that cannot be reached at start is not fatal: it is
    /// logged, and calls fail with `.unavailable` until it is back.
    public func run() async throws(GrantsError) {
        let mismatch: String?
        do {
            mismatch = try await run("grants.lifecycle.start") { try Self.schemaMismatch($0) }
        } catch where error.category == .unavailable && error.code != .schemaMismatch {
            logger.warning("database not reachable at start; calls fail as unavailable until it is", metadata: ["error": "\(error)"])
            mismatch = nil
        } catch {
            await close()
            throw error
        }
        if let mismatch {
            await close()
            throw GrantsError.schemaMismatch(mismatch)
        }
        // Returns on graceful shutdown and throws on cancellation: either way the pools close.
        try? await gracefulShutdown()
        await close()
        logger.info("grants service closed")
    }
}
