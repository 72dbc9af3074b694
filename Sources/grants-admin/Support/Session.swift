import ArgumentParser
import Foundation
import Grants
import Logging
import PGClient

/// Opens the database the contract names and runs one command against it.
enum Session {
    /// Which database: --database, GRANTS_DATABASE_URL, DATABASE_URL, the PG* environment, else the embedded default.
    static func configuration(_ options: GlobalOptions) throws -> (PGConfiguration, embedded: LocalCluster?) {
        let environment = ProcessInfo.processInfo.environment
        for url in [options.database, environment["GRANTS_DATABASE_URL"], environment["DATABASE_URL"]] {
            if let url, !url.isEmpty { return (try PGConfiguration(url: url), nil) }
        }
        if ["PGHOST", "PGDATABASE", "PGSERVICE"].contains(where: { !(environment[$0] ?? "").isEmpty }) {
            return (PGConfiguration.environment, nil)
        }
        let cluster = LocalCluster.fromEnvironment()
        let did = try cluster.ensureRunning()
        Terminal.note("using the embedded PostgreSQL in \(cluster.folder.path)" + (did.map { " (\($0))" } ?? ""))
        return (cluster.configuration, cluster)
    }

    /// The standby for reports and listings: --replica, else GRANTS_REPLICA_URL, else none.
    static func replica(_ options: GlobalOptions) throws -> PGConfiguration? {
        for url in [options.replica, ProcessInfo.processInfo.environment["GRANTS_REPLICA_URL"]] {
            if let url, !url.isEmpty { return try PGConfiguration(url: url) }
        }
        return nil
    }

    /// The library's configuration for one command: a small pool, the replica settings, and notices of reads
    /// that went to the primary instead (or to a standby without the primary) as one line each on stderr.
    static func grantsConfiguration(_ database: PGConfiguration, _ options: GlobalOptions) throws -> GrantsConfiguration {
        var configuration = GrantsConfiguration(
            database: database, replica: try replica(options), poolSize: 2, allowStaleReads: options.allowStale)
        if let wait = options.replicaWait { configuration.replicaWaitLimit = .milliseconds(Int64((wait * 1000).rounded())) }
        configuration.replicaNotices = { Terminal.note("\($0)") }
        return configuration
    }

    /// Runs `body` with a service; errors become one line each on stderr and the contract's exit code.
    static func run<T>(
        _ options: GlobalOptions, migrate: Bool = false, flags: FlagNames = .standard, _ body: (GrantsService) async throws -> T
    ) async throws -> T {
        do {
            let (configuration, embedded) = try configuration(options)
            var logger = Logger(label: "grants-admin")
            logger.logLevel = .error
            let service = GrantsService(configuration: try grantsConfiguration(configuration, options), logger: logger)
            do {
                if embedded != nil || migrate { try await service.migrate() }
                let result = try await body(service)
                await service.close()
                return result
            } catch {
                await service.close()
                throw error
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Failure.report(error, flags: flags)
        }
    }
}
