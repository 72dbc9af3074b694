import PGClient

/// Money a grantee paid back against its settlement's claim: an incoming entry of its own, never an edit of
/// a payment. Its `id` comes from the disbursements' id space, so the exports' `disbursement_id` names one row.
///
/// ```swift
/// let entry = try await service.repayments.receive(
///     "KP-2023-1-01", amount: try Money(parsing: "40 000", currency: .sek), on: try CalendarDate("2025-11-03"),
///     paymentReference: "BG 5050-1055 / 2025-311", actor: "bertil")
/// print(entry.id, entry.amount.swedish)
/// ```
public struct RepaymentEntry: Sendable, Encodable, Equatable {
    public let id: Int64
    public let grantReference: String
    public let programme: String
    public let round: String
    public let amount: Money
    public let receivedOn: CalendarDate
    public let paymentReference: String
    public let receivedBy: String
}

/// A settled grant's repayment claim and what has come in against it.
///
/// ```swift
/// for claim in try await service.repayments.claims(round: "2021:2", openOnly: true) {
///     print(claim.grantReference, claim.recipient, "open", claim.settlement.open.swedish)
/// }
/// ```
public struct RepaymentClaim: Sendable, Encodable, Equatable {
    public let grantReference: String
    public let programme: String
    public let round: String
    public let recipient: String
    public let grantStatus: GrantStatus
    public let settlement: Settlement
    public let repayments: [RepaymentEntry]
}

/// Repayments: receive money back against a claim, list the claims.
///
/// ```swift
/// try await service.grants.settle("KP-1", spent: try Money(parsing: "500 000", currency: .sek), on: .today, actor: "anna")
/// try await service.repayments.receive("KP-1", amount: try Money(parsing: "50 000", currency: .sek), on: .today,
///                                      paymentReference: "BG 2025-311", actor: "bertil")
/// ```
public struct Repayments: Sendable {
    let service: GrantsService

    /// Books money received against the grant's claim. Σ received never passes the claim (less what was written
    /// off): past it, `GrantsError.repaymentExceedsClaim(grant:excess:)` says by how much, from this check or the
    /// database's under concurrent receivers. The bank's payment reference is the natural key: the same
    /// repayment again returns it (a retry); another amount or date under that reference is a conflict.
    @discardableResult
    public func receive(
        _ reference: String, programme: String? = nil, amount: Money, on date: CalendarDate, paymentReference: String,
        actor: String
    ) async throws(GrantsError) -> RepaymentEntry {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if amount.minorUnits <= 0 { problems.append(Problem("amount", "must be positive")) }
        if let problem = date.notInTheFuture(at: "received_on") { problems.append(problem) }
        if let problem = Limits.text(paymentReference, at: "payment_reference") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        // One statement: `grants_api.receive_repayment` (Schema/api/settlements.sql) locks the grant and its
        // settlement, answers a retry, checks the claim, and books the repayment under an id the database issues.
        return try await service.writeOneStatement("grants.repayments.receive") { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT * FROM grants_api.receive_repayment(\(reference)::text, \(programme)::text, \(amount.minorUnits)::int8,
                        \(amount.currency.rawValue)::text, \(date)::date, \(paymentReference)::text, \(actor)::text)
                    """
                ).first
            else { throw GrantsError.internalError(sqlState: nil, message: "grants_api.receive_repayment returned no repayment") }
            return try Self.decode(row)
        }
    }

    /// The repayment claims of settled grants that paid out more than was spent, with what came in against
    /// each; `openOnly` keeps those with something still owed.
    public func claims(round: String? = nil, programme: String? = nil, openOnly: Bool = false) async throws(GrantsError) -> [RepaymentClaim] {
        try await service.listing("grants.repayments.claims") { connection in
            let settlements = try connection.query(
                """
                SELECT g.id, p.name AS programme, r.name AS round, o.name AS recipient, g.status, s.grant_id,
                       g.reference, s.currency, s.spent, s.paid, s.claimed, s.repaid_total, s.written_off, s.write_off_reason,
                       s.settled_on, s.settled_by, s.ocr_reference
                FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id
                JOIN grants.application a ON a.id = g.application_id JOIN grants.organisation o ON o.id = a.applicant_id
                JOIN grants.allocation_round r ON r.id = g.round_id JOIN grants.programme p ON p.id = g.programme_id
                WHERE s.claimed > 0
                  AND (\(round)::text IS NULL OR r.name = \(round)) AND (\(programme)::text IS NULL OR p.name = \(programme))
                  AND (NOT \(openOnly) OR s.claimed - s.repaid_total - s.written_off > 0)
                ORDER BY p.name, r.name, g.reference
                """)
            let ids = try settlements.map { try $0.decode(Int64.self, column: "id") }
            var entries: [Int64: [RepaymentEntry]] = [:]
            for row in try connection.query(
                "\(Self.select) WHERE x.grant_id = ANY(\(ids)::int8[]) ORDER BY x.received_on, x.id")
            {
                entries[try row.decode(Int64.self, column: "grant_id"), default: []].append(try Self.decode(row))
            }
            return try settlements.map { row in
                let id = try row.decode(Int64.self, column: "id")
                return RepaymentClaim(
                    grantReference: try row.decode(column: "reference"), programme: try row.decode(column: "programme"),
                    round: try row.decode(column: "round"), recipient: try row.decode(column: "recipient"),
                    grantStatus: try row.enumValue(GrantStatus.self, column: "status"), settlement: try Settlements.decode(row),
                    repayments: entries[id] ?? [])
            }
        }
    }

    // MARK: SQL

    /// A repayment with its grant's reference, round and programme: the view `grants.repayment_row`
    /// (Schema/api/settlements.sql), which `grants_api.receive_repayment` also returns.
    static let select: PGQuery = "SELECT x.* FROM grants.repayment_row x"

    static func decode(_ row: PGRow) throws -> RepaymentEntry {
        RepaymentEntry(
            id: try row.decode(column: "id"), grantReference: try row.decode(column: "reference"),
            programme: try row.decode(column: "programme"), round: try row.decode(column: "round"), amount: try row.money("amount"),
            receivedOn: try row.decode(column: "received_on"), paymentReference: try row.decode(column: "payment_reference"),
            receivedBy: try row.decode(column: "received_by"))
    }
}
