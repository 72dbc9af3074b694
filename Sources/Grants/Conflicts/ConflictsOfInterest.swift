import Foundation
import PGClient

/// A declared tie (*jäv*) between a person and an organisation: that person may not approve or reject an
/// application the organisation is the applicant or a partner of, nor schedule, attest or pay its grant's
/// disbursements. Declarations are never changed or withdrawn.
///
/// ```swift
/// for conflict in try await service.conflicts.list(person: "anna") {
///     print(conflict.person, conflict.organisation.name, conflict.reason, conflict.declaredBy)
/// }
/// ```
public struct ConflictOfInterest: Sendable, Encodable, Equatable {
    public let id: Int64
    /// The person, as a normalised `ActorName` value: the name the four-eyes and conflict rules compare.
    public let person: String
    public let organisation: Organisation
    public let reason: String
    public let declaredBy: String
    public let declaredAt: Date
}

/// Conflicts of interest: declare and list them. The database refuses a decision or a payment by a person with
/// a declared conflict with the applicant or a partner (`Schema/0009_identity_and_conflicts.sql`); the library
/// checks the same before it writes, and both give `GrantsError.conflictOfInterest(person:organisation:)`.
///
/// ```swift
/// try await service.conflicts.declare(
///     person: "cecilia", organisation: "212000-0662", reason: "Sits on Växjö kommun's board", actor: "anna")
/// ```
public struct ConflictsOfInterest: Sendable {
    let service: GrantsService

    /// Declares that `person` has a conflict of interest with `organisation` (an organisationsnummer or an
    /// exact name). The person's name is normalised like an actor's, so `Cecilia ` and `cecilia` are one
    /// person. Declaring the same again changes nothing; another reason for a declared pair is a
    /// `GrantsError.conflict(entity:key:differences:)`.
    @discardableResult
    public func declare(person: String, organisation: String, reason: String, actor: String) async throws(GrantsError) -> ConflictOfInterest {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        let named = Result { () throws(GrantsError) in try ActorName(person, at: "person") }
        if case .failure(let error) = named { problems += error.problems }
        if organisation.allSatisfy(\.isWhitespace) { problems.append(Problem("organisation", "is required")) }
        if let problem = Limits.text(reason, at: "reason") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        let person = try named.get().value
        return try await service.writeOneStatement("grants.conflicts.declare") { connection in
            guard
                let row = try Self.find(
                    connection,
                    from: "grants_api.declare_conflict(\(person)::text, \(organisation)::text, \(reason)::text, \(actor)::text)",
                    "true"
                ).first
            else { throw GrantsError.internalError(sqlState: nil, message: "grants_api.declare_conflict returned no row") }
            return row
        }
    }

    /// Declared conflicts, all or one person's (compared as a normalised name), by person and organisation.
    public func list(person: String? = nil) async throws(GrantsError) -> [ConflictOfInterest] {
        let key = person.map(ActorName.key)
        return try await service.listing("grants.conflicts.list") { connection in
            try Self.find(connection, "(\(key)::text IS NULL OR c.person = \(key))")
        }
    }

    // MARK: SQL

    static func find(
        _ connection: PGConnection, from rows: PGQuery = "grants.conflict_of_interest", _ condition: PGQuery
    ) throws -> [ConflictOfInterest] {
        try connection.query(
            """
            SELECT c.id AS conflict_id, c.person, c.reason, c.declared_by, c.declared_at,
                   o.id, o.name, o.country, o.org_number, o.municipality_code, o.kind
            FROM \(rows) c JOIN grants.organisation o ON o.id = c.organisation_id
            WHERE \(condition)
            ORDER BY c.person, o.name, c.id
            """
        ).map { row in
            ConflictOfInterest(
                id: try row.decode(column: "conflict_id"), person: try row.decode(column: "person"),
                organisation: try Organisations.decode(row),
                reason: try row.decode(column: "reason"), declaredBy: try row.decode(column: "declared_by"),
                declaredAt: try row.decode(column: "declared_at"))
        }
    }
}
