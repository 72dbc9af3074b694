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
        let urls = [
            ("--database", options.database), ("GRANTS_DATABASE_URL", environment["GRANTS_DATABASE_URL"]),
            ("DATABASE_URL", environment["DATABASE_URL"]),
        ]
        for (source, url) in urls {
            if let url, !url.isEmpty { return (try databaseURL(url, from: source), nil) }
        }
        if ["PGHOST", "PGDATABASE", "PGSERVICE"].contains(where: { !(environment[$0] ?? "").isEmpty }) {
            return (PGConfiguration.environment, nil)
        }
        let cluster = LocalCluster.fromEnvironment()
        let did = try cluster.ensureRunning()
        // Said once, when the cluster had to be created or started; a command on a running cluster stays quiet.
        if let did { Terminal.note("using the embedded PostgreSQL in \(cluster.folder.path) (\(did))") }
        return (cluster.configuration, cluster)
    }

    /// A database URL, refused as a usage error (64) when libpq cannot parse it or when a value libpq would
    /// only reject while connecting (a port, a timeout, an sslmode) is malformed: a typo is not an outage.
    static func databaseURL(_ url: String, from source: String) throws -> PGConfiguration {
        let configuration: PGConfiguration
        do {
            configuration = try PGConfiguration(url: url)
        } catch let error as PGError {
            throw UsageError(description: "\(source): \(PGConfiguration.redacting(error.message, url: url))")
        }
        func integers(_ keyword: String, _ range: ClosedRange<Int>) throws {
            guard let value = configuration[keyword] else { return }
            // libpq takes a list of ports, one per host; an empty entry means the default.
            for part in value.split(separator: ",", omittingEmptySubsequences: false) where !part.isEmpty {
                guard let number = Int(part.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
                    // The value is not echoed: in a URL missing its `@host`, the "port" is the password.
                    throw UsageError(description: "\(source): invalid database URL: \(keyword) is not a number in \(range)")
                }
            }
        }
        try integers("port", 1...65535)
        try integers("connect_timeout", 0...Int(Int32.max))
        let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
        if let mode = configuration["sslmode"], !sslModes.contains(mode) {
            throw UsageError(
                description: "\(source): invalid database URL: sslmode is not one of \(sslModes.joined(separator: ", "))")
        }
        return configuration
    }

    /// The standby for reports and listings: --replica, else GRANTS_REPLICA_URL, else none.
    static func replica(_ options: GlobalOptions) throws -> PGConfiguration? {
        for url in [options.replica, ProcessInfo.processInfo.environment["GRANTS_REPLICA_URL"]] {
            if let url, !url.isEmpty { return try databaseURL(url, from: "the replica URL") }
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

    /// The embedded database is one person's: on first use it registers the local user (the default actor),
    /// so the first command works before anyone has run `person add`. Others are registered by name.
    static func registerLocalUser(_ service: GrantsService, _ options: GlobalOptions) async throws {
        let login = options.localUser
        guard (try? ActorName(login)) != nil, try await service.persons.find(login) == nil else { return }
        if try await !service.persons.list().isEmpty { return }
        try await service.persons.add(login, name: login, actor: nil)
    }

    /// Runs `body` with a service; errors become one line each on stderr and the contract's exit code.
    /// The `db` commands (`administration`) also run on a database that is not migrated yet, or migrated by
    /// another version, and record no actor; every other command needs this version's schema (not migrated,
    /// behind, or migrated by a newer version is "unavailable", 69, with what to run).
    static func run<T>(
        _ options: GlobalOptions, administration: Bool = false, flags: FlagNames = .standard,
        _ body: (GrantsService) async throws -> T
    ) async throws -> T {
        do {
            return try await withService(options, administration: administration, body)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Failure.report(error, flags: flags)
        }
    }

    /// ``run(_:administration:flags:_:)`` without reporting: errors are thrown as they are, for a caller that
    /// has something of its own to say when the database cannot answer.
    static func withService<T>(
        _ options: GlobalOptions, administration: Bool = false, _ body: (GrantsService) async throws -> T
    ) async throws -> T {
        do {
            let (configuration, embedded) = try configuration(options)
            var logger = Logger(label: "grants-admin")
            logger.logLevel = .error
            let service = GrantsService(configuration: try grantsConfiguration(configuration, options), logger: logger)
            do {
                if embedded != nil {
                    try await service.migrate()
                    try await registerLocalUser(service, options)
                }
                var personal: String? = nil
                do throws(GrantsError) {
                    if !administration { try await service.checkSchema() }
                    personal = options.statesActor || administration ? nil : try await service.databaseLogin().personalActor
                } catch {
                    // The primary is down and stale reads are allowed: a listing or report may still be answered by
                    // the standby (which says how stale it may be); a write fails on the primary as it would anyway.
                    guard error.code == .unavailable && options.allowStale else { throw error }
                }
                let result = try await $personalActor.withValue(personal) { try await body(service) }
                await service.close()
                return result
            } catch {
                await service.close()
                throw error
            }
        }
    }
}
