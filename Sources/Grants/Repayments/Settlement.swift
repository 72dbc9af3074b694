import PGClient

/// The final account of a grant: what was spent, what had been paid, and the claim that opened when money
/// paid out was not spent (`claimed` = paid − spent when positive). Repayments and a write-off at closing
/// settle the claim; ``open`` is what neither has.
///
/// ```swift
/// let settlement = try await service.grants.settle(
///     "KP-2023-1-01", spent: try Money(parsing: "510 000", currency: .sek), on: try CalendarDate("2025-10-15"), actor: "anna")
/// print(settlement.claimed.swedish, "to be paid back")
/// ```
public struct Settlement: Sendable, Encodable, Equatable {
    public let grantReference: String
    public let spent: Money
    /// Σ paid disbursements, net of reversals, when the grant was settled.
    public let paid: Money
    public let claimed: Money
    public let repaid: Money
    public let writtenOff: Money
    public let writeOffReason: String?
    public let settledOn: CalendarDate
    public let settledBy: String

    /// What is still owed: claimed − repaid − written off.
    public var open: Money { Money(minorUnits: claimed.minorUnits - repaid.minorUnits - writtenOff.minorUnits, currency: claimed.currency) }
}

/// The SQL of settlements, shared by grants, repayments and disbursements.
enum Settlements {
    static let select: PGQuery = """
        SELECT g.reference, s.currency, s.spent, s.paid, s.claimed, s.repaid_total, s.written_off, s.write_off_reason,
               s.settled_on, s.settled_by
        FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id
        """

    static func decode(_ row: PGRow) throws -> Settlement {
        Settlement(
            grantReference: try row.decode(column: "reference"), spent: try row.money("spent"), paid: try row.money("paid"),
            claimed: try row.money("claimed"), repaid: try row.money("repaid_total"), writtenOff: try row.money("written_off"),
            writeOffReason: try row.decode(column: "write_off_reason"), settledOn: try row.decode(column: "settled_on"),
            settledBy: try row.decode(column: "settled_by"))
    }

    /// The grant's settlement, if it is settled; with `lock`, its row is locked (after the grant's, by the caller).
    static func find(_ connection: PGConnection, grantID: Int64, lock: Bool = false) throws -> Settlement? {
        try connection.query("\(select) WHERE s.grant_id = \(grantID) \(lock ? "FOR UPDATE OF s" : "" as PGQuery)").first.map(decode)
    }
}

extension GrantRegistry {
    /// Records the final account of a grant once: what was spent, on `date`. If more was paid than spent, a
    /// claim of the difference opens (the database computes it from the grant's paid total). The same settle
    /// again returns the settlement (a retry); another one is a `GrantsError.conflict` listing the differences.
    /// Disbursements still scheduled or attested must be paid or cancelled first; after it, the grant takes no
    /// new disbursement or reversal.
    @discardableResult
    public func settle(
        _ reference: String, programme: String? = nil, spent: Money, on date: CalendarDate, actor: String
    ) async throws -> Settlement {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if spent.minorUnits < 0 { problems.append(Problem("spent", "must not be negative")) }
        if let problem = date.notInTheFuture(at: "settled_on") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.write { connection in
            let grant = try Self.resolve(connection, reference: reference, programme: programme, lock: .grant)
            if let recorded = try Settlements.find(connection, grantID: grant.id) {
                var differences: [Difference] = []
                if recorded.spent != spent {
                    differences.append(Difference("spent", recorded: recorded.spent.swedish, given: spent.swedish))
                }
                if recorded.settledOn != date {
                    differences.append(Difference("settled_on", recorded: recorded.settledOn.iso, given: date.iso))
                }
                guard differences.isEmpty else {
                    throw GrantsError.conflict(entity: "settlement", key: reference, differences: differences)
                }
                return recorded
            }
            guard grant.status == .active else { throw GrantsError.closed(entity: "grant", key: reference) }
            guard spent.currency == grant.amount.currency else {
                throw GrantsError.invalidInput([Problem("spent", "the grant is in \(grant.amount.currency)")])
            }
            let pending = try Self.pendingDisbursements(connection, grantID: grant.id)
            guard pending == 0 else {
                throw GrantsError.invalidTransition(
                    entity: "grant", key: reference, from: "active with \(pending) unpaid disbursements", to: "settled")
            }
            try connection.execute(
                """
                INSERT INTO grants.settlement (grant_id, currency, spent, paid, claimed, settled_on, settled_by)
                VALUES (\(grant.id), \(grant.amount.currency), \(spent.minorUnits), 0, 0, \(date), \(actor))
                """)
            guard let settlement = try Settlements.find(connection, grantID: grant.id) else {
                throw GrantsError.internalError(sqlState: nil, message: "settlement vanished after insert")
            }
            try AuditLog.record(
                connection, actor: actor, action: "grant.settled", entity: "grant", key: reference,
                details: [
                    "spent": spent.plain, "paid": settlement.paid.plain, "claimed": settlement.claimed.plain, "settled_on": date.iso,
                ])
            return settlement
        }
    }

    /// The settlement of a grant, if it is settled.
    public func settlement(_ reference: String, programme: String? = nil) async throws -> Settlement? {
        try await service.read { connection in
            let grant = try Self.resolve(connection, reference: reference, programme: programme)
            return try Settlements.find(connection, grantID: grant.id)
        }
    }

    static func pendingDisbursements(_ connection: PGConnection, grantID: Int64) throws -> Int64 {
        try connection.query(
            "SELECT count(*) FROM grants.disbursement WHERE grant_id = \(grantID) AND status IN ('scheduled', 'attested')"
        )[0].decode(Int64.self, column: 0)
    }
}
