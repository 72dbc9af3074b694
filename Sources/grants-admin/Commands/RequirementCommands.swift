import ArgumentParser
import Foundation
import Grants

struct RequirementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requirement", abstract: "Reporting requirements: the reports grantees owe, and the tranches they hold back.",
        discussion: """
            A requirement moves due → received → approved, or received → returned → received again; waived ends it. \
            While a requirement with --before-tranche N is neither approved nor waived, tranche N of its grant and \
            every later tranche cannot be attested or paid, whatever is cancelled or renumbered (exit 1, naming the \
            requirement).

            Example:
              grants-admin requirement list --grant KP-2022-1-01
            """,
        subcommands: [Add.self, List.self, Receive.self, Approve.self, Return.self, Waive.self])

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, csv, ids }

    static func describe(_ r: ReportingRequirement) -> String {
        "Requirement \(r.id) of \(r.grantReference): \(r.kind.rawValue) report due \(r.dueOn)"
            + (r.beforeTranche.map { ", before tranche \($0)" } ?? "") + ", \(r.status.rawValue)"
    }

    static let columns = [
        "id", "programme", "round", "grant_reference", "kind", "due_on", "before_tranche", "status", "received_on", "approved_on",
        "reason",
    ]

    static func cells(_ r: ReportingRequirement) -> [String] {
        [
            String(r.id), r.programme, r.round, r.grantReference, r.kind.rawValue, r.dueOn.iso, r.beforeTranche.map(String.init) ?? "",
            r.status.rawValue, r.receivedOn?.iso ?? "", r.approvedOn?.iso ?? "", r.reason ?? "",
        ]
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a report the grantee owes.",
            discussion: """
                The grant, kind and due date are the requirement's key: adding the same one again changes nothing. With \
                --before-tranche N, tranche N and every later tranche are held back until the report is approved or waived.

                Example:
                  grants-admin requirement add KP-2023-1-01 --kind interim --due 2024-08-31 \\
                      --before-tranche 2
                  grants-admin requirement add KP-2023-1-01 --kind final --due 2025-10-31
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "text or json (the requirement, with its id, for scripts).") var format: ListFormat = .text
        @Argument(help: "The grant's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?
        @Option(help: "interim or final.") var kind: ReportKind
        @Option(help: "The due date.") var due: CalendarDate
        @Option(name: .customLong("before-tranche"), help: "The tranche (1 is the first) held back until the report is approved.")
        var beforeTranche: Int?

        func run() async throws {
            let r = try await Session.run(global) {
                try await $0.requirements.add(
                    reference, programme: programme, kind: kind, dueOn: due, beforeTranche: beforeTranche, actor: global.resolvedActor)
            }
            try Output.print(r, format: format) { RequirementCommand.describe(r) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List reporting requirements by due date.",
            discussion: """
                --overdue lists those past due and neither approved nor waived, as of today or --as-of. --format csv \
                writes RFC 4180 CSV with the columns of --format json; --format ids prints only their ids, one a \
                line, for scripts.

                Examples:
                  grants-admin requirement list --round 2021:2 --overdue --as-of 2023-01-15 \\
                      --format csv
                  grants-admin requirement list --grant KP-2022-1-01 --status due --format ids
                """)
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this round.") var round: String?
        @Option(parsing: .unconditional, help: "Only this programme.") var programme: String?
        @Option(parsing: .unconditional, help: "Only this grant (its reference).") var grant: String?
        @Option(help: "due, received, approved, returned or waived.") var status: RequirementStatus?
        @Flag(help: "Only those past due and neither approved nor waived.") var overdue = false
        @Option(name: .customLong("as-of"), help: "The day --overdue is judged on (default today).") var asOf: CalendarDate?
        @Option(help: "text, json, csv or ids") var format: Format = .text

        func validate() throws {
            if asOf != nil && !overdue { throw ValidationError("--as-of goes with --overdue") }
        }

        func run() async throws {
            let filter = RequirementFilter(
                programme: programme, round: round, grant: grant, status: status, overdueAsOf: overdue ? (asOf ?? .today) : nil)
            let rows = try await Session.run(global) { try await $0.requirements.list(filter) }
            switch format {
            case .json: Terminal.print(try Output.json(rows))
            case .ids: Output.ids(rows.map(\.id))
            case .csv:
                Terminal.print(
                    ([RequirementCommand.columns] + rows.map(RequirementCommand.cells)).map(Output.csvLine).joined())
            case .text:
                Terminal.print(
                    Output.table(
                        ["id", "grant", "kind", "due", "before_tranche", "status", "received", "approved"],
                        rows.map {
                            [
                                String($0.id), $0.grantReference, $0.kind.rawValue, $0.dueOn.iso, $0.beforeTranche.map(String.init) ?? "",
                                $0.status.rawValue, $0.receivedOn?.iso ?? "", $0.approvedOn?.iso ?? "",
                            ]
                        }, right: [0, 4]))
            }
        }
    }

    struct Receive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that a report arrived (also again after it was returned).",
            discussion: """
                Example:
                  ID=$(grants-admin requirement list --grant KP-2023-1-01 --status due \\
                      --format ids | head -n 1)
                  grants-admin requirement receive "$ID" --on 2024-08-28
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "text or json (the requirement, with its id, for scripts).") var format: ListFormat = .text
        @Argument(help: "The requirement's id.") var id: Int64
        @Option(help: "The day it arrived.") var on: CalendarDate

        func run() async throws {
            let r = try await Session.run(global) { try await $0.requirements.receive(id, on: on, actor: global.resolvedActor) }
            try Output.print(r, format: format) { RequirementCommand.describe(r) }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a received report; the tranches it held back are released.",
            discussion: """
                Example:
                  ID=$(grants-admin requirement list --grant KP-2023-1-01 --status received \\
                      --format ids | head -n 1)
                  grants-admin requirement approve "$ID" --on 2024-09-05
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "text or json (the requirement, with its id, for scripts).") var format: ListFormat = .text
        @Argument(help: "The requirement's id.") var id: Int64
        @Option(help: "The day it was approved.") var on: CalendarDate

        func run() async throws {
            let r = try await Session.run(global) { try await $0.requirements.approve(id, on: on, actor: global.resolvedActor) }
            try Output.print(r, format: format) { RequirementCommand.describe(r) }
        }
    }

    struct Return: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return a received report to the grantee for changes.",
            discussion: """
                Example:
                  ID=$(grants-admin requirement list --grant KP-2023-1-01 --status due \\
                      --format ids | head -n 1)
                  grants-admin requirement receive "$ID" --on 2025-10-20
                  grants-admin requirement return "$ID" \\
                      --reason "The budget follow-up is missing"
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "text or json (the requirement, with its id, for scripts).") var format: ListFormat = .text
        @Argument(help: "The requirement's id.") var id: Int64
        @Option(parsing: .unconditional, help: "What must change.") var reason: String

        func run() async throws {
            let r = try await Session.run(global) {
                try await $0.requirements.returnForChanges(id, reason: reason, actor: global.resolvedActor)
            }
            try Output.print(r, format: format) { RequirementCommand.describe(r) }
        }
    }

    struct Waive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Waive a requirement; the tranches it held back are released.",
            discussion: """
                Example:
                  ID=$(grants-admin requirement list --grant KP-2023-1-01 --status returned \\
                      --format ids | head -n 1)
                  grants-admin requirement waive "$ID" \\
                      --reason "Reported at the partnership conference"
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "text or json (the requirement, with its id, for scripts).") var format: ListFormat = .text
        @Argument(help: "The requirement's id.") var id: Int64
        @Option(parsing: .unconditional, help: "Why.") var reason: String

        func run() async throws {
            let r = try await Session.run(global) { try await $0.requirements.waive(id, reason: reason, actor: global.resolvedActor) }
            try Output.print(r, format: format) { RequirementCommand.describe(r) }
        }
    }
}

extension ReportKind: ExpressibleByArgument {}
extension RequirementStatus: ExpressibleByArgument {}
