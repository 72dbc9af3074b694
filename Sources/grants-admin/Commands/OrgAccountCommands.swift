import ArgumentParser
import Foundation
import Grants

/// `org account`: payee accounts, four-eyes (DESIGN §11).
struct OrgAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Payee accounts: set by one person, verified by another.",
        subcommands: [Set.self, Verify.self, Show.self, History.self])

    static func table(_ accounts: [PayeeAccount]) -> String {
        Output.table(
            ["id", "account", "reason", "set_by", "set_at", "verified_by", "current"],
            accounts.map {
                [
                    String($0.id), $0.account.description, $0.reason, $0.setBy, $0.setAt.formatted(.iso8601), $0.verifiedBy ?? "",
                    $0.isCurrent ? "yes" : "",
                ]
            }, right: [0])
    }

    static func describe(_ a: PayeeAccount) -> String {
        "Payee account \(a.id) of \(a.organisation): \(a.account), "
            + (a.verifiedBy.map { "verified by \($0)" } ?? "not verified: another person runs `org account verify`")
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an organisation's payee account (Bankgiro, Plusgiro or IBAN).",
            discussion: """
                The number is checked at the door: Bankgiro 7-8 digits and Plusgiro 2-8 digits with a Luhn check \
                digit, IBAN by ISO 13616 (the country's length, check digits mod 97), BIC by ISO 9362 (exit 65). \
                The account is used only after another person has verified it. Changing an account sends every \
                attested tranche of the organisation's grants that is not in a live payment batch back to be \
                attested again. Setting the same account again changes nothing.

                Examples:
                  grants-admin org account set 212000-0662 \\
                      --iban "SE45 5000 0000 0583 9825 7466" --bic ESSESESS \\
                      --reason "Letter of 2024-01-08, confirmed by a call-back"
                  grants-admin org account set "Växjö kommun" --bankgiro 5050-1055 \\
                      --reason "Letter of 2024-01-10, on file" --actor anna
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The organisation: an organisationsnummer or its exact name.") var organisation: String
        @Option(parsing: .unconditional, help: "A Bankgiro number (NNN-NNNN or NNNN-NNNN).") var bankgiro: String?
        @Option(parsing: .unconditional, help: "A Plusgiro number (NNNNNN-N).") var plusgiro: String?
        @Option(parsing: .unconditional, help: "An IBAN.") var iban: String?
        @Option(parsing: .unconditional, help: "The BIC of the IBAN's bank.") var bic: String?
        @Option(parsing: .unconditional, help: "Why: the letter, the call, the document on file.") var reason: String
        @Option(help: "text or json") var format: ListFormat = .text

        var account: Result<PaymentAccount, GrantsError> {
            Result { () throws(GrantsError) -> PaymentAccount in
                if let bankgiro { return try PaymentAccount(kind: "bankgiro", number: bankgiro, bic: bic) }
                if let plusgiro { return try PaymentAccount(kind: "plusgiro", number: plusgiro, bic: bic) }
                return try PaymentAccount(kind: "iban", number: iban ?? "", bic: bic)
            }
        }

        func validate() throws {
            guard Validation.isOn else { return }
            guard [bankgiro, plusgiro, iban].compactMap({ $0 }).count == 1 else {
                throw ValidationError("give one of --bankgiro, --plusgiro or --iban")
            }
        }

        func run() async throws {
            let account: PaymentAccount
            switch self.account {
            case .success(let value): account = value
            case .failure(let error): throw Failure.report(error)
            }
            let set = try await Session.run(global) {
                try await $0.payeeAccounts.set(organisation, to: account, reason: reason, actor: global.resolvedActor)
            }
            try Output.print(set, format: format) { OrgAccountCommand.describe(set) }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify an organisation's current payee account (four-eyes: not by who set it).",
            discussion: """
                Confirm the account outside the system first (a call-back to a known number, a letter on file). \
                With --id, the account you checked must still be the current one (exit 1 otherwise). Whoever set \
                the account cannot verify it (exit 1).

                Examples:
                  grants-admin org account verify 212000-0662 --actor anna  # refused: exit 1
                  grants-admin org account verify "Växjö kommun" --actor bertil
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The organisation: an organisationsnummer or its exact name.") var organisation: String
        @Option(help: "The id of the account checked (org account show).") var id: Int64?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let verified = try await Session.run(global) {
                try await $0.payeeAccounts.verify(organisation, accountID: id, actor: global.resolvedActor)
            }
            try Output.print(verified, format: format) { OrgAccountCommand.describe(verified) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an organisation's current payee account.",
            discussion: "Example:\n  grants-admin org account show \"Växjö kommun\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The organisation: an organisationsnummer or its exact name.") var organisation: String
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            guard let current = try await Session.run(global, { try await $0.payeeAccounts.current(organisation) }) else {
                throw Failure.report(GrantsError.notFound(entity: "payee account of", key: organisation))
            }
            try Output.print(current, format: format) { OrgAccountCommand.describe(current) }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every payee account an organisation has had, oldest first.",
            discussion: "Example:\n  grants-admin org account history \"Växjö kommun\" --format json")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The organisation: an organisationsnummer or its exact name.") var organisation: String
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let history = try await Session.run(global) { try await $0.payeeAccounts.history(organisation) }
            try Output.print(history, format: format) { OrgAccountCommand.table(history) }
        }
    }
}
