import ArgumentParser
import Foundation
import Grants

struct PersonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "person",
        abstract: "The person register: who may act (decide, schedule, attest, pay, …).",
        discussion: """
            Every actor is a registered person, named by login exactly (after Unicode NFC, trimming and lower \
            case): another spelling or a look-alike of a name is nobody, and refused (exit 1). Only a service \
            login (grants_service) or the owner registers and retires people.
            """,
        subcommands: [Add.self, List.self, Retire.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a person who may act.",
            discussion: """
                LOGIN is what the person acts as: their own database login where they have one. Registering \
                the same person again changes nothing; another name for a registered login is refused (exit 1).

                Example:
                  grants-admin person add bertil --name "Bertil Ek"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The login the person acts as.") var login: String
        @Option(name: .long, parsing: .unconditional, help: "The person's full name.") var name: String

        func run() async throws {
            let person = try await Session.run(global) { service in
                try await service.persons.add(login, name: name, actor: global.resolvedActor)
            }
            Terminal.print("Person \(person.login): \(person.name)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List registered people, retired ones included.",
            discussion: "Example:\n  grants-admin person list --format json")
        @OptionGroup var global: GlobalOptions
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let persons = try await Session.run(global) { try await $0.persons.list() }
            try Output.print(persons, format: format) {
                Output.table(
                    ["login", "name", "added_by", "retired"],
                    persons.map { [$0.login, $0.name, $0.addedBy ?? "", $0.retiredAt.map(PersonCommand.day) ?? ""] })
            }
        }
    }

    /// A moment as its UTC day, YYYY-MM-DD.
    static func day(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire a person: they can no longer act; what they did stays theirs.",
            discussion: "Example:\n  grants-admin person retire bertil")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The login of the person to retire.") var login: String

        func run() async throws {
            let person = try await Session.run(global) { try await $0.persons.retire(login, actor: global.resolvedActor) }
            Terminal.print("Person \(person.login) retired")
        }
    }
}
