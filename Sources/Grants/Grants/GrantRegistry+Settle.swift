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
    /// The OCR reference the grantee quotes when paying the claim back (Luhn-checked); nil when nothing is claimed.
    public let ocrReference: String?

    /// What is still owed: claimed − repaid − written off.
    public var open: Money { Money(minorUnits: claimed.minorUnits - repaid.minorUnits - writtenOff.minorUnits, currency: claimed.currency) }
}

/// The SQL of settlements, shared by grants, repayments and disbursements.
enum Settlements {
    /// The columns of the view `grants.settlement_row` (Schema/api/settlements.sql), which `grants_api.settle`
    /// returns; from the table itself here, so that `find(lock:)` locks the settlement row alone.
    static let select: PGQuery = """
        SELECT g.reference, s.currency, s.spent, s.paid, s.claimed, s.repaid_total, s.written_off, s.write_off_reason,
               s.settled_on, s.settled_by, s.ocr_reference
        FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id
        """

    static func decode(_ row: PGRow) throws -> Settlement {
        Settlement(
            grantReference: try row.decode(column: "reference"), spent: try row.money("spent"), paid: try row.money("paid"),
            claimed: try row.money("claimed"), repaid: try row.money("repaid_total"), writtenOff: try row.money("written_off"),
            writeOffReason: try row.decode(column: "write_off_reason"), settledOn: try row.decode(column: "settled_on"),
            settledBy: try row.decode(column: "settled_by"), ocrReference: try row.decode(column: "ocr_reference"))
    }

    /// The grant's settlement, if it is settled.
    static func find(_ connection: PGConnection, grantID: Int64) throws -> Settlement? {
        try connection.query("\(select) WHERE s.grant_id = \(grantID)").first.map(decode)
    }
}

extension GrantRegistry {
    /// Records the final account of a grant once: what was spent, on `date`. If more was paid than spent, a
    /// claim of the difference opens (the database computes it from the grant's paid total). The same settle
    /// again returns the settlement (a retry); another one is a `GrantsError.conflict` listing the differences.
    /// Disbursements still scheduled or attested must be paid or cancelled first; after it, the grant takes no
    /// new disbursement, attestation, payment or reversal, also from a write racing the settlement. A person with
    /// a declared conflict of interest with the applicant or a partner is refused.
    @discardableResult
    public func settle(
        _ reference: String, programme: String? = nil, spent: Money, on date: CalendarDate, actor: String
    ) async throws(GrantsError) -> Settlement {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if spent.minorUnits < 0 { problems.append(Problem("spent", "must not be negative")) }
        if let problem = date.notInTheFuture(at: "settled_on") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        // One statement: `grants_api.settle` (Schema/api/settlements.sql) locks the grant (a disbursement racing
        // the settlement waits for it and then sees it), refuses a person with a conflict of interest, answers a
        // retry, checks, records and audits.
        return try await service.writeOneStatement("grants.settlement.settle") { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT * FROM grants_api.settle(\(reference)::text, \(programme)::text, \(spent.minorUnits)::int8,
                        \(spent.currency.rawValue)::text, \(date)::date, \(actor)::text)
                    """
                ).first
            else { throw GrantsError.internalError(sqlState: nil, message: "grants_api.settle returned no settlement") }
            return try Settlements.decode(row)
        }
    }

    /// The settlement of a grant, if it is settled.
    public func settlement(_ reference: String, programme: String? = nil) async throws(GrantsError) -> Settlement? {
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
