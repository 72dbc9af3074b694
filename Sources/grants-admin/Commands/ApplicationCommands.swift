import ArgumentParser
import Grants

struct ApplicationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "application", abstract: "Applications and decisions on them, one at a time.",
        subcommands: [Submit.self, List.self, Approve.self, Reject.self, Withdraw.self])

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit an application to an open round.",
            discussion: """
                ORG is an organisationsnummer or the exact name of a recorded organisation. The reference is the \
                application's idempotency key: submitting the same application again changes nothing.

                Examples:
                  grants-admin application submit --round 2023:1 --reference KP-2023-1-01 \\
                      --applicant 212000-0662 --partner "Kisumu County" \\
                      --theme citizen-dialogue --amount "600 000" \\
                      --start 2023-09-01 --end 2025-08-31
                  grants-admin application submit --round 2023:1 --reference KP-2023-1-02 \\
                      --applicant "Umeå kommun" --partner "Homa Bay County" "Busia County" \\
                      --theme equal-health-care --amount "900 000" \\
                      --start 2023-09-01 --end 2025-08-31
                  grants-admin application submit --round 2023:1 --reference KP-2023-1-03 \\
                      --applicant "Kalix kommun" --partner "Lusaka City Council" \\
                      --theme women-in-politics --amount "750 000" \\
                      --start 2024-01-01 --end 2025-12-31
                """)
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "The round's name.") var round: String
        @Option(parsing: .unconditional, help: "The programme, where two share the round's name.") var programme: String?
        @Option(parsing: .unconditional, help: "The application's reference, unique within the programme.") var reference: String
        @Option(parsing: .unconditional, help: "The Swedish applicant (ORG).") var applicant: String
        @Option(
            name: .customLong("partner"), parsing: .upToNextOption,
            help: "Partner organisations abroad (ORG): --partner A B, or --partner A --partner B.")
        var partners: [String] = []
        @Option(name: .customLong("theme"), parsing: .upToNextOption, help: "Theme codes: --theme a b, or --theme a --theme b.")
        var themes: [String] = []
        @Option(parsing: .unconditional, help: "The amount applied for.") var amount: String
        @Option(help: "The period's first day (YYYY-MM-DD).") var start: CalendarDate
        @Option(help: "The period's last day (YYYY-MM-DD).") var end: CalendarDate
        @Option(help: "inception or project.") var phase: Phase = .project
        @Option(parsing: .unconditional, help: "The partnership's title.") var title: String?
        @Option(parsing: .unconditional, help: "The earlier grant (same applicant) whose partnership this application continues.")
        var continues: String?

        func validate() throws {
            guard Validation.isOn else { return }
            try validateAmount(amount, flag: "--amount")
            if partners.isEmpty { throw ValidationError("at least one --partner is required") }
            if themes.isEmpty { throw ValidationError("at least one --theme is required") }
            if end < start { throw ValidationError("--end \(end) is before --start \(start)") }
        }

        func run() async throws {
            let application = try await Session.run(global) { service in
                let currency = try await service.rounds.get(round, programme: programme).currency
                return try await service.applications.submit(
                    NewApplication(
                        round: round, programme: programme, reference: reference, title: title, applicant: applicant,
                        partners: partners, themes: themes, phase: phase, requested: try Money(parsing: amount, currency: currency),
                        startsOn: start, endsOn: end, continues: continues),
                    actor: global.resolvedActor)
            }
            Terminal.print(
                "Application \(application.reference) submitted to round \(application.round): \(application.requested.display) requested")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List applications.", discussion: "Example:\n  grants-admin application list --round 2023:1 --status submitted")
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this round.") var round: String?
        @Option(parsing: .unconditional, help: "Only this programme.") var programme: String?
        @Option(help: "submitted, approved, rejected or withdrawn.") var status: ApplicationStatus?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let applications = try await Session.run(global) {
                try await $0.applications.list(round: round, programme: programme, status: status)
            }
            try Output.print(applications, format: format) {
                Output.table(
                    ["reference", "round", "applicant", "partners", "requested", "status"],
                    applications.map {
                        [
                            $0.reference, $0.round, $0.applicant.name, $0.partners.map(\.name).joined(separator: ", "),
                            $0.requested.display, $0.status.rawValue,
                        ]
                    }, right: [4])
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve an application with an awarded amount; its grant is created.",
            discussion: """
                Refused (exit 1) when the award would take the round past its budget; the message says by how much. \
                The decision date cannot be in the future, and an award above the amount requested is refused \
                (exit 65) unless --above-requested says it is meant.

                Example:
                  grants-admin application approve KP-2023-1-01 --amount "550 000" \\
                      --decided-on 2023-05-20 --decision-ref "Beslut 2023:14"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The application's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?
        @Option(parsing: .unconditional, help: "The awarded amount.") var amount: String
        @Option(name: .customLong("decided-on"), help: "The decision date.") var decidedOn: CalendarDate
        @Option(name: .customLong("decision-ref"), parsing: .unconditional, help: "The decision's reference.") var decisionRef: String?
        @Flag(name: .customLong("above-requested"), help: "Award more than the application requested, on purpose.")
        var aboveRequested = false

        func validate() throws {
            guard Validation.isOn else { return }
            try validateAmount(amount, flag: "--amount")
        }

        func run() async throws {
            let grant = try await Session.run(global) { service in
                let currency = try await service.applications.get(reference, programme: programme).requested.currency
                return try await service.approvals.approve(
                    reference, programme: programme, amount: try Money(parsing: amount, currency: currency), decidedOn: decidedOn,
                    decisionRef: decisionRef, aboveRequested: aboveRequested, actor: global.resolvedActor)
            }
            Terminal.print("Approved \(grant.reference): \(grant.amount.display) awarded in round \(grant.round)")
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject an application.",
            discussion: """
                Example:
                  grants-admin application reject KP-2023-1-02 --decided-on 2023-05-20 \\
                      --reason "Outside the call's themes"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The application's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?
        @Option(name: .customLong("decided-on"), help: "The decision date.") var decidedOn: CalendarDate
        @Option(parsing: .unconditional, help: "Why.") var reason: String

        func run() async throws {
            let decision = try await Session.run(global) {
                try await $0.approvals.reject(
                    reference, programme: programme, decidedOn: decidedOn, reason: reason, actor: global.resolvedActor)
            }
            Terminal.print("Rejected \(decision.reference) on \(decision.decidedOn)")
        }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a submitted application.", discussion: "Example:\n  grants-admin application withdraw KP-2023-1-03")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The application's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?

        func run() async throws {
            let application = try await Session.run(global) {
                try await $0.applications.withdraw(reference, programme: programme, actor: global.resolvedActor)
            }
            Terminal.print("Withdrawn: \(application.reference)")
        }
    }
}

struct GrantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant", abstract: "Grants: list, show, amend, settle, close.",
        subcommands: [List.self, Show.self, Amend.self, Settle.self, Close.self])

    static func table(_ grants: [Grant]) -> String {
        Output.table(
            ["reference", "recipient", "partners", "themes", "awarded", "paid", "status"],
            grants.map {
                [
                    $0.reference, $0.applicant.name, $0.partners.map { "\($0.name) (\($0.country))" }.joined(separator: ", "),
                    $0.themes.joined(separator: ", "), $0.amount.display, $0.paid.display, $0.status.rawValue,
                ]
            }, right: [4, 5])
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List grants.", discussion: "Example:\n  grants-admin grant list --round 2021:2")
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this round.") var round: String?
        @Option(parsing: .unconditional, help: "Only this programme.") var programme: String?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let grants = try await Session.run(global) { try await $0.grants.list(round: round, programme: programme) }
            try Output.print(grants, format: format) { GrantCommand.table(grants) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a grant with its amendments and disbursements.", discussion: "Example:\n  grants-admin grant show KP-2021-2-01")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The grant's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let detail = try await Session.run(global) { try await $0.grants.get(reference, programme: programme) }
            try Output.print(detail, format: format) {
                let g = detail.grant
                var lines = [
                    "Grant \(g.reference) (\(g.status.rawValue)): \(g.title ?? "")",
                    "  programme  \(g.programme), round \(g.round), decided \(g.decidedOn)\(g.decisionRef.map { " (\($0))" } ?? "")",
                    "  recipient  \(g.applicant.name)\(g.applicant.orgNumber.map { " (\($0))" } ?? "")",
                    "  partners   \(g.partners.map { "\($0.name) (\($0.country))" }.joined(separator: ", "))",
                    "  themes     \(g.themes.joined(separator: ", ")); phase \(g.phase.rawValue)",
                    "  period     \(g.startsOn) to \(g.endsOn)\(g.endsOn != g.originalEndsOn ? " (originally \(g.originalEndsOn))" : "")",
                    "  awarded    \(g.amount.display)\(g.amount != g.originalAmount ? " (originally \(g.originalAmount.display))" : ""); requested \(g.requested.display)",
                    "  scheduled  \(g.committed.display); paid \(g.paid.display)\(g.reclaimed.map { "; reclaimed \($0.display)" } ?? "")",
                ]
                if let continues = detail.continues { lines.append("  continues  \(continues)") }
                if let s = detail.settlement {
                    lines.append(
                        "  settled    \(s.settledOn): spent \(s.spent.display); claimed \(s.claimed.display), repaid \(s.repaid.display)"
                            + (s.writtenOff.minorUnits > 0 ? ", written off \(s.writtenOff.display) (\(s.writeOffReason ?? ""))" : "")
                            + "; open \(s.open.display)" + (s.ocrReference.map { "; OCR \($0)" } ?? ""))
                }
                for r in detail.requirements {
                    lines.append(
                        "  report     \(r.id): \(r.kind.rawValue) due \(r.dueOn)\(r.beforeTranche.map { " before tranche \($0)" } ?? ""), \(r.status.rawValue)"
                    )
                }
                for amendment in detail.amendments {
                    lines.append(
                        "  amended    \(amendment.id) on \(amendment.amendedOn): \(amendment.amountChange.minorUnits == 0 ? "" : amendment.amountChange.display + " ")\(amendment.newEndsOn.map { "to \($0) " } ?? "")by \(amendment.amendedBy): \(amendment.reason)"
                            + (amendment.corrects.map { " (corrects \($0))" } ?? "")
                    )
                }
                return lines.joined(separator: "\n") + "\n\n" + DisbursementCommand.table(detail.disbursements)
            }
        }
    }

    struct Amend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a grant's award or extend its period, with a reason.",
            discussion: """
                An increase must fit the round's budget; a decrease cannot go below what is already scheduled or paid. \
                --on is the amendment's business date (default: today): neither in the future nor before the \
                decision, and not inside a closed period (exit 1). A late correction is dated in the first open \
                period and names what it corrects: --corrects decision, or an earlier amendment's id (grant show).

                Examples:
                  grants-admin grant amend KP-2023-1-01 --amount-change "+50 000" \\
                      --reason "Extra youth workshop"
                  grants-admin grant amend KP-2023-1-01 --end 2025-12-31 \\
                      --reason "Delayed by elections" --on 2024-03-01
                  grants-admin grant amend KP-2023-1-01 --end 2026-02-28 \\
                      --reason "The decision's end date was recorded wrong" --corrects decision
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The grant's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?
        @Option(name: .customLong("amount-change"), parsing: .unconditional, help: "±AMOUNT.") var amountChange: SignedAmountArgument?
        @Option(help: "The new last day of the period.") var end: CalendarDate?
        @Option(parsing: .unconditional, help: "Why.") var reason: String
        @Option(help: "The amendment's business date (default: today, local date).") var on: CalendarDate?
        @Option(help: "The event a late correction corrects: decision, or an amendment's id.") var corrects: CorrectedEvent?

        func validate() throws {
            guard Validation.isOn else { return }
            if amountChange == nil && end == nil { throw ValidationError("give --amount-change or --end") }
        }

        func run() async throws {
            let grant = try await Session.run(global) { service in
                let currency = try await service.grants.get(reference, programme: programme).grant.amount.currency
                return try await service.grants.amend(
                    reference, programme: programme,
                    amountChange: amountChange.map { Money(minorUnits: $0.minorUnits, currency: currency) },
                    newEndsOn: end, reason: reason, on: on ?? .today, corrects: corrects, actor: global.resolvedActor)
            }
            Terminal.print("Grant \(grant.reference): awarded \(grant.amount.display), period \(grant.startsOn) to \(grant.endsOn)")
        }
    }

    struct Settle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a grant's final account: what was spent. Unspent paid money becomes a repayment claim.",
            discussion: """
                Recorded once: the same settle again changes nothing; a different one is refused (exit 1) with the \
                differences. Unpaid disbursements must be paid or cancelled first; afterwards the grant takes no new \
                disbursement. --spent 0 is allowed.

                Example:
                  grants-admin grant settle KP-2023-1-01 --spent "235 000" --on 2025-11-01
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The grant's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?
        @Option(parsing: .unconditional, help: "What the grantee spent, from its final account.") var spent: String
        @Option(help: "The day the account was settled.") var on: CalendarDate

        static func isZero(_ text: String) -> Bool {
            ["0", "0,0", "0.0", "0,00", "0.00"].contains(text.trimmingCharacters(in: .whitespaces))
        }

        func validate() throws { if !Self.isZero(spent) { try validateAmount(spent, flag: "--spent") } }

        func run() async throws {
            let settlement = try await Session.run(global) { service in
                let currency = try await service.grants.get(reference, programme: programme).grant.amount.currency
                let amount = Self.isZero(spent) ? Money.zero(currency) : try Money(parsing: spent, currency: currency)
                return try await service.grants.settle(
                    reference, programme: programme, spent: amount, on: on, actor: global.resolvedActor)
            }
            Terminal.print(
                "Grant \(settlement.grantReference) settled on \(settlement.settledOn): \(settlement.paid.display) paid, "
                    + "\(settlement.spent.display) spent; claim \(settlement.claimed.display), open \(settlement.open.display)"
                    + (settlement.ocrReference.map { " (OCR reference \($0))" } ?? ""))
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a grant.",
            discussion: """
                Needs every disbursement paid or cancelled, every final report approved or waived, and no open \
                repayment claim, unless --write-off --reason records why the rest is not collected. What was never \
                paid out of the award is shown as reclaimed; the round's awarded total stays as decided. --on is the \
                business date of the closing and its write-off (default: today): neither in the future nor before \
                the decision, and not inside a closed period (exit 1).

                Example:
                  grants-admin grant close KP-2023-1-01 --on 2025-11-25
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The grant's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?
        @Flag(name: .customLong("write-off"), help: "Write off what is still owed of the repayment claim.") var writeOff = false
        @Option(parsing: .unconditional, help: "Why the rest is not collected (with --write-off).") var reason: String?
        @Option(help: "The closing's business date (default: today, local date).") var on: CalendarDate?

        func validate() throws {
            if writeOff && reason == nil { throw ValidationError("--write-off needs --reason") }
            if !writeOff && reason != nil { throw ValidationError("--reason goes with --write-off") }
        }

        func run() async throws {
            let grant = try await Session.run(global) {
                try await $0.grants.close(
                    reference, programme: programme, on: on ?? .today, writeOff: reason, actor: global.resolvedActor)
            }
            Terminal.print(
                "Grant \(grant.reference) closed: \(grant.paid.display) paid, \((grant.reclaimed ?? Money.zero(grant.amount.currency)).display) reclaimed"
            )
        }
    }
}
