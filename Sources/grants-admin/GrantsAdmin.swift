import ArgumentParser
import Foundation

@main
struct GrantsAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants-admin",
        abstract: "Record allocation rounds, decisions and disbursements of a municipal partnership programme.",
        discussion: """
            The database is --database URL, else GRANTS_DATABASE_URL, else DATABASE_URL, else the libpq PG* variables \
            when PGHOST, PGDATABASE or PGSERVICE is set, else an embedded PostgreSQL under $GRANTS_HOME \
            (default ~/.local/share/grants-admin; /var/lib/grants-admin when run as root), created, started and \
            migrated on first use.

            Who acts is --actor, else GRANTS_ACTOR, else the database login when it is a person's own (such a \
            login acts only as itself), else the login name.

            Exit codes: 0 done; 1 refused by a rule (also a tranche held back by a report); 3 (local status) not running; 64 usage, also a malformed \
            database URL; 65 invalid input data (nothing written); 69 database unavailable, not migrated or \
            migrated by a newer version; 70 internal error; 73 the --output file cannot be created; 130 or 143 stopped \
            by SIGINT (Ctrl-C) or SIGTERM: what was not committed is rolled back and no temporary file is left.

            Example:
              grants-admin round record Examples/kommunala-partnerskap-2021-2.yaml
            """,
        version: "1.0.0",
        subcommands: [
            DBCommand.self, LocalCommand.self, ThemeCommand.self, OrgCommand.self, RoundCommand.self,
            ApplicationCommand.self, GrantCommand.self, DisbursementCommand.self, RequirementCommand.self, RepaymentCommand.self,
            PartnershipCommand.self, ContactCommand.self, ConflictCommand.self, ReportCommand.self, ProgrammeCommand.self,
            AuditCommand.self, PersonCommand.self, PaymentCommand.self, PeriodCommand.self,
        ]
    )

    /// Argument-parser's own `main`, except that a failed parse reports the parser's error (an unknown flag,
    /// exit 64) ahead of a command's own check (see ``Validation``).
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot(arguments)
        } catch {
            exit(withError: await Validation.parserErrorFirst(error, Self.self, arguments))
        }
        // The command runs as a task that SIGINT and SIGTERM cancel (see ``Interruption``).
        let parsed = UncheckedCommand(command: command)
        let outcome = await Interruption.run {
            var command = parsed.command
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        }
        if let signal = Interruption.signal {
            // The command's own error lines were held back (``Failure/report(_:flags:)``): one line says it all.
            if case .success = outcome {
                Terminal.error(Interruption.message(signal, finished: true))
            } else {
                Terminal.error(Interruption.message(signal, finished: false))
            }
            Foundation.exit(Interruption.exitCode(signal))
        }
        if case .failure(let error) = outcome { exit(withError: error) }
    }
}

/// The parsed command handed to the task that runs it.
private struct UncheckedCommand: @unchecked Sendable {
    // @unchecked: the command is a value parsed on this thread and then used only by the one task that runs it.
    let command: any ParsableCommand
}
