import ArgumentParser

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

            Exit codes: 0 done; 1 refused by a rule; 64 usage; 65 invalid input data (nothing written); \
            69 database unavailable; 70 internal error; 73 the output file cannot be written.

            Example:
              grants-admin round record Examples/kommunala-partnerskap-2021-2.yaml
            """,
        version: "1.0.0",
        subcommands: [
            DBCommand.self, LocalCommand.self, ThemeCommand.self, OrgCommand.self, RoundCommand.self,
            ApplicationCommand.self, GrantCommand.self, DisbursementCommand.self, ReportCommand.self, ProgrammeCommand.self,
            AuditCommand.self,
        ]
    )
}
