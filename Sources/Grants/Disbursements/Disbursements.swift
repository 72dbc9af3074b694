import PGClient

/// One tranche of a grant: scheduled → attested → paid, cancelled before payment, or a `reversal` entry
/// (negative amount) that corrects a paid one.
///
/// ```swift
/// let paid = try await service.disbursements.list(DisbursementFilter(round: "2021:2", status: .paid))
/// for d in paid { print(d.id, d.grantReference, d.amount.swedish, d.paidOn?.description ?? "") }
/// ```
public struct Disbursement: Sendable, Encodable, Equatable {
    public let id: Int64
    public let grantReference: String
    public let programme: String
    public let round: String
    public let amount: Money
    public let dueOn: CalendarDate
    public let status: DisbursementStatus
    public let tranche: Int?
    public let reversesID: Int64?
    public let scheduledBy: String
    public let attestedBy: String?
    public let paidOn: CalendarDate?
    public let paymentReference: String?
    public let reason: String?
    /// The business date of the cancellation, for a cancelled one. One cancelled before business dates were kept
    /// reads as the day it was recorded (UTC).
    public let cancelledOn: CalendarDate?
}

/// Which disbursements to list.
///
/// ```swift
/// let due = DisbursementFilter(status: .scheduled, dueBefore: try CalendarDate("2024-01-31"))
/// let toAttest = try await service.disbursements.list(due)
/// ```
public struct DisbursementFilter: Sendable, Equatable {
    public var programme: String?
    public var round: String?
    public var status: DisbursementStatus?
    public var dueBefore: CalendarDate?

    public init(programme: String? = nil, round: String? = nil, status: DisbursementStatus? = nil, dueBefore: CalendarDate? = nil) {
        self.programme = programme
        self.round = round
        self.status = status
        self.dueBefore = dueBefore
    }
}

/// Disbursements: schedule, attest (by someone else: four-eyes), pay, cancel, reverse.
///
/// ```swift
/// let d = try await service.disbursements.schedule("KP-2021-2-01", amount: try Money(parsing: "475 000", currency: .sek),
///                                                   dueOn: try CalendarDate("2022-01-31"), actor: "anna")
/// try await service.disbursements.attest(d.id, actor: "bertil")
/// try await service.disbursements.pay(d.id, paidOn: try CalendarDate("2022-02-01"), paymentReference: "BG 5050-1055", actor: "bertil")
/// ```
public struct Disbursements: Sendable {
    let service: GrantsService

    /// Schedules a tranche, due inside the grant's period. The grant is locked, so concurrent schedules queue
    /// and Σ never passes the award. A person with a declared conflict of interest with the applicant or a
    /// partner is refused. With an `idempotencyKey`, a retry of the same request returns the first result
    /// instead of scheduling twice.
    ///
    /// Tranches are numbered 1, 2, … per grant: `tranche` defaults to one past the highest number not cancelled.
    /// A cancelled tranche gives its number back; a paid one keeps it, even when reversed.
    @discardableResult
    public func schedule(
        _ reference: String, programme: String? = nil, amount: Money, dueOn: CalendarDate, tranche: Int? = nil,
        idempotencyKey: String? = nil, actor: String
    ) async throws(GrantsError) -> Disbursement {
        let actor = try ActorName(actor).value
        guard amount.minorUnits > 0 else { throw GrantsError.invalidInput([Problem("amount", "must be positive")]) }
        if let tranche, tranche < 1 || tranche > Int(Int32.max) {
            throw GrantsError.invalidInput([Problem("tranche", "a tranche number is 1 or more")])
        }
        let request =
            "\(reference)|\(programme ?? "")|\(amount.minorUnits)|\(amount.currency)|\(dueOn)" + (tranche.map { "|\($0)" } ?? "")
        // One statement: `grants_api.schedule` (Schema/api/disbursements.sql) answers a known idempotency key,
        // locks the grant, checks what is left to check (active, conflict of interest, currency, period, not
        // settled, the tranche number, the award), writes, and returns the disbursement's row. A concurrent
        // request with the same key fails on the key's primary key and runs again.
        return try await service.writeOneStatement("grants.disbursements.schedule") { connection in
            try Self.one(
                connection.query(
                    """
                    SELECT * FROM grants_api.schedule(\(reference)::text, \(programme)::text, \(amount.minorUnits)::int8,
                        \(amount.currency.rawValue)::text, \(amount.plain)::text, \(dueOn)::date, \(tranche.map(Int32.init))::int4,
                        \(idempotencyKey)::text, \(request)::text, \(actor)::text)
                    """), "grants_api.schedule")
        }
    }

    /// Attests a scheduled disbursement. The attester must not be who scheduled it (four-eyes, comparing
    /// normalised names: `Anna` and `anna ` are one person), nor have a declared conflict of interest. A tranche
    /// is held back while a requirement before it or an earlier tranche is neither approved nor waived, and
    /// nothing is attested on a settled grant.
    @discardableResult
    public func attest(_ id: Int64, actor: String) async throws(GrantsError) -> Disbursement {
        let actor = try ActorName(actor).value
        return try await service.writeOneStatement("grants.disbursements.attest") { connection in
            try Self.one(connection.query("SELECT * FROM grants_api.attest(\(id)::int8, \(actor)::text)"), "grants_api.attest")
        }
    }

    /// Records the payment of an attested disbursement, on a date neither before the grant's decision nor in
    /// the future, by someone without a declared conflict of interest with the applicant or a partner. Paying
    /// again with the same date and payment reference is a retry and changes nothing; anything else on a paid
    /// disbursement is refused, as is a payment of a held-back tranche or on a settled grant.
    @discardableResult
    public func pay(_ id: Int64, paidOn: CalendarDate, paymentReference: String, actor: String) async throws(GrantsError) -> Disbursement {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if let problem = Limits.text(paymentReference, at: "payment_reference") { problems.append(problem) }
        if let problem = paidOn.notInTheFuture(at: "paid_on") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.writeOneStatement("grants.disbursements.pay") { connection in
            try Self.one(
                connection.query(
                    "SELECT * FROM grants_api.pay(\(id)::int8, \(paidOn)::date, \(paymentReference)::text, \(actor)::text)"),
                "grants_api.pay")
        }
    }

    /// Cancels a disbursement that is not yet paid, on the business date `date` (not in the future, not before the
    /// grant's decision, not inside a closed period: `GrantsError.periodClosed`); its amount is free to schedule
    /// again. A person with a declared conflict of interest is refused. The same cancellation again (reason and
    /// date) is a retry.
    @discardableResult
    public func cancel(_ id: Int64, on date: CalendarDate, reason: String, actor: String) async throws(GrantsError) -> Disbursement {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if let problem = date.notInTheFuture(at: "cancelled_on") { problems.append(problem) }
        if let problem = Limits.text(reason, at: "reason") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.writeOneStatement("grants.disbursements.cancel") { connection in
            try Self.one(
                connection.query(
                    "SELECT * FROM grants_api.cancel(\(id)::int8, \(date)::date, \(reason)::text, \(actor)::text)"),
                "grants_api.cancel")
        }
    }

    /// Corrects a paid disbursement with a reversal entry (its negative, pointing at it), dated neither before
    /// the payment nor in the future. The original stays as it was. Reversing it again with the same date and
    /// reason is a retry and returns the existing reversal; another date or reason is a
    /// `GrantsError.conflict(entity:key:differences:)` listing the differences.
    @discardableResult
    public func reverse(_ id: Int64, on date: CalendarDate, reason: String, actor: String) async throws(GrantsError) -> Disbursement {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if let problem = date.notInTheFuture(at: "reversed_on") { problems.append(problem) }
        if let problem = Limits.text(reason, at: "reason") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.writeOneStatement("grants.disbursements.reverse") { connection in
            try Self.one(
                connection.query("SELECT * FROM grants_api.reverse(\(id)::int8, \(date)::date, \(reason)::text, \(actor)::text)"),
                "grants_api.reverse")
        }
    }

    public func list(_ filter: DisbursementFilter = DisbursementFilter()) async throws(GrantsError) -> [Disbursement] {
        try await service.listing("grants.disbursements.list") { connection in
            try Filters.check(connection, programme: filter.programme, round: filter.round)
            return try connection.query(
                """
                \(Self.select)
                WHERE (\(filter.programme)::text IS NULL OR d.programme = \(filter.programme))
                  AND (\(filter.round)::text IS NULL OR d.round = \(filter.round))
                  AND (\(filter.status?.rawValue)::text IS NULL OR d.status = \(filter.status?.rawValue))
                  AND (\(filter.dueBefore)::date IS NULL OR d.due_on < \(filter.dueBefore))
                ORDER BY d.due_on, d.id
                """
            ).map(Self.decode)
        }
    }

    public func get(_ id: Int64) async throws(GrantsError) -> Disbursement {
        try await service.read("grants.disbursements.get") { try Self.resolve($0, id: id) }
    }

    // MARK: SQL

    /// A disbursement with its grant's reference, round and programme (`d`): the view `grants.disbursement_row`
    /// (Schema/0014_one_call_per_write.sql), which the API's disbursement functions return.
    static let select: PGQuery = "SELECT d.* FROM grants.disbursement_row d"

    static func decode(_ row: PGRow) throws -> Disbursement {
        let tranche: Int32? = try row.decode(column: "tranche")
        return Disbursement(
            id: try row.decode(column: "id"), grantReference: try row.decode(column: "reference"),
            programme: try row.decode(column: "programme"), round: try row.decode(column: "round"),
            amount: try row.money("amount"), dueOn: try row.decode(column: "due_on"),
            status: try row.enumValue(DisbursementStatus.self, column: "status"), tranche: tranche.map(Int.init),
            reversesID: try row.decode(column: "reverses_id"), scheduledBy: try row.decode(column: "scheduled_by"),
            attestedBy: try row.decode(column: "attested_by"), paidOn: try row.decode(column: "paid_on"),
            paymentReference: try row.decode(column: "payment_reference"), reason: try row.decode(column: "reason"),
            cancelledOn: try row.decode(column: "cancelled_on"))
    }

    /// The one row a write function of the API returned.
    static func one(_ rows: PGResult, _ function: String) throws -> Disbursement {
        guard let row = rows.first else {
            throw GrantsError.internalError(sqlState: nil, message: "\(function) returned no disbursement")
        }
        return try decode(row)
    }

    /// An ID argument.
    static func resolve(_ connection: PGConnection, id: Int64) throws -> Disbursement {
        guard let row = try connection.query("\(select) WHERE d.id = \(id)").first else {
            throw GrantsError.notFound(entity: "disbursement", key: String(id))
        }
        return try decode(row)
    }
}
