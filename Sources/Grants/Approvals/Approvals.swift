import PGClient

/// The decision on an application.
///
/// ```swift
/// if let approval = try await service.approvals.decision(for: "KP-2023-1-01"), approval.decision == .approved {
///     print("awarded \(approval.awarded?.swedish ?? "") on \(approval.decidedOn)")
/// }
/// ```
public struct Approval: Sendable, Encodable, Equatable {
    /// Whether the application was approved (and got a grant) or rejected.
    ///
    /// ```swift
    /// let rejected = try await service.approvals.decision(for: "KP-2023-1-02")?.decision == .rejected
    /// ```
    public enum Decision: String, Sendable, Codable { case approved, rejected }
    public let reference: String
    public let decision: Decision
    public let awarded: Money?
    public let decidedOn: CalendarDate
    public let decisionRef: String?
    public let decidedBy: String
    public let reason: String?
}

/// Decisions: approving an application creates its grant, inside the round's budget.
///
/// ```swift
/// let grant = try await service.approvals.approve(
///     "KP-2021-2-01", amount: try Money(parsing: "950 000", currency: .sek),
///     decidedOn: try CalendarDate("2021-12-01"), actor: "anna")
/// ```
public struct Approvals: Sendable {
    let service: GrantsService

    /// Approves a submitted application with an awarded amount and creates its grant. Concurrent approvals
    /// queue on the round's lock, so Σ awarded never passes the budget: past it the typed
    /// `GrantsError.budgetExceeded(round:excess:)` says by how much. Approving again with the same
    /// decision returns the grant (a retry); another decision is an invalid state change. A person with a
    /// declared conflict of interest with the applicant or a partner is refused
    /// (`GrantsError.conflictOfInterest(person:organisation:)`).
    ///
    /// The decision date cannot be in the future. An award above the amount requested is refused unless
    /// `aboveRequested` says it is meant (the problem is located at `above_requested`).
    @discardableResult
    public func approve(
        _ reference: String, programme: String? = nil, amount: Money, decidedOn: CalendarDate, decisionRef: String? = nil,
        aboveRequested: Bool = false, actor: String
    ) async throws(GrantsError) -> Grant {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if amount.minorUnits <= 0 { problems.append(Problem("amount", "must be positive")) }
        if let problem = decidedOn.notInTheFuture(at: "decided_on") { problems.append(problem) }
        if let problem = Limits.text(decisionRef, at: "decision_ref", required: false) { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        // One statement: `grants_api.approve` (Schema/api/applications.sql) resolves who acts, checks what is left to
        // check in the order this library always has (found, conflict of interest, a retry, the state change, the
        // round open, the currency, above requested), writes, and returns the grant's row. The budget trigger locks
        // the round last.
        return try await service.writeOneStatement("grants.approvals.approve") { connection in
            let rows = try connection.query(
                """
                SELECT * FROM grants_api.approve(\(reference)::text, \(programme)::text, \(amount.minorUnits)::int8,
                    \(amount.currency.rawValue)::text, \(decidedOn)::date, \(decisionRef)::text, \(aboveRequested)::boolean,
                    \(actor)::text)
                """)
            guard let row = rows.first else {
                throw GrantsError.internalError(sqlState: nil, message: "grants_api.approve returned no grant for \(reference)")
            }
            return try GrantRegistry.decode(row)
        }
    }

    /// Rejects a submitted application, with the reason. The decision date cannot be in the future. Like
    /// approving, not by a person with a declared conflict of interest with the applicant or a partner.
    @discardableResult
    public func reject(
        _ reference: String, programme: String? = nil, decidedOn: CalendarDate, reason: String, actor: String
    ) async throws(GrantsError) -> Approval {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if let problem = decidedOn.notInTheFuture(at: "decided_on") { problems.append(problem) }
        if let problem = Limits.text(reason, at: "reason") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        // One statement: `grants_api.reject` (Schema/api/applications.sql): found, conflict of interest, a retry,
        // the state change; the decision and the audit event; the decision's row.
        return try await service.writeOneStatement("grants.approvals.reject") { connection in
            let rows = try connection.query(
                """
                SELECT a.reference, ap.decision, ap.awarded, a.currency, ap.decided_on, ap.decision_ref, ap.decided_by, ap.reason
                FROM grants_api.reject(\(reference)::text, \(programme)::text, \(decidedOn)::date, \(reason)::text,
                    \(actor)::text) ap
                JOIN grants.application a ON a.id = ap.application_id
                """)
            guard let row = rows.first else {
                throw GrantsError.internalError(sqlState: nil, message: "grants_api.reject returned no decision for \(reference)")
            }
            return try Self.decode(row)
        }
    }

    /// The decision on an application, if there is one.
    public func decision(for reference: String, programme: String? = nil) async throws(GrantsError) -> Approval? {
        try await service.read("grants.approvals.decision") { connection in
            let application = try Applications.resolve(connection, reference: reference, programme: programme)
            return try Self.find(connection, applicationID: application.id)
        }
    }

    static func checkBudget(_ round: AllocationRound, adding amount: Money) throws {
        let (total, overflow) = round.awarded.minorUnits.addingReportingOverflow(amount.minorUnits)
        if overflow || total > round.budget.minorUnits {
            throw GrantsError.budgetExceeded(
                round: round.name, excess: Money(minorUnits: overflow ? .max : total - round.budget.minorUnits, currency: round.currency))
        }
    }

    static func find(_ connection: PGConnection, applicationID: Int64) throws -> Approval? {
        try connection.query(
            """
            SELECT a.reference, ap.decision, ap.awarded, a.currency, ap.decided_on, ap.decision_ref, ap.decided_by, ap.reason
            FROM grants.approval ap JOIN grants.application a ON a.id = ap.application_id
            WHERE ap.application_id = \(applicationID)
            """
        ).first.map(decode)
    }

    static func decode(_ row: PGRow) throws -> Approval {
        let currency = try row.decode(Currency.self, column: "currency")
        let awarded: Int64? = try row.decode(column: "awarded")
        return Approval(
            reference: try row.decode(column: "reference"), decision: try row.enumValue(Approval.Decision.self, column: "decision"),
            awarded: awarded.map { Money(minorUnits: $0, currency: currency) }, decidedOn: try row.decode(column: "decided_on"),
            decisionRef: try row.decode(column: "decision_ref"), decidedBy: try row.decode(column: "decided_by"),
            reason: try row.decode(column: "reason"))
    }
}
