import ArgumentParser
import Foundation
import Grants

struct PeriodCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "period",
        abstract: "Close and reopen a programme's years and months: finance's books.",
        discussion: """
            A closed period accepts no event dated inside it: no decision, amendment, payment, reversal, \
            cancellation, settlement, repayment or closing (exit 1, naming the period, who closed it and the \
            first open day). A late correction is dated in the first open period and names the event it \
            corrects (grant amend --corrects; a reversal or cancellation names its disbursement). A closed year \
            covers its months. Only a finance login (grants_finance) or the owner closes and reopens periods.
            """,
        subcommands: [Close.self, Open.self, List.self])

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a year (YYYY) or a month (YYYY-MM) of a programme's books.",
            discussion: """
                --programme may be left out when the database has one programme. Closing a closed period again \
                changes nothing.

                Examples:
                  grants-admin period close 2022 --programme "Kommunala partnerskap"
                  grants-admin period close 2023-01 --programme "Kommunala partnerskap"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "YYYY or YYYY-MM.") var period: String
        @Option(parsing: .unconditional, help: "The programme whose books these are.") var programme: String?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let closed = try await Session.run(global) {
                try await $0.periods.close(period, programme: programme, actor: global.resolvedActor)
            }
            try Output.print(closed, format: format) {
                "Period \(closed.period) of \(closed.programme) closed by \(closed.closedBy)"
            }
        }
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reopen a closed year or month, with the reason (audited).",
            discussion: """
                Events dated inside it are recorded again until it is closed again (period close). A month \
                inside a closed year stays closed until the year is reopened.

                Example:
                  grants-admin period open 2022 --programme "Kommunala partnerskap" \\
                      --reason "Bank booked the 2022-12-30 payment late"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "YYYY or YYYY-MM.") var period: String
        @Option(parsing: .unconditional, help: "The programme whose books these are.") var programme: String?
        @Option(parsing: .unconditional, help: "Why it is reopened.") var reason: String
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let opened = try await Session.run(global) {
                try await $0.periods.open(period, programme: programme, reason: reason, actor: global.resolvedActor)
            }
            try Output.print(opened, format: format) {
                "Period \(opened.period) of \(opened.programme) reopened by \(opened.reopenedBy ?? ""): \(opened.reopenReason ?? "")"
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List closed and reopened periods: state, who closed or reopened them, when, and why.",
            discussion: "Example:\n  grants-admin period list --programme \"Kommunala partnerskap\"")
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this programme's periods.") var programme: String?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let periods = try await Session.run(global) { try await $0.periods.list(programme: programme) }
            try Output.print(periods, format: format) {
                Output.table(
                    ["programme", "period", "state", "closed_by", "closed", "reopened_by", "reopened", "reason"],
                    periods.map {
                        [
                            $0.programme, $0.period, $0.status.rawValue, $0.closedBy, PersonCommand.day($0.closedAt),
                            $0.reopenedBy ?? "", $0.reopenedAt.map(PersonCommand.day) ?? "", $0.reopenReason ?? "",
                        ]
                    })
            }
        }
    }
}

/// `--corrects decision` or `--corrects 12` (an amendment's id, as `grant show` lists it).
extension CorrectedEvent: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
