import Foundation
import PGClient

/// One call/decision round of a programme, with its budget and what has been awarded so far.
///
/// ```swift
/// let round = try await service.rounds.get("2021:2")
/// let remaining = try round.budget - round.awarded
/// ```
public struct AllocationRound: Sendable, Encodable, Equatable {
    public let id: Int64
    public let programme: String
    public let name: String
    public let currency: Currency
    public let budget: Money
    public let awarded: Money
    public let opensOn: CalendarDate?
    public let closesOn: CalendarDate?
    public let decidedOn: CalendarDate?
    public let status: RoundStatus
    public let grants: Int

    public var remaining: Money { Money(minorUnits: budget.minorUnits - awarded.minorUnits, currency: currency) }
}

/// Allocation rounds: create, list, show, close, and record a whole decided round from a manifest.
///
/// ```swift
/// let summary = try await service.rounds.record(manifest, actor: "anna")
/// print(summary.created.count, summary.round.awarded.swedish)
/// ```
public struct Rounds: Sendable {
    let service: GrantsService

    /// Opens a round (and its programme, if new). Creating the same round again changes nothing; a round of
    /// that name with another budget or dates is a conflict.
    @discardableResult
    public func create(_ new: NewRound, actor: String) async throws(GrantsError) -> AllocationRound {
        let actor = try ActorName(actor).value
        let problems = new.problems(at: "")
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        let function: PGQuery = """
            grants_api.create_round(\(new.programme)::text, \(new.name)::text, \(new.budget.minorUnits)::int8,
                \(new.budget.currency)::text, \(new.opensOn)::date, \(new.closesOn)::date, \(new.decidedOn)::date, \(actor)::text)
            """
        return try await service.writeOneStatement("grants.rounds.create") { connection in
            try Self.one(connection.query(Self.select(from: function)))
        }
    }

    public func list(programme: String? = nil) async throws(GrantsError) -> [AllocationRound] {
        try await service.listing("grants.rounds.list") { connection in
            try Filters.check(connection, programme: programme, round: nil)
            return try connection.query(
                """
                \(Self.select)
                WHERE (\(programme)::text IS NULL OR p.name = \(programme))
                ORDER BY p.name, coalesce(r.decided_on, r.opens_on), r.name, r.id
                """
            ).map(Self.decode)
        }
    }

    /// A round by name; `programme` chooses where two programmes share the name.
    public func get(_ name: String, programme: String? = nil) async throws(GrantsError) -> AllocationRound {
        try await service.read("grants.rounds.get") { try Self.resolve($0, name: name, programme: programme) }
    }

    /// Closes a round: no more awards. Closing a closed round is an invalid state change.
    @discardableResult
    public func close(_ name: String, programme: String? = nil, actor: String) async throws(GrantsError) -> AllocationRound {
        let actor = try ActorName(actor).value
        return try await service.writeOneStatement("grants.rounds.close") { connection in
            try Self.one(connection.query(Self.select(from: "grants_api.close_round(\(name)::text, \(programme)::text, \(actor)::text)")))
        }
    }

    // MARK: SQL

    static let select: PGQuery = """
        SELECT r.id, p.name AS programme, r.name, r.currency, r.budget, r.awarded_total, r.opens_on, r.closes_on,
               r.decided_on, r.status, (SELECT count(*) FROM grants.grant g WHERE g.round_id = r.id) AS grants
        FROM grants.allocation_round r JOIN grants.programme p ON p.id = r.programme_id
        """

    /// The rows a `grants_api` round function returns (`grants.round_row`), as `decode` reads them.
    static func select(from function: PGQuery) -> PGQuery {
        """
        SELECT id, programme, name, currency, budget, awarded_total, opens_on, closes_on, decided_on, status, grant_count AS grants
        FROM \(function)
        """
    }

    static func one(_ rows: PGResult) throws -> AllocationRound {
        guard let row = rows.first else { throw GrantsError.internalError(sqlState: nil, message: "the round function returned no row") }
        return try decode(row)
    }

    static func decode(_ row: PGRow) throws -> AllocationRound {
        let currency = try row.decode(Currency.self, column: "currency")
        return AllocationRound(
            id: try row.decode(column: "id"), programme: try row.decode(column: "programme"),
            name: try row.decode(column: "name"), currency: currency,
            budget: Money(minorUnits: try row.decode(column: "budget"), currency: currency),
            awarded: Money(minorUnits: try row.decode(column: "awarded_total"), currency: currency),
            opensOn: try row.decode(column: "opens_on"), closesOn: try row.decode(column: "closes_on"),
            decidedOn: try row.decode(column: "decided_on"), status: try row.enumValue(RoundStatus.self, column: "status"),
            grants: try row.decode(column: "grants"))
    }

    static func find(_ connection: PGConnection, programmeID: Int64, name: String) throws -> AllocationRound? {
        try connection.query("\(select) WHERE r.programme_id = \(programmeID) AND r.name = \(name)")
            .first.map(decode)
    }

    static func differences(_ recorded: AllocationRound, _ new: NewRound, prefix: String) -> [Difference] {
        var result: [Difference] = []
        if recorded.budget != new.budget {
            result.append(Difference(prefix + "budget", recorded: recorded.budget.swedish, given: new.budget.swedish))
        }
        func compare(_ field: String, _ old: CalendarDate?, _ given: CalendarDate?) {
            // A date the manifest leaves out is not a change.
            if let given, old != given { result.append(Difference(prefix + field, recorded: old?.iso ?? "none", given: given.iso)) }
        }
        compare("opens_on", recorded.opensOn, new.opensOn)
        compare("closes_on", recorded.closesOn, new.closesOn)
        compare("decided_on", recorded.decidedOn, new.decidedOn)
        return result
    }

    /// A ROUND argument: by name, with `programme` choosing where two programmes share it.
    static func resolve(_ connection: PGConnection, name: String, programme: String?) throws -> AllocationRound {
        let rows = try connection.query(
            """
            \(select)
            WHERE r.name = \(name) AND (\(programme)::text IS NULL OR p.name = \(programme))
            ORDER BY r.id
            """)
        switch rows.count {
        case 0:
            throw GrantsError.notFound(entity: "round", key: programme.map { "\(name) in \($0)" } ?? name)
        case 1:
            return try decode(rows[0])
        default:
            let programmes = try rows.map { try $0.decode(String.self, column: "programme") }
            throw GrantsError.invalidInput([
                Problem("programme", "round \(name) exists in \(programmes.joined(separator: ", ")); name the programme")
            ])
        }
    }
}
