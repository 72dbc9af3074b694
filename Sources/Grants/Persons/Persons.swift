import Foundation
import PGClient

/// A registered person: someone who may act (decide, schedule, attest, pay, …). Every record of who did
/// something refers to a person's ``login``.
///
/// ```swift
/// for person in try await service.persons.list() where person.retiredAt == nil { print(person.login, person.name) }
/// ```
public struct Person: Sendable, Encodable, Equatable {
    public let id: Int64
    /// The name the person acts as: their database login where they have one, in `ActorName`'s form.
    public let login: String
    /// The person's full name, as shown to people.
    public let name: String
    public let addedBy: String?
    public let addedAt: Date
    public let retiredBy: String?
    public let retiredAt: Date?
}

/// The person register (`grants_api.person_add`, `person_retire`; `Schema/api/persons.sql`). Only a service
/// login or the owner registers and retires people; anyone may list them.
///
/// ```swift
/// try await service.persons.add("bertil", name: "Bertil Ek", actor: "anna")
/// try await service.approvals.approve("KP-1", amount: award, decidedOn: date, actor: "bertil")
/// ```
public struct Persons: Sendable {
    let service: GrantsService

    /// Registers `login` as a person who may act. The same login and name again is a retry; another name for a
    /// registered login is a `GrantsError.conflict(entity:key:differences:)`. `actor` is who registers
    /// them (ignored for the first person of an empty register, whom the login itself registers).
    @discardableResult
    public func add(_ login: String, name: String, actor: String?) async throws(GrantsError) -> Person {
        let login = try ActorName(login, at: "login").value
        let actor = try actor.map { (name) throws(GrantsError) in try ActorName(name).value }
        if let problem = Limits.text(name, at: "name") { throw GrantsError.invalidInput([problem]) }
        return try await service.writeOneStatement("grants.persons.add") { connection in
            try Self.one(
                connection.query("SELECT * FROM grants_api.person_add(\(login)::text, \(name)::text, \(actor)::text)"))
        }
    }

    /// Retires a person: from now on they can no longer act; what they did stays theirs.
    @discardableResult
    public func retire(_ login: String, actor: String) async throws(GrantsError) -> Person {
        let login = try ActorName(login, at: "login").value
        let actor = try ActorName(actor).value
        return try await service.writeOneStatement("grants.persons.retire") { connection in
            try Self.one(connection.query("SELECT * FROM grants_api.person_retire(\(login)::text, \(actor)::text)"))
        }
    }

    /// The person registered under `login` (in `ActorName`'s form), retired or not; nil when there is none.
    public func find(_ login: String) async throws(GrantsError) -> Person? {
        let login = ActorName.key(login)
        return try await service.read("grants.persons.find") { connection in
            try connection.query("SELECT * FROM grants.person WHERE login = \(login)").first.map(Self.decode)
        }
    }

    /// Everyone registered, retired people included, by login.
    public func list() async throws(GrantsError) -> [Person] {
        try await service.listing("grants.persons.list") { connection in
            try connection.query("SELECT * FROM grants.person ORDER BY login").map(Self.decode)
        }
    }

    static func one(_ rows: PGResult) throws -> Person {
        guard let row = rows.first else {
            throw GrantsError.internalError(sqlState: nil, message: "the person register returned no row")
        }
        return try decode(row)
    }

    static func decode(_ row: PGRow) throws -> Person {
        let added: Date = try row.decode(column: "added_at")
        let retired: Date? = try row.decode(column: "retired_at")
        return Person(
            id: try row.decode(column: "id"), login: try row.decode(column: "login"), name: try row.decode(column: "name"),
            addedBy: try row.decode(column: "added_by"), addedAt: added, retiredBy: try row.decode(column: "retired_by"),
            retiredAt: retired)
    }
}
