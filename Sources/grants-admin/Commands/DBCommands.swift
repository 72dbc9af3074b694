import ArgumentParser
import Foundation
import Grants

struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Migrate the database schema and see its state.",
        subcommands: [Migrate.self, Status.self, Roles.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending schema migrations.",
            discussion: """
                Each migration runs in its own transaction under an advisory lock, so concurrent migrators apply it \
                once; a migration edited after it was applied is refused. The schema is compiled into this program.

                Example:
                  grants-admin db migrate --database postgres://owner@db/grants
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let applied = try await Session.run(global, administration: true) { try await $0.migrate() }
            Terminal.print(
                applied.isEmpty ? "The schema is up to date." : applied.map { "applied \($0.version) \($0.name)" }.joined(separator: "\n"))
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the schema version, which migrations are applied, and a configured replica's replay lag.",
            discussion: """
                With --replica (or GRANTS_REPLICA_URL) it also says whether the replica is a standby, how many bytes \
                of WAL it has still to replay, and how long ago the last transaction it replayed committed. A standby \
                that is down is shown, not an error.

                Examples:
                  grants-admin db status
                  grants-admin db status --replica postgres://standby.example/grants \\
                      --format json
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "text or json") var format: ListFormat = .text

        struct Row: Encodable {
            let version: Int
            let name: String
            let state: String
        }

        struct Replica: Encodable {
            let state: String
            let cause: String?
            let replayLagBytes: UInt64?
            let lastReplaySecondsAgo: Double?
            let replayPaused: Bool
            let replayedPosition: String?
            let primaryPosition: String?
        }

        struct Report: Encodable {
            let schemaVersion: Int?
            let migrations: [Row]
            let replica: Replica?
        }

        func run() async throws {
            let (status, replica) = try await Session.run(global, administration: true) { service in
                (try await service.migrationStatus(), await service.replicaStatus())
            }
            let rows = status.map { Row(version: $0.version, name: $0.name, state: $0.state.rawValue) }
            let report = Report(
                schemaVersion: status.filter { $0.state != .pending }.map(\.version).max(), migrations: rows,
                replica: replica.map(Self.replica))
            try Output.print(report, format: format) {
                Output.table(["version", "name", "state"], rows.map { [String($0.version), $0.name, $0.state] })
                    + "schema version: \(report.schemaVersion.map(String.init) ?? "none (not migrated)")\n"
                    + (replica.map { "replica: \(Self.text($0))\n" } ?? "")
            }
            if status.contains(where: { $0.state == .edited }) { throw ExitCode(1) }
        }

        static func replica(_ status: ReplicaStatus) -> Replica {
            let (state, cause): (String, String?) =
                switch status.state {
                case .standby: ("standby", nil)
                case .notStandby: ("not_standby", nil)
                case .unreachable(let cause): ("unreachable", cause)
                }
            return Replica(
                state: state, cause: cause, replayLagBytes: status.replayLagBytes,
                lastReplaySecondsAgo: status.lastReplayAge.map(seconds),
                replayPaused: status.replayPaused, replayedPosition: status.replayedPosition, primaryPosition: status.primaryPosition)
        }

        static func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }

        static func text(_ status: ReplicaStatus) -> String {
            switch status.state {
            case .unreachable(let cause): return "unreachable (\(cause)): reads go to the primary"
            case .notStandby: return "not a standby (not in recovery): reads go to the primary"
            case .standby:
                var parts = ["standby"]
                parts.append(
                    status.replayLagBytes.map { "replay lag \(counted($0, "byte"))" } ?? "replay lag unknown (the primary cannot be asked)")
                if let replayed = status.replayedPosition { parts.append("replayed \(replayed) of \(status.primaryPosition ?? "?")") }
                if let age = status.lastReplayAge {
                    parts.append("last replayed transaction \(String(format: "%.3f", seconds(age))) s ago")
                }
                if status.replayPaused { parts.append("replay paused") }
                return parts.joined(separator: ", ")
            }
        }
    }

    struct Roles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the grants_owner, grants_staff, grants_service and grants_finance roles and grant their privileges.",
            discussion: """
                Roles are cluster-wide, so a database administrator runs this once per cluster, before or after \
                the first migration. Log-in users are then made members. The owner runs migrations and is the \
                only login that writes tables. A person's own login is granted grants_staff (or grants_finance) \
                and acts as itself. The pool login of a service that authenticates its own users is granted \
                grants_service and states which registered person acts:
                  ALTER ROLE grants_owner LOGIN PASSWORD '…';
                  CREATE ROLE anna LOGIN PASSWORD '…' IN ROLE grants_staff;
                  CREATE ROLE grants_api LOGIN PASSWORD '…' IN ROLE grants_service;

                Example:
                  grants-admin db roles --database postgres://postgres@db/postgres
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Session.run(global, administration: true) { try await $0.createRoles() }
            Terminal.print("Roles \(GrantsService.roles.joined(separator: ", ")) are in place.")
        }
    }
}

struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local", abstract: "Manage the embedded PostgreSQL under $GRANTS_HOME.",
        discussion: "Example:\n  grants-admin local status",
        subcommands: [Status.self, Start.self, Stop.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether the embedded PostgreSQL runs, where, and its connection URL.")
        func run() async throws {
            let cluster = LocalCluster.fromEnvironment()
            do {
                if try cluster.isRunning() {
                    Terminal.print("running: \(cluster.folder.path) (socket \(cluster.socket.path))")
                    // What a service that shares this database (Examples/EmbeddedService) sets GRANTS_DATABASE_URL to.
                    Terminal.print("url: \(cluster.url)")
                } else {
                    Terminal.print(cluster.isInitialized ? "stopped: \(cluster.folder.path)" : "not created yet: \(cluster.folder.path)")
                    throw ExitCode(3)
                }
            } catch let exit as ExitCode {
                throw exit
            } catch {
                throw Failure.report(error)
            }
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create (if needed), start and migrate the embedded PostgreSQL.")
        func run() async throws {
            let cluster = LocalCluster.fromEnvironment()
            do {
                let did = try cluster.ensureRunning()
                let service = GrantsService(configuration: GrantsConfiguration(database: cluster.configuration, poolSize: 1))
                do {
                    try await service.migrate()
                    await service.close()
                } catch {
                    await service.close()
                    throw error
                }
                Terminal.print("running: \(cluster.folder.path)" + (did.map { " (\($0))" } ?? ""))
            } catch {
                throw Failure.report(error)
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded PostgreSQL.")
        func run() async throws {
            let cluster = LocalCluster.fromEnvironment()
            do {
                try cluster.stop()
                Terminal.print("stopped: \(cluster.folder.path)")
            } catch {
                throw Failure.report(error)
            }
        }
    }
}
