import ArgumentParser
import Foundation
import Grants
import Logging
import PGClient

/// Opens the database the contract names and runs one command against it.
enum Session {
    /// The database login's own name while a command runs on a person's own login and states no actor.
    @TaskLocal static var personalActor: String?

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
    /// The `db` commands, which also run on a database that is not migrated yet, pass `actorFromLogin: false`:
    /// they record no actor.
    static func run<T>(
        _ options: GlobalOptions, migrate: Bool = false, flags: FlagNames = .standard, actorFromLogin: Bool = true,
        _ body: (GrantsService) async throws -> T
    ) async throws -> T {
        do {
            let (configuration, embedded) = try configuration(options)
            var logger = Logger(label: "grants-admin")
            logger.logLevel = .error
            let service = GrantsService(configuration: GrantsConfiguration(database: configuration, poolSize: 2), logger: logger)
            do {
                if embedded != nil || migrate { try await service.migrate() }
                let personal = options.statesActor || !actorFromLogin ? nil : try await service.databaseLogin().personalActor
                let result = try await $personalActor.withValue(personal) { try await body(service) }
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
