import ArgumentParser
import Grants

struct ThemeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "theme", abstract: "Partnership themes.", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a theme.",
            discussion: """
                Adding the same theme again changes nothing; other names for a recorded code are refused (exit 1).

                Example:
                  grants-admin theme add citizen-dialogue --name-sv Medborgardialog \\
                      --name-en "Citizen dialogue" --dac-sector 15150
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The theme's code: lower-case letters, digits and '-'.") var code: String
        @Option(name: .customLong("name-sv"), parsing: .unconditional, help: "The Swedish name.") var nameSv: String
        @Option(name: .customLong("name-en"), parsing: .unconditional, help: "The English name.") var nameEn: String
        @Option(name: .customLong("dac-sector"), parsing: .unconditional, help: "OECD DAC purpose code, e.g. 15150.") var dacSector: String?

        func run() async throws {
            let theme = try await Session.run(global) {
                try await $0.themes.add(
                    Theme(code: code, nameSv: nameSv, nameEn: nameEn, dacSector: dacSector), actor: global.resolvedActor)
            }
            Terminal.print("Theme \(theme.code): \(theme.nameSv) / \(theme.nameEn)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List themes.", discussion: "Example:\n  grants-admin theme list --format json")
        @OptionGroup var global: GlobalOptions
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let themes = try await Session.run(global) { try await $0.themes.list() }
            try Output.print(themes, format: format) {
                Output.table(["code", "name_sv", "name_en", "dac"], themes.map { [$0.code, $0.nameSv, $0.nameEn, $0.dacSector ?? ""] })
            }
        }
    }
}

struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Organisations: Swedish municipalities and regions, partners abroad.",
        subcommands: [Add.self, List.self, OrgAccountCommand.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record an organisation.",
            discussion: """
                A Swedish organisation is matched by its organisationsnummer (Luhn-checked), any other by name and \
                country without regard to case; recording it again changes nothing.

                Example:
                  grants-admin org add --name "Växjö kommun" --country SE \\
                      --org-number 212000-0662 --kind municipality
                  grants-admin org add --name "Kisumu County" --country KE --kind region
                """)
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "The organisation's name.") var name: String
        @Option(parsing: .unconditional, help: "ISO 3166-1 country code (SE, KE, ZM, …).") var country: String
        @Option(name: .customLong("org-number"), parsing: .unconditional, help: "Organisationsnummer NNNNNN-NNNN (Swedish organisations).")
        var orgNumber: String?
        @Option(help: "municipality, region or other.") var kind: OrganisationKind = .other
        @Option(name: .customLong("municipality-code"), parsing: .unconditional, help: "Kommunkod (4 digits) or länskod (2 digits).")
        var municipalityCode: String?

        func validate() throws {
            guard Validation.isOn else { return }
            if let orgNumber, !OrganisationNumber.isValid(orgNumber) {
                throw ValidationError("--org-number \(orgNumber) is not a valid organisationsnummer (NNNNNN-NNNN with a Luhn check digit)")
            }
        }

        func run() async throws {
            let organisation = try await Session.run(global) { service in
                let number = try orgNumber.map { try OrganisationNumber($0) }
                return try await service.organisations.add(
                    NewOrganisation(
                        name: name, country: country.uppercased(), orgNumber: number, municipalityCode: municipalityCode, kind: kind),
                    actor: global.resolvedActor)
            }
            Terminal.print(
                "Organisation \(organisation.id): \(organisation.name) (\(organisation.country)\(organisation.orgNumber.map { ", \($0)" } ?? ""))"
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List organisations.", discussion: "Example:\n  grants-admin org list --country SE --search växjö")
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this country.") var country: String?
        @Option(parsing: .unconditional, help: "Only names containing this text (case-insensitive).") var search: String?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let organisations = try await Session.run(global) {
                try await $0.organisations.list(country: country?.uppercased(), search: search)
            }
            try Output.print(organisations, format: format) {
                Output.table(
                    ["id", "name", "country", "org_number", "kind"],
                    organisations.map { [String($0.id), $0.name, $0.country, $0.orgNumber?.value ?? "", $0.kind.rawValue] }, right: [0])
            }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The append-only audit log.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List audit events.", discussion: "Example:\n  grants-admin audit list --since 2021-12-01 --entity disbursement")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only events on or after this date (YYYY-MM-DD).") var since: CalendarDate?
        @Option(
            parsing: .unconditional,
            help: "Only events about this kind of thing (round, grant, disbursement, application, theme, organisation, conflict).")
        var entity: String?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let events = try await Session.run(global) { try await $0.audit.list(since: since, entity: entity) }
            try Output.print(events, format: format) {
                Output.table(
                    ["id", "when", "actor", "action", "entity", "details"],
                    events.map {
                        [
                            String($0.id), $0.occurredAt.formatted(.iso8601), $0.actor, $0.action, "\($0.entityKind) \($0.entityKey)",
                            $0.details,
                        ]
                    },
                    right: [0])
            }
        }
    }
}
