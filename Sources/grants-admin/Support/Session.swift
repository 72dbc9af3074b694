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

    /// Runs `body` with a service; errors become one line each on stderr and the contract's exit code.
    /// Unless `checkSchema` is false (the `db` commands), the database must hold this version's schema: not
    /// migrated, behind, or migrated by a newer version is "unavailable" (69) with what to run.
    static func run<T>(
        _ options: GlobalOptions, checkSchema: Bool = true, flags: FlagNames = .standard,
        _ body: (GrantsService) async throws -> T
    ) async throws -> T {
        do {
            let (configuration, embedded) = try configuration(options)
            var logger = Logger(label: "grants-admin")
            logger.logLevel = .error
            let service = GrantsService(configuration: GrantsConfiguration(database: configuration, poolSize: 2), logger: logger)
            do {
                if embedded != nil { try await service.migrate() }
                if checkSchema { try await service.checkSchema() }
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
