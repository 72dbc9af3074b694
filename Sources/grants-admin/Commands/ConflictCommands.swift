import ArgumentParser
import Foundation
import Grants

struct ConflictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflict", abstract: "Conflicts of interest (jäv): who may not decide on or pay for an organisation.",
        subcommands: [Declare.self, List.self])

    struct Declare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declare that a person has a conflict of interest with an organisation.",
            discussion: """
                From then on the database refuses (exit 1) that person's approval or rejection of an application \
                the organisation is the applicant or a partner of, and scheduling, attesting or paying its \
                disbursements. The person's name is compared as actors are (case, surrounding spaces and Unicode \
                forms do not matter). A declaration is never changed or withdrawn; declaring it again changes \
                nothing. ORG is an organisationsnummer or the exact name of a recorded organisation.

                Example:
                  grants-admin conflict declare --person cecilia --org "Kalix kommun" \\
                      --reason "Sits on the municipal board"
                """)
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "The person, as they act (their login or actor name).") var person: String
        @Option(parsing: .unconditional, help: "The organisation (ORG).") var org: String
        @Option(parsing: .unconditional, help: "Why: the tie between them.") var reason: String

        func run() async throws {
            let conflict = try await Session.run(global) {
                try await $0.conflicts.declare(person: person, organisation: org, reason: reason, actor: global.resolvedActor)
            }
            Terminal.print("Conflict of interest \(conflict.id): \(conflict.person) with \(ConflictCommand.name(conflict.organisation))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List declared conflicts of interest.",
            discussion: "Example:\n  grants-admin conflict list --person cecilia --format json")
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this person's.") var person: String?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let conflicts = try await Session.run(global) { try await $0.conflicts.list(person: person) }
            try Output.print(conflicts, format: format) {
                Output.table(
                    ["id", "person", "organisation", "reason", "declared_by", "declared_at"],
                    conflicts.map {
                        [
                            String($0.id), $0.person, ConflictCommand.name($0.organisation), $0.reason, $0.declaredBy,
                            $0.declaredAt.formatted(.iso8601),
                        ]
                    }, right: [0])
            }
        }
    }

    static func name(_ organisation: Organisation) -> String {
        organisation.name + (organisation.orgNumber.map { " (\($0))" } ?? " (\(organisation.country))")
    }
}
