import ArgumentParser
import Foundation
import Grants
import Synchronization

struct DisbursementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disbursement", abstract: "Disbursements: schedule, attest, pay, cancel, reverse.",
        subcommands: [Schedule.self, List.self, Attest.self, Pay.self, Cancel.self, Reverse.self])

    static func table(_ disbursements: [Disbursement]) -> String {
        Output.table(
            ["id", "grant", "tranche", "due", "amount", "status", "scheduled_by", "attested_by", "paid_on", "payment_ref"],
            disbursements.map {
                [
                    String($0.id), $0.grantReference, $0.tranche.map(String.init) ?? "", $0.dueOn.iso, $0.amount.display,
                    $0.status.rawValue, $0.scheduledBy,
                    $0.attestedBy ?? "", $0.paidOn?.iso ?? "", $0.paymentReference ?? "",
                ]
            }, right: [0, 2, 4])
    }

    static func describe(_ d: Disbursement) -> String {
        "Disbursement \(d.id) of \(d.grantReference)\(d.tranche.map { " (tranche \($0))" } ?? ""): \(d.amount.display) due \(d.dueOn), \(d.status.rawValue)"
            + (d.paidOn.map { " on \($0)" } ?? "")
    }

    struct Schedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Schedule a tranche of a grant.",
            discussion: """
                Refused (exit 1) when the grant's scheduled and paid disbursements would pass its award, or when the \
                grant is settled; the due date must lie inside the grant's period (exit 65). Tranches are numbered \
                1, 2, … per grant; a tranche that a reporting requirement holds back cannot be attested or paid until \
                the report is approved or waived. With --idempotency-key, a retry of the same request (after a lost \
                reply) schedules nothing new. --format json prints the disbursement, so a script can take its id.

                Examples:
                  grants-admin disbursement schedule KP-2023-1-01 --amount "275 000" \\
                      --due 2023-09-30
                  ID=$(grants-admin disbursement schedule KP-2023-1-01 --amount "275 000" \\
                      --due 2024-09-30 --format json | sed -n 's/^ *"id" : \\([0-9]*\\).*/\\1/p')
                  grants-admin disbursement attest "$ID" --actor bertil
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The grant's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?
        @Option(parsing: .unconditional, help: "The amount.") var amount: String
        @Option(help: "The due date.") var due: CalendarDate
        @Option(help: "The tranche number (default: the next one; a cancelled tranche's number is free again).") var tranche: Int?
        @Option(name: .customLong("idempotency-key"), parsing: .unconditional, help: "A key that makes a retried request apply once.")
        var idempotencyKey: String?
        @Option(help: "text or json (the disbursement, with its id, for scripts).") var format: ListFormat = .text

        func validate() throws {
            guard Validation.isOn else { return }
            try validateAmount(amount, flag: "--amount")
        }

        func run() async throws {
            let d = try await Session.run(global) { service in
                let currency = try await service.grants.get(reference, programme: programme).grant.amount.currency
                return try await service.disbursements.schedule(
                    reference, programme: programme, amount: try Money(parsing: amount, currency: currency), dueOn: due,
                    tranche: tranche, idempotencyKey: idempotencyKey, actor: global.resolvedActor)
            }
            try Output.print(d, format: format) { DisbursementCommand.describe(d) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List disbursements by due date.",
            discussion: """
                --format json prints the rows with the columns of the disbursement report; --format ids prints \
                only their ids, one a line, for scripts.

                Examples:
                  grants-admin disbursement list --status attested --due-before 2022-02-01
                  grants-admin disbursement list --round 2021:2 --status scheduled \\
                      --format ids
                """)
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this round.") var round: String?
        @Option(parsing: .unconditional, help: "Only this programme.") var programme: String?
        @Option(help: "scheduled, attested, paid, cancelled or reversal.") var status: DisbursementStatus?
        @Option(name: .customLong("due-before"), help: "Only those due before this date.") var dueBefore: CalendarDate?
        @Option(help: "text, json or ids") var format: IDListFormat = .text

        func run() async throws {
            switch format {
            case .json:
                try await Session.run(global) { service in
                    var filter = ReportFilter(programme: programme, round: round, status: status)
                    if let dueBefore { filter.to = try CalendarDate(daysSinceEpoch: dueBefore.daysSinceEpoch - 1) }
                    let output = ReportOutput.standardOutput()
                    try await service.reports.disbursements(filter, format: .json, to: output)
                    try output.commit()
                }
            case .text, .ids:
                let rows = try await Session.run(global) {
                    try await $0.disbursements.list(
                        DisbursementFilter(programme: programme, round: round, status: status, dueBefore: dueBefore))
                }
                if format == .ids { Output.ids(rows.map(\.id)) } else { Terminal.print(DisbursementCommand.table(rows)) }
            }
        }
    }

    struct Attest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Attest a scheduled disbursement (four-eyes: not by who scheduled it).",
            discussion: """
                Example:
                  ID=$(grants-admin disbursement list --round 2023:1 --status scheduled \\
                      --format ids | head -n 1)
                  grants-admin disbursement attest "$ID" --actor bertil
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The disbursement's id.") var id: Int64
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let d = try await Session.run(global) { try await $0.disbursements.attest(id, actor: global.resolvedActor) }
            try Output.print(d, format: format) { DisbursementCommand.describe(d) }
        }
    }

    struct Pay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the payment of an attested disbursement.",
            discussion: """
                The payment date can be neither before the grant's decision nor in the future (exit 65). Paying again \
                with the same date and reference changes nothing.

                Example:
                  ID=$(grants-admin disbursement list --round 2023:1 --status attested \\
                      --format ids | head -n 1)
                  grants-admin disbursement pay "$ID" --paid-on 2023-10-02 \\
                      --payment-ref "BG 5050-1055 / 2023-1002" --actor bertil
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The disbursement's id.") var id: Int64
        @Option(name: .customLong("paid-on"), help: "The payment date.") var paidOn: CalendarDate
        @Option(name: .customLong("payment-ref"), parsing: .unconditional, help: "The bank's payment reference.") var paymentRef: String
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let d = try await Session.run(global) {
                try await $0.disbursements.pay(id, paidOn: paidOn, paymentReference: paymentRef, actor: global.resolvedActor)
            }
            try Output.print(d, format: format) { DisbursementCommand.describe(d) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a disbursement that is not paid.",
            discussion: """
                --on is the cancellation's business date (default: today): neither in the future nor before the \
                grant's decision, and not inside a closed period (exit 1).

                Example:
                  ID=$(grants-admin disbursement list --round 2021:2 --status scheduled \\
                      --format ids | tail -n 1)
                  grants-admin disbursement cancel "$ID" --reason "Project shortened" \\
                      --on 2022-11-30
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The disbursement's id.") var id: Int64
        @Option(parsing: .unconditional, help: "Why.") var reason: String
        @Option(help: "The cancellation's business date (default: today, local date).") var on: CalendarDate?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let d = try await Session.run(global) {
                try await $0.disbursements.cancel(id, on: on ?? .today, reason: reason, actor: global.resolvedActor)
            }
            try Output.print(d, format: format) { DisbursementCommand.describe(d) }
        }
    }

    struct Reverse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a paid disbursement with a reversal entry.",
            discussion: """
                The date can be neither before the payment nor in the future (exit 65). Reversing again with the same \
                date and reason changes nothing; another date or reason is refused (exit 1) with the differences.

                Example (a tranche paid to the wrong account):
                  ID=$(grants-admin disbursement list --round 2023:1 --status attested \\
                      --format ids | head -n 1)
                  grants-admin disbursement pay "$ID" --paid-on 2024-10-01 \\
                      --payment-ref "BG 5050-1055 / 2024-1001" --actor bertil
                  grants-admin disbursement reverse "$ID" --on 2024-10-15 \\
                      --reason "Paid to the wrong account"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The paid disbursement's id.") var id: Int64
        @Option(help: "The reversal's date.") var on: CalendarDate
        @Option(parsing: .unconditional, help: "Why.") var reason: String
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let d = try await Session.run(global) {
                try await $0.disbursements.reverse(id, on: on, reason: reason, actor: global.resolvedActor)
            }
            try Output.print(d, format: format) { DisbursementCommand.describe(d) + " (reverses \(id))" }
        }
    }
}
