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

    /// Approves a submitted application with an awarded amount and creates its grant. The round is locked
    /// first, so concurrent approvals queue and Σ awarded never passes the budget: past it the typed
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
    ) async throws -> Grant {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if amount.minorUnits <= 0 { problems.append(Problem("amount", "must be positive")) }
        if let problem = decidedOn.notInTheFuture(at: "decided_on") { problems.append(problem) }
        if let problem = Limits.text(decisionRef, at: "decision_ref", required: false) { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        // One span for the call: the write and the read after it.
        return try await service.traced("grants.approvals.approve") {
            let recordedIn: String = try await service.write("grants.approvals.approve") { connection in
                let application = try Applications.resolve(connection, reference: reference, programme: programme, lock: true)
                // Before the retry below: a person with a conflict of interest gets no answer but the refusal.
                try ConflictsOfInterest.check(connection, person: actor, .application(application.id))
                if application.status == .approved, let approval = try Self.find(connection, applicationID: application.id),
                    approval.awarded == amount, approval.decidedOn == decidedOn, approval.decisionRef == decisionRef
                {
                    return application.programme
                }
                try application.status.checkTransition(to: .approved, entity: "application", key: reference)
                let round = try Rounds.resolve(connection, name: application.round, programme: application.programme)
                guard round.status == .open else { throw GrantsError.closed(entity: "round", key: round.name) }
                guard amount.currency == round.currency else {
                    throw GrantsError.invalidInput([Problem("amount", "the round is in \(round.currency)")])
                }
                if try application.requested.isLess(than: amount), !aboveRequested {
                    throw GrantsError.invalidInput([
                        Problem(
                            "above_requested",
                            "the award \(amount.swedish) is above the \(application.requested.swedish) requested and is not confirmed as meant"
                        )
                    ])
                }
                // A quick check without the round's lock gives the typed error in the common case; the CHECK on the
                // round row is what holds under concurrency.
                try Self.checkBudget(round, adding: amount)
                try connection.execute(
                    """
                    INSERT INTO grants.approval (application_id, decision, awarded, decided_on, decision_ref, decided_by)
                    VALUES (\(application.id), 'approved', \(amount.minorUnits), \(decidedOn), \(decisionRef), \(actor))
                    """)
                try connection.execute("UPDATE grants.application SET status = 'approved' WHERE id = \(application.id)")
                try AuditLog.record(
                    connection, actor: actor, action: "application.approved", entity: "grant", key: reference,
                    details: ["awarded": amount.plain, "decided_on": decidedOn.iso, "round": round.name])
                // Last, so the round's row lock (taken by the grant trigger) is held only for this statement and COMMIT.
                // A racing award that got there first makes the database refuse this one with the same typed error.
                try connection.execute(
                    """
                    INSERT INTO grants.grant (application_id, programme_id, round_id, reference, original_amount, amount, currency,
                        starts_on, original_ends_on, ends_on)
                    SELECT id, programme_id, round_id, reference, \(amount.minorUnits), \(amount.minorUnits), currency,
                           starts_on, ends_on, ends_on
                    FROM grants.application WHERE id = \(application.id)
                    """)
                return application.programme
            }
            // Read after COMMIT: nothing of it needs the round's lock.
            return try await service.read("grants.approvals.approve") {
                try GrantRegistry.resolve($0, reference: reference, programme: recordedIn)
            }
        }
    }

    /// Rejects a submitted application, with the reason. The decision date cannot be in the future. Like
    /// approving, not by a person with a declared conflict of interest with the applicant or a partner.
    @discardableResult
    public func reject(
        _ reference: String, programme: String? = nil, decidedOn: CalendarDate, reason: String, actor: String
    ) async throws -> Approval {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if let problem = decidedOn.notInTheFuture(at: "decided_on") { problems.append(problem) }
        if let problem = Limits.text(reason, at: "reason") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.write("grants.approvals.reject") { connection in
            let application = try Applications.resolve(connection, reference: reference, programme: programme, lock: true)
            try ConflictsOfInterest.check(connection, person: actor, .application(application.id))
            if application.status == .rejected, let approval = try Self.find(connection, applicationID: application.id),
                approval.reason == reason, approval.decidedOn == decidedOn
            {
                return approval
            }
            try application.status.checkTransition(to: .rejected, entity: "application", key: reference)
            try connection.execute(
                """
                INSERT INTO grants.approval (application_id, decision, decided_on, decided_by, reason)
                VALUES (\(application.id), 'rejected', \(decidedOn), \(actor), \(reason))
                """)
            try connection.execute("UPDATE grants.application SET status = 'rejected' WHERE id = \(application.id)")
            try AuditLog.record(
                connection, actor: actor, action: "application.rejected", entity: "application", key: reference,
                details: ["reason": reason])
            guard let approval = try Self.find(connection, applicationID: application.id) else {
                throw GrantsError.internalError(sqlState: nil, message: "decision vanished after insert")
            }
            return approval
        }
    }

    /// The decision on an application, if there is one.
    public func decision(for reference: String, programme: String? = nil) async throws -> Approval? {
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
        ).first.map { row in
            let currency = try row.decode(Currency.self, column: "currency")
            let awarded: Int64? = try row.decode(column: "awarded")
            return Approval(
                reference: try row.decode(column: "reference"), decision: try row.enumValue(Approval.Decision.self, column: "decision"),
                awarded: awarded.map { Money(minorUnits: $0, currency: currency) }, decidedOn: try row.decode(column: "decided_on"),
                decisionRef: try row.decode(column: "decision_ref"), decidedBy: try row.decode(column: "decided_by"),
                reason: try row.decode(column: "reason"))
        }
    }
}
