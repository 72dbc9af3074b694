import ArgumentParser
import Grants

struct RepaymentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repayment", abstract: "Repayments: money grantees pay back against the claims their settlements opened.",
        discussion: """
            `grant settle` opens a claim when more was paid than spent; repayments are booked against it and never \
            pass it (exit 1, saying by how much).

            Example:
              grants-admin repayment receive KP-2023-1-01 --amount "40 000" \\
                  --on 2025-11-20 --payment-ref "BG inbet 2025-311"
            """,
        subcommands: [Receive.self, List.self])

    struct Receive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Book money received from a grantee against its claim.",
            discussion: """
                The payment reference is the repayment's key: the same repayment again changes nothing.

                Example:
                  grants-admin repayment receive KP-2023-1-01 --amount "40 000" \\
                  --on 2025-11-20 --payment-ref "BG inbet 2025-311"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The grant's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?
        @Option(parsing: .unconditional, help: "The amount received.") var amount: String
        @Option(help: "The day it was received.") var on: CalendarDate
        @Option(name: .customLong("payment-ref"), parsing: .unconditional, help: "The bank's reference of the incoming payment.")
        var paymentRef: String

        func validate() throws { try validateAmount(amount, flag: "--amount") }

        func run() async throws {
            let entry = try await Session.run(global) { service in
                let currency = try await service.grants.get(reference, programme: programme).grant.amount.currency
                return try await service.repayments.receive(
                    reference, programme: programme, amount: try Money(parsing: amount, currency: currency), on: on,
                    paymentReference: paymentRef, actor: global.resolvedActor)
            }
            Terminal.print("Repayment \(entry.id) of \(entry.grantReference): \(entry.amount.display) received on \(entry.receivedOn)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List repayment claims and what has come in against them.",
            discussion: "Example:\n  grants-admin repayment list --round 2023:1 --open --format json")
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this round.") var round: String?
        @Option(parsing: .unconditional, help: "Only this programme.") var programme: String?
        @Flag(help: "Only claims with something still owed.") var open = false
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let claims = try await Session.run(global) {
                try await $0.repayments.claims(round: round, programme: programme, openOnly: open)
            }
            try Output.print(claims, format: format) {
                Output.table(
                    ["grant", "round", "recipient", "settled", "claimed", "repaid", "written_off", "open", "repayments", "ocr"],
                    claims.map {
                        [
                            $0.grantReference, $0.round, $0.recipient, $0.settlement.settledOn.iso, $0.settlement.claimed.display,
                            $0.settlement.repaid.display, $0.settlement.writtenOff.display, $0.settlement.open.display,
                            String($0.repayments.count), $0.settlement.ocrReference ?? "",
                        ]
                    }, right: [4, 5, 6, 7, 8])
            }
        }
    }
}

struct PartnershipCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partnership", abstract: "Partnerships: grants that continue one another across rounds.",
        subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every grant of the partnership REF belongs to, in order, with totals.",
            discussion: """
                A grant continues an earlier one of the same applicant (`continues:` in manifests, \
                `application submit --continues`).

                Example:
                  grants-admin partnership show KP-2022-1-01
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A grant's reference.") var reference: String
        @Option(parsing: .unconditional, help: "The programme, where two use the reference.") var programme: String?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let partnership = try await Session.run(global) { try await $0.partnerships.show(reference, programme: programme) }
            try Output.print(partnership, format: format) {
                Output.table(
                    ["grant", "round", "phase", "recipient", "decided", "awarded", "paid", "status", "continues"],
                    partnership.grants.map {
                        [
                            $0.reference, $0.round, $0.phase.rawValue, $0.applicant, $0.decidedOn.iso, $0.awarded.display, $0.paid.display,
                            $0.status.rawValue, $0.continues ?? "",
                        ]
                    }, right: [5, 6])
                    + "\n\(counted(partnership.grants.count, "grant")); awarded \(partnership.awarded?.display ?? "(several currencies)"), "
                    + "paid \(partnership.paid?.display ?? "(several currencies)")"
            }
        }
    }
}

struct ContactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contact", abstract: "Contacts: named people at organisations (personal data: can be erased).",
        discussion: """
            Contacts are the only personal data besides staff names. `contact erase` removes a person's name, e-mail and \
            phone everywhere and leaves a tombstone; audit events name contacts by id only.

            Example:
              grants-admin contact add --org 212000-0662 --name "Karin Lund" \\
                  --email karin.lund@vaxjo.se --role Coordinator
            """,
        subcommands: [Add.self, List.self, Erase.self])

    static func describe(_ c: Contact) -> String {
        c.erased
            ? "Contact \(c.id) at \(c.organisation): erased\(c.erasedAt.map { " \($0.formatted(.iso8601))" } ?? "")"
            : "Contact \(c.id) at \(c.organisation): \(c.name ?? "")\(c.role.map { ", \($0)" } ?? "")"
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a contact person at an organisation.",
            discussion: """
                ORG is an organisationsnummer or the exact name of a recorded organisation. The same person again \
                changes nothing.

                Example:
                  grants-admin contact add --org "Dorotea kommun" --name "Karin Lund" \\
                      --email karin.lund@dorotea.se --phone "+46 940 140 00"
                """)
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "The organisation (ORG).") var org: String
        @Option(parsing: .unconditional, help: "The person's name.") var name: String
        @Option(parsing: .unconditional, help: "E-mail address.") var email: String?
        @Option(parsing: .unconditional, help: "Phone number.") var phone: String?
        @Option(parsing: .unconditional, help: "Role at the organisation.") var role: String?

        func run() async throws {
            let contact = try await Session.run(global) {
                try await $0.contacts.add(
                    NewContact(organisation: org, name: name, email: email, phone: phone, role: role), actor: global.resolvedActor)
            }
            Terminal.print(ContactCommand.describe(contact))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List contacts; erased ones show as tombstones.",
            discussion: """
                --format ids prints only their ids, one a line, for scripts.

                Examples:
                  grants-admin contact list --org "Dorotea kommun" --format json
                  grants-admin contact list --org "Dorotea kommun" --format ids
                """)
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this organisation (ORG).") var org: String?
        @Option(help: "text, json or ids") var format: IDListFormat = .text

        func run() async throws {
            let contacts = try await Session.run(global) { try await $0.contacts.list(organisation: org) }
            try Output.print(contacts, format: format, ids: contacts.map(\.id)) {
                Output.table(
                    ["id", "organisation", "name", "email", "phone", "role"],
                    contacts.map {
                        [
                            String($0.id), $0.organisation, $0.erased ? "(erased)" : $0.name ?? "", $0.email ?? "", $0.phone ?? "",
                            $0.role ?? "",
                        ]
                    }, right: [0])
            }
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a contact's name, e-mail and phone, leaving a tombstone.",
            discussion: """
                The old values also stay in PostgreSQL's files until VACUUM reclaims them (autovacuum does), and in \
                backups and WAL archives for as long as those are kept.

                Example:
                  ID=$(grants-admin contact list --org "Dorotea kommun" --format ids \\
                      | head -n 1)
                  grants-admin contact erase "$ID" --reason "Asked to be erased (GDPR art. 17)"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The contact's id.") var id: Int64
        @Option(parsing: .unconditional, help: "Why.") var reason: String

        func run() async throws {
            let contact = try await Session.run(global) { try await $0.contacts.erase(id, reason: reason, actor: global.resolvedActor) }
            Terminal.print(ContactCommand.describe(contact))
        }
    }
}
