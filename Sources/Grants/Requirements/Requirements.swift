import PGClient

/// A report a grantee owes: interim or final, with a due date. With `beforeTranche`, that tranche of the grant
/// cannot be attested or paid until the report is approved or waived.
///
/// ```swift
/// let overdue = try await service.requirements.list(RequirementFilter(overdueAsOf: .today))
/// for r in overdue { print(r.id, r.grantReference, r.kind, r.dueOn, r.status) }
/// ```
public struct ReportingRequirement: Sendable, Encodable, Equatable {
    public let id: Int64
    public let grantReference: String
    public let programme: String
    public let round: String
    public let kind: ReportKind
    public let dueOn: CalendarDate
    public let beforeTranche: Int?
    public let status: RequirementStatus
    public let receivedOn: CalendarDate?
    public let approvedOn: CalendarDate?
    /// Why it was returned or waived.
    public let reason: String?

    /// Past due on `date` and neither approved nor waived.
    public func isOverdue(asOf date: CalendarDate) -> Bool { dueOn < date && !status.releases }
}

/// Which reporting requirements to list.
///
/// ```swift
/// let waiting = RequirementFilter(round: "2021:2", status: .received)
/// let late = RequirementFilter(overdueAsOf: try CalendarDate("2023-01-15"))
/// ```
public struct RequirementFilter: Sendable, Equatable {
    public var programme: String?
    public var round: String?
    public var grant: String?
    public var status: RequirementStatus?
    /// Only those past due on this date and neither approved nor waived.
    public var overdueAsOf: CalendarDate?

    public init(
        programme: String? = nil, round: String? = nil, grant: String? = nil, status: RequirementStatus? = nil,
        overdueAsOf: CalendarDate? = nil
    ) {
        self.programme = programme
        self.round = round
        self.grant = grant
        self.status = status
        self.overdueAsOf = overdueAsOf
    }
}

/// Reporting requirements: add, receive, approve, return for changes, waive, list. Every change follows
/// `RequirementStatus`, here and in the database's trigger alike.
///
/// ```swift
/// let interim = try await service.requirements.add(
///     "KP-2023-1-01", kind: .interim, dueOn: try CalendarDate("2024-03-31"), beforeTranche: 2, actor: "anna")
/// try await service.requirements.receive(interim.id, on: try CalendarDate("2024-03-28"), actor: "anna")
/// try await service.requirements.approve(interim.id, on: try CalendarDate("2024-04-05"), actor: "bertil")   // tranche 2 is released
/// ```
public struct Requirements: Sendable {
    let service: GrantsService

    /// Adds a requirement to an active grant. Its grant, kind and due date are its natural key: adding the same one
    /// again returns it (a retry); the same key with another `beforeTranche` is a `GrantsError.conflict`.
    @discardableResult
    public func add(
        _ reference: String, programme: String? = nil, kind: ReportKind, dueOn: CalendarDate, beforeTranche: Int? = nil,
        actor: String
    ) async throws -> ReportingRequirement {
        let actor = try ActorName(actor).value
        if let beforeTranche, beforeTranche < 1 || beforeTranche > Int(Int32.max) {
            throw GrantsError.invalidInput([Problem("before_tranche", "a tranche number is 1 or more")])
        }
        return try await service.write { connection in
            let grant = try GrantRegistry.resolve(connection, reference: reference, programme: programme, lock: .grant)
            if let row = try connection.query(
                "SELECT id FROM grants.reporting_requirement WHERE grant_id = \(grant.id) AND kind = \(kind.rawValue) AND due_on = \(dueOn)"
            ).first {
                let existing = try Self.resolve(connection, id: try row.decode(Int64.self, column: 0))
                guard existing.beforeTranche == beforeTranche else {
                    throw GrantsError.conflict(
                        entity: "requirement", key: String(existing.id),
                        differences: [
                            Difference(
                                "before_tranche", recorded: existing.beforeTranche.map(String.init) ?? "none",
                                given: beforeTranche.map(String.init) ?? "none")
                        ])
                }
                return existing
            }
            guard grant.status == .active else { throw GrantsError.closed(entity: "grant", key: reference) }
            let id = try connection.query(
                """
                INSERT INTO grants.reporting_requirement (grant_id, kind, due_on, before_tranche, created_by)
                VALUES (\(grant.id), \(kind.rawValue), \(dueOn), \(beforeTranche.map(Int32.init)), \(actor)) RETURNING id
                """)[0].decode(Int64.self, column: 0)
            var details = ["grant": reference, "kind": kind.rawValue, "due_on": dueOn.iso]
            if let beforeTranche { details["before_tranche"] = String(beforeTranche) }
            try AuditLog.record(
                connection, actor: actor, action: "requirement.added", entity: "requirement", key: String(id), details: details)
            return try Self.resolve(connection, id: id)
        }
    }

    /// Records that the report arrived (from due, or again after it was returned).
    @discardableResult
    public func receive(_ id: Int64, on date: CalendarDate, actor: String) async throws -> ReportingRequirement {
        let actor = try ActorName(actor).value
        if let problem = date.notInTheFuture(at: "received_on") { throw GrantsError.invalidInput([problem]) }
        return try await change(id, to: .received, actor: actor, details: ["received_on": date.iso]) { current in
            current.status == .received && current.receivedOn == date
        } update: { connection in
            try connection.execute(
                """
                UPDATE grants.reporting_requirement
                SET status = 'received', received_on = \(date), reason = NULL, changed_by = \(actor), changed_at = now()
                WHERE id = \(id)
                """)
        }
    }

    /// Approves a received report; a tranche it held back is released.
    @discardableResult
    public func approve(_ id: Int64, on date: CalendarDate, actor: String) async throws -> ReportingRequirement {
        let actor = try ActorName(actor).value
        if let problem = date.notInTheFuture(at: "approved_on") { throw GrantsError.invalidInput([problem]) }
        return try await change(id, to: .approved, actor: actor, details: ["approved_on": date.iso]) { current in
            current.status == .approved && current.approvedOn == date
        } update: { connection in
            if let received = try Self.resolve(connection, id: id).receivedOn, date < received {
                throw GrantsError.invalidInput([Problem("approved_on", "\(date) is before the report was received (\(received))")])
            }
            try connection.execute(
                """
                UPDATE grants.reporting_requirement
                SET status = 'approved', approved_on = \(date), changed_by = \(actor), changed_at = now()
                WHERE id = \(id)
                """)
        }
    }

    /// Returns a received report to the grantee for changes, with the reason; it is received again later.
    @discardableResult
    public func returnForChanges(_ id: Int64, reason: String, actor: String) async throws -> ReportingRequirement {
        let actor = try ActorName(actor).value
        if let problem = Limits.text(reason, at: "reason") { throw GrantsError.invalidInput([problem]) }
        return try await change(id, to: .returned, actor: actor, details: ["reason": reason]) { current in
            current.status == .returned && current.reason == reason
        } update: { connection in
            try connection.execute(
                """
                UPDATE grants.reporting_requirement
                SET status = 'returned', reason = \(reason), changed_by = \(actor), changed_at = now()
                WHERE id = \(id)
                """)
        }
    }

    /// Waives the requirement, with the reason: it is met for good, and a tranche it held back is released.
    @discardableResult
    public func waive(_ id: Int64, reason: String, actor: String) async throws -> ReportingRequirement {
        let actor = try ActorName(actor).value
        if let problem = Limits.text(reason, at: "reason") { throw GrantsError.invalidInput([problem]) }
        return try await change(id, to: .waived, actor: actor, details: ["reason": reason]) { current in
            current.status == .waived && current.reason == reason
        } update: { connection in
            try connection.execute(
                """
                UPDATE grants.reporting_requirement
                SET status = 'waived', reason = \(reason), changed_by = \(actor), changed_at = now()
                WHERE id = \(id)
                """)
        }
    }

    public func list(_ filter: RequirementFilter = RequirementFilter()) async throws -> [ReportingRequirement] {
        try await service.listing("grants.requirements.list") { connection in
            try connection.query(
                """
                \(Self.select)
                WHERE (\(filter.programme)::text IS NULL OR p.name = \(filter.programme))
                  AND (\(filter.round)::text IS NULL OR r.name = \(filter.round))
                  AND (\(filter.grant)::text IS NULL OR g.reference = \(filter.grant))
                  AND (\(filter.status?.rawValue)::text IS NULL OR q.status = \(filter.status?.rawValue))
                  AND (\(filter.overdueAsOf)::date IS NULL
                       OR (q.due_on < \(filter.overdueAsOf) AND q.status NOT IN ('approved', 'waived')))
                ORDER BY q.due_on, q.id
                """
            ).map(Self.decode)
        }
    }

    public func get(_ id: Int64) async throws -> ReportingRequirement {
        try await service.read { try Self.resolve($0, id: id) }
    }

    /// One state change: lock the grant, then the requirement; a retry of the change already made returns it.
    private func change(
        _ id: Int64, to target: RequirementStatus, actor: String, details: [String: String],
        isRetry: @escaping @Sendable (ReportingRequirement) -> Bool,
        update: @escaping @Sendable (PGConnection) throws -> Void
    ) async throws -> ReportingRequirement {
        try await service.write { connection in
            let current = try Self.resolve(connection, id: id, lock: true)
            if isRetry(current) { return current }
            try current.status.checkTransition(to: target, entity: "requirement", key: String(id))
            try update(connection)
            var details = details
            details["grant"] = current.grantReference
            try AuditLog.record(
                connection, actor: actor, action: "requirement.\(target.rawValue)", entity: "requirement", key: String(id),
                details: details)
            return try Self.resolve(connection, id: id)
        }
    }

    // MARK: SQL

    static let select: PGQuery = """
        SELECT q.id, g.reference, p.name AS programme, r.name AS round, q.kind, q.due_on, q.before_tranche, q.status,
               q.received_on, q.approved_on, q.reason
        FROM grants.reporting_requirement q
        JOIN grants.grant g ON g.id = q.grant_id
        JOIN grants.allocation_round r ON r.id = g.round_id
        JOIN grants.programme p ON p.id = g.programme_id
        """

    static func decode(_ row: PGRow) throws -> ReportingRequirement {
        let beforeTranche: Int32? = try row.decode(column: "before_tranche")
        return ReportingRequirement(
            id: try row.decode(column: "id"), grantReference: try row.decode(column: "reference"),
            programme: try row.decode(column: "programme"), round: try row.decode(column: "round"),
            kind: try row.enumValue(ReportKind.self, column: "kind"), dueOn: try row.decode(column: "due_on"),
            beforeTranche: beforeTranche.map(Int.init), status: try row.enumValue(RequirementStatus.self, column: "status"),
            receivedOn: try row.decode(column: "received_on"), approvedOn: try row.decode(column: "approved_on"),
            reason: try row.decode(column: "reason"))
    }

    /// An ID argument. With `lock`, the grant and then the requirement are locked, in that order (the order
    /// attesting takes: grant, then disbursement), so an approval and an attest of the tranche it holds queue.
    static func resolve(_ connection: PGConnection, id: Int64, lock: Bool = false) throws -> ReportingRequirement {
        if lock {
            let locked = try connection.query(
                """
                SELECT q.id FROM grants.grant g JOIN grants.reporting_requirement q ON q.grant_id = g.id
                WHERE g.id = (SELECT grant_id FROM grants.reporting_requirement WHERE id = \(id)) AND q.id = \(id)
                FOR UPDATE OF g, q
                """)
            guard !locked.isEmpty else { throw GrantsError.notFound(entity: "requirement", key: String(id)) }
        }
        guard let row = try connection.query("\(select) WHERE q.id = \(id)").first else {
            throw GrantsError.notFound(entity: "requirement", key: String(id))
        }
        return try decode(row)
    }
}
