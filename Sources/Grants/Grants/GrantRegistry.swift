import Foundation
import PGClient

/// An approved partnership: the award, its amendments and its closure. It keeps its application's reference.
///
/// ```swift
/// for grant in try await service.grants.list(round: "2021:2") {
///     print(grant.reference, grant.applicant.name, grant.amount.swedish, "paid", grant.paid.swedish)
/// }
/// ```
@dynamicMemberLookup
public struct Grant: Sendable, Encodable, Equatable {
    public let id: Int64
    /// What was applied for: the reference, round, parties, themes, phase and amount requested.
    public let proposal: Proposal
    /// The award as decided.
    public let originalAmount: Money
    /// The award after amendments.
    public let amount: Money
    /// Σ non-cancelled disbursements, net of reversals.
    public let committed: Money
    /// Σ paid disbursements, net of reversals.
    public let paid: Money
    /// The part of the award never paid out, released when the grant closed (award − paid).
    public let reclaimed: Money?
    public let startsOn: CalendarDate
    public let originalEndsOn: CalendarDate
    public let endsOn: CalendarDate
    public let decidedOn: CalendarDate
    public let decisionRef: String?
    public let status: GrantStatus
    public let closedOn: CalendarDate?

    public subscript<T>(dynamicMember field: KeyPath<Proposal, T>) -> T { proposal[keyPath: field] }

    enum CodingKeys: String, CodingKey {
        case id, originalAmount, amount, committed, paid, reclaimed, startsOn, originalEndsOn, endsOn, decidedOn, decisionRef
        case status, closedOn
    }

    /// The proposal's fields beside the grant's own, as one flat object.
    public func encode(to encoder: any Encoder) throws {
        try proposal.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(originalAmount, forKey: .originalAmount)
        try container.encode(amount, forKey: .amount)
        try container.encode(committed, forKey: .committed)
        try container.encode(paid, forKey: .paid)
        try container.encodeIfPresent(reclaimed, forKey: .reclaimed)
        try container.encode(startsOn, forKey: .startsOn)
        try container.encode(originalEndsOn, forKey: .originalEndsOn)
        try container.encode(endsOn, forKey: .endsOn)
        try container.encode(decidedOn, forKey: .decidedOn)
        try container.encodeIfPresent(decisionRef, forKey: .decisionRef)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(closedOn, forKey: .closedOn)
    }
}

/// A change to a grant's award or period, with its reason; the original award stays visible on the grant.
///
/// ```swift
/// let detail = try await service.grants.get("KP-2021-2-01")
/// for change in detail.amendments { print(change.amountChange.swedish, change.reason, change.amendedBy) }
/// ```
public struct Amendment: Sendable, Encodable, Equatable {
    /// The id a later correction names it by (``CorrectedEvent/amendment(_:)``).
    public let id: Int64
    public let amountChange: Money
    public let newEndsOn: CalendarDate?
    public let reason: String
    /// The business date the amendment belongs to. An amendment recorded before business dates were kept reads
    /// as the day it was recorded (UTC).
    public let amendedOn: CalendarDate
    /// The earlier event this amendment corrects, when it is a late correction.
    public let corrects: CorrectedEvent?
    public let amendedBy: String
    /// When it was recorded.
    public let amendedAt: Date
}

/// A grant with its amendments and disbursements.
///
/// ```swift
/// let detail = try await service.grants.get("KP-2021-2-01")
/// print(detail.grant.amount.swedish, detail.disbursements.count, "disbursements")
/// ```
public struct GrantDetail: Sendable, Encodable, Equatable {
    public let grant: Grant
    public let amendments: [Amendment]
    public let disbursements: [Disbursement]
    /// The reports the grantee owes.
    public let requirements: [ReportingRequirement]
    /// The final account, once recorded.
    public let settlement: Settlement?
    /// Money paid back against the settlement's claim.
    public let repayments: [RepaymentEntry]
    /// The earlier grant whose partnership this one continues.
    public let continues: String?
}

/// Grants: list, show, amend, settle and close.
///
/// ```swift
/// try await service.grants.amend("KP-2021-2-01", amountChange: try Money(parsing: "50 000", currency: .sek),
///                                reason: "Extra workshop", on: try CalendarDate("2022-06-01"), actor: "anna")
/// ```
public struct GrantRegistry: Sendable {
    let service: GrantsService

    public func list(round: String? = nil, programme: String? = nil) async throws(GrantsError) -> [Grant] {
        try await service.listing("grants.grants.list") { connection in
            try Filters.check(connection, programme: programme, round: round)
            return try connection.query(
                """
                \(Self.select)
                WHERE (\(round)::text IS NULL OR g.round = \(round)) AND (\(programme)::text IS NULL OR g.programme = \(programme))
                ORDER BY g.programme, g.round, g.reference
                """
            ).decodeRows(Self.decode)
        }
    }

    public func get(_ reference: String, programme: String? = nil) async throws(GrantsError) -> GrantDetail {
        try await service.read("grants.grants.get") { connection in
            let grant = try Self.resolve(connection, reference: reference, programme: programme)
            let amendments = try connection.query(
                """
                SELECT id, amount_change, new_ends_on, reason, grants.business_date(amended_on, amended_at) AS amended_on,
                       corrects_event, amended_by, amended_at
                FROM grants.grant_amendment WHERE grant_id = \(grant.id) ORDER BY id
                """
            ).map { row in
                let corrects: String? = try row.decode(column: "corrects_event")
                return Amendment(
                    id: try row.decode(column: "id"),
                    amountChange: Money(minorUnits: try row.decode(column: "amount_change"), currency: grant.amount.currency),
                    newEndsOn: try row.decode(column: "new_ends_on"), reason: try row.decode(column: "reason"),
                    amendedOn: try row.decode(column: "amended_on"), corrects: corrects.flatMap(CorrectedEvent.init),
                    amendedBy: try row.decode(column: "amended_by"), amendedAt: try row.decode(column: "amended_at"))
            }
            let disbursements = try connection.query(
                "\(Disbursements.select) WHERE d.grant_id = \(grant.id) ORDER BY d.due_on, d.id"
            )
            .map(Disbursements.decode)
            let requirements = try connection.query("\(Requirements.select) WHERE q.grant_id = \(grant.id) ORDER BY q.due_on, q.id")
                .map(Requirements.decode)
            let repayments = try connection.query("\(Repayments.select) WHERE x.grant_id = \(grant.id) ORDER BY x.received_on, x.id")
                .map(Repayments.decode)
            let continues: String? = try connection.query(
                """
                SELECT c.reference FROM grants.grant g JOIN grants.application a ON a.id = g.application_id
                JOIN grants.grant c ON c.id = a.continues_grant_id WHERE g.id = \(grant.id)
                """
            ).first?.decode(String.self, column: 0)
            return GrantDetail(
                grant: grant, amendments: amendments, disbursements: disbursements, requirements: requirements,
                settlement: try Settlements.find(connection, grantID: grant.id), repayments: repayments, continues: continues)
        }
    }

    /// Changes the award by `amountChange` (up within the round's budget; down not below what is already
    /// scheduled or paid) and/or extends the period, with a reason. Not by a person with a declared conflict of
    /// interest with the applicant or a partner (`GrantsError.conflictOfInterest(person:organisation:)`). Every
    /// call records an amendment of its own.
    ///
    /// `date` is the business date the amendment belongs to: not in the future, not before the decision, and not
    /// inside a closed period of the programme's books (`GrantsError.periodClosed`). A late correction is dated in
    /// the first open period and names what it corrects (`corrects`: the decision or an earlier amendment).
    @discardableResult
    public func amend(
        _ reference: String, programme: String? = nil, amountChange: Money? = nil, newEndsOn: CalendarDate? = nil,
        reason: String, on date: CalendarDate, corrects: CorrectedEvent? = nil, actor: String
    ) async throws(GrantsError) -> Grant {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if let problem = date.notInTheFuture(at: "amended_on") { problems.append(problem) }
        if amountChange == nil && newEndsOn == nil {
            problems.append(Problem("amount_change", "give an amount change or a new end date"))
        }
        if amountChange?.minorUnits == 0 { problems.append(Problem("amount_change", "must not be zero")) }
        if let problem = Limits.text(reason, at: "reason") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        // One statement: `grants_api.amend` (Schema/api/grants.sql) locks the round and the grant, refuses a person
        // with a declared conflict of interest, checks the budget, the award and the period, and records the
        // amendment with its audit event.
        return try await service.writeOneStatement("grants.grants.amend") { connection in
            try Self.one(
                connection.query(
                    """
                    SELECT * FROM grants_api.amend(\(reference)::text, \(programme)::text, \(amountChange?.minorUnits)::int8,
                        \(amountChange?.currency.rawValue)::text, \(newEndsOn)::date, \(reason)::text, \(date)::date,
                        \(corrects?.description)::text, \(actor)::text)
                    """), reference: reference)
        }
    }

    /// Closes a grant. Disbursements still scheduled or attested must be paid or cancelled first; every final
    /// report must be approved or waived (`GrantsError.reportPending(grant:requirement:)`); and a settlement's
    /// repayment claim must be repaid in full (`GrantsError.claimOpen(grant:open:)`) unless `writeOff` gives the
    /// reason the rest is not collected, which is then recorded on the settlement as written off.
    ///
    /// `reclaimed` is the part of the award never paid out (award − paid). The round's awarded total stays as
    /// decided: closing changes what was granted no more than repayments do. A person with a declared conflict of
    /// interest with the applicant or a partner neither closes nor writes off.
    ///
    /// `date` is the business date of the closing and of its write-off: not in the future, not before the
    /// decision, and not inside a closed period of the programme's books (`GrantsError.periodClosed`).
    @discardableResult
    public func close(
        _ reference: String, programme: String? = nil, on date: CalendarDate, writeOff: String? = nil, actor: String
    ) async throws(GrantsError) -> Grant {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if let problem = date.notInTheFuture(at: "closed_on") { problems.append(problem) }
        if let writeOff, let problem = Limits.text(writeOff, at: "write_off") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        // One statement: `grants_api.close` (Schema/api/grants.sql) refuses a person with a declared conflict of
        // interest, checks the tranches, the final reports and the claim, writes off what is still owed when
        // `writeOff` says why, and stamps who closed it with the audit event.
        return try await service.writeOneStatement("grants.grants.close") { connection in
            try Self.one(
                connection.query(
                    """
                    SELECT * FROM grants_api.close(\(reference)::text, \(programme)::text, \(date)::date, \(writeOff)::text,
                        \(actor)::text)
                    """), reference: reference)
        }
    }

    // MARK: SQL

    /// A grant with its application, decision, round, programme and parties (`g`): the view `grants.grant_row`
    /// (Schema/0014_one_call_per_write.sql), which `grants_api.approve`, `amend` and `close` return.
    static let select: PGQuery = "SELECT g.* FROM grants.grant_row g"

    /// A grant (`g`) with its application (`a`), decision (`ap`), round (`r`), programme (`p`) and parties, for
    /// reports that need more of them than `select` gives.
    static let from: PGQuery = """
        FROM grants.grant g
        JOIN grants.application a ON a.id = g.application_id
        JOIN grants.approval ap ON ap.application_id = a.id
        JOIN grants.allocation_round r ON r.id = g.round_id
        JOIN grants.programme p ON p.id = g.programme_id
        \(Parties.joins)
        """

    /// Where ``select``'s columns are in a result.
    struct Columns: ResultColumns {
        let id, currency, originalAmount, amount, committed, paid, reclaimed: Int
        let startsOn, originalEndsOn, endsOn, decidedOn, decisionRef, status, closedOn: Int
        let proposal: Applications.ProposalColumns

        init(_ row: PGRow) throws {
            id = try row.column("id")
            currency = try row.column("currency")
            originalAmount = try row.column("original_amount")
            amount = try row.column("amount")
            committed = try row.column("committed_total")
            paid = try row.column("paid_total")
            reclaimed = try row.column("reclaimed")
            startsOn = try row.column("starts_on")
            originalEndsOn = try row.column("original_ends_on")
            endsOn = try row.column("ends_on")
            decidedOn = try row.column("decided_on")
            decisionRef = try row.column("decision_ref")
            status = try row.column("status")
            closedOn = try row.column("closed_on")
            proposal = try Applications.ProposalColumns(row)
        }
    }

    static func decode(_ row: PGRow) throws -> Grant { try decode(row, Columns(row)) }

    /// The grant row an API function returned (`grants.grant_row`).
    static func one(_ rows: PGResult, reference: String) throws -> Grant {
        guard let row = rows.first else {
            throw GrantsError.internalError(sqlState: nil, message: "the database returned no grant for \(reference)")
        }
        return try decode(row)
    }

    static func decode(_ row: PGRow, _ columns: Columns) throws -> Grant {
        let currency = try row.decode(Currency.self, column: columns.currency)
        func money(_ column: Int) throws -> Money { Money(minorUnits: try row.decode(column: column), currency: currency) }
        let reclaimed: Int64? = try row.decode(column: columns.reclaimed)
        return Grant(
            id: try row.decode(column: columns.id), proposal: try Applications.proposal(row, columns.proposal, currency: currency),
            originalAmount: try money(columns.originalAmount), amount: try money(columns.amount),
            committed: try money(columns.committed), paid: try money(columns.paid),
            reclaimed: reclaimed.map { Money(minorUnits: $0, currency: currency) },
            startsOn: try row.decode(column: columns.startsOn), originalEndsOn: try row.decode(column: columns.originalEndsOn),
            endsOn: try row.decode(column: columns.endsOn), decidedOn: try row.decode(column: columns.decidedOn),
            decisionRef: try row.decode(column: columns.decisionRef), status: try row.enumValue(GrantStatus.self, column: columns.status),
            closedOn: try row.decode(column: columns.closedOn))
    }

    /// A REF argument. (Writes find and lock their rows inside the database's API functions.)
    static func resolve(_ connection: PGConnection, reference: String, programme: String?) throws -> Grant {
        let rows = try connection.query(
            "\(select) WHERE g.reference = \(reference) AND (\(programme)::text IS NULL OR g.programme = \(programme))")
        try requireOne(rows.count, entity: "grant", reference: reference)
        return try decode(rows[0])
    }
}

/// A lookup by REF found `count` rows: none is not found, several means the reference is used in more than one
/// programme and `--programme` must choose.
func requireOne(_ count: Int, entity: String, reference: String) throws {
    switch count {
    case 0: throw GrantsError.notFound(entity: entity, key: reference)
    case 1: return
    default:
        throw GrantsError.invalidInput([
            Problem("programme", "reference \(reference) is used in several programmes; name the programme")
        ])
    }
}
