import ArgumentParser
import Grants

struct ProgrammeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "programme", abstract: "Programmes and the settings their finance exports use.",
        subcommands: [Set.self, Show.self, List.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a programme's export settings (the programme is created if new).",
            discussion: """
                Only the settings given change; the others stay as they were. --unset SETTING (its flag without \
                --, e.g. debtor-bankgiro; repeatable) unsets one. Every change is audited. Codes are checked \
                against IATI's codelists, accounts are 4 digits, and the publisher is never the funder. The \
                programme pays from one account: to move from a Bankgiro number to an IBAN, unset the one and set \
                the other in the same command.

                Examples:
                  grants-admin programme set "Kommunala partnerskap" \\
                      --iati-publisher-ref SE-ON-4020000008 --iati-publisher-name ICLD \\
                      --iati-publisher-type 22 --funder-ref SE-0 --funder-name Sida \\
                      --funder-type 10 --funder-activity-id SE-0-SE-6-EXAMPLE-1 \\
                      --giving360-prefix 360G-icld --default-sector 15150 --flow-type 10 \\
                      --finance-type 110 --aid-type C01 --collaboration-type 1 \\
                      --accrual on --sie-liability-account 2890
                  grants-admin programme set "Kommunala partnerskap" --unset debtor-bankgiro \\
                      --debtor-iban "SE45 5000 0000 0583 9825 7466" --debtor-bic ESSESESS
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The programme's name.") var name: String
        @OptionGroup(title: "Settings") var settings: SettingFlags
        @Option(help: "Unset a setting: its flag without -- (debtor-bankgiro, sie-series …); repeatable.")
        var unset: [String] = []

        /// The setting a flag names (`debtor-bankgiro` → `debtor_bankgiro`), nil when it names none.
        static func setting(_ flag: String) -> String? {
            SettingFlags.flags.first { $0.value == "--" + flag && ProgrammeSettings.names.contains($0.key) }?.key
        }

        func validate() throws {
            for flag in unset where Self.setting(flag) == nil {
                let shown = Limits.controlCharacterProblem(flag, at: "") == nil ? " \(flag.prefix(40))" : ""
                throw ValidationError("--unset\(shown): not a setting (name one by its flag without --, e.g. debtor-bankgiro)")
            }
        }

        func run() async throws {
            let given = settings.settings
            let cleared = Swift.Set(unset.compactMap(Self.setting))
            let programme = try await Session.run(global) {
                try await $0.programmes.set(name, settings: given, unset: cleared, actor: global.resolvedActor)
            }
            Terminal.print(Show.text(programme))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a programme's settings.",
            discussion: "Example:\n  grants-admin programme show \"Kommunala partnerskap\" --format json")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The programme's name.") var name: String
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let programme = try await Session.run(global) { try await $0.programmes.show(name) }
            switch format {
            case .json: Terminal.print(try Output.json(programme))
            case .text: Terminal.print(Self.text(programme))
            }
        }

        static func text(_ programme: Programme) -> String {
            let s = programme.settings
            func value(_ v: String?, default fallback: String = "(not set)") -> String { v ?? fallback }
            let rows: [[String]] = [
                ["sie cost account", value(s.sieCostAccount, default: "6993 (default)")],
                ["sie bank account", value(s.sieBankAccount, default: "1930 (default)")],
                ["sie liability account", value(s.sieLiabilityAccount)],
                ["sie receivable account", value(s.sieReceivableAccount, default: "1689 (default)")],
                ["sie series", value(s.sieSeries, default: "(numbered by the accounting system)")],
                ["accrual", s.accrual.map { $0 ? "on" : "off" } ?? "off (default)"],
                ["iati publisher ref", value(s.iatiPublisherRef)],
                ["iati publisher name", value(s.iatiPublisherName)],
                ["iati publisher type", value(s.iatiPublisherType)],
                ["funder ref", value(s.funderRef)],
                ["funder name", value(s.funderName)],
                ["funder type", value(s.funderType)],
                ["funder activity id", value(s.funderActivityID)],
                ["360giving prefix", value(s.giving360Prefix)],
                ["default sector", value(s.defaultSector)],
                ["flow type", value(s.flowType)],
                ["finance type", value(s.financeType)],
                ["aid type", value(s.aidType)],
                ["collaboration type", value(s.collaborationType)],
                ["debtor name", value(s.debtorName)],
                ["debtor iban", value(s.debtorIBAN)],
                ["debtor bic", value(s.debtorBIC)],
                ["debtor bankgiro", value(s.debtorBankgiro)],
            ]
            return "Programme \(programme.name) (\(programme.currency.rawValue))\n" + Output.table(["setting", "value"], rows)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List programmes.", discussion: "Example:\n  grants-admin programme list --format json")
        @OptionGroup var global: GlobalOptions
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let programmes = try await Session.run(global) { try await $0.programmes.list() }
            try Output.print(programmes, format: format) {
                Output.table(
                    ["name", "currency", "iati publisher", "360giving prefix", "accrual"],
                    programmes.map {
                        [
                            $0.name, $0.currency.rawValue, $0.settings.iatiPublisherRef ?? "", $0.settings.giving360Prefix ?? "",
                            $0.settings.accrual == true ? "on" : "off",
                        ]
                    })
            }
        }
    }
}
