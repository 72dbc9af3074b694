import PGClient

/// A report a grantee owes: interim or final, with a due date. With `beforeTranche`, that tranche of the grant and
/// every later one cannot be attested or paid until the report is approved or waived.
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
    ) async throws(GrantsError) -> ReportingRequirement {
        let actor = try ActorName(actor).value
        if let beforeTranche, beforeTranche < 1 || beforeTranche > Int(Int32.max) {
            throw GrantsError.invalidInput([Problem("before_tranche", "a tranche number is 1 or more")])
        }
        return try await service.writeOneStatement("grants.requirements.add") { connection in
            try Self.one(
                connection.query(
                    """
                    SELECT * FROM grants_api.requirement_add(\(reference)::text, \(programme)::text, \(kind.rawValue)::text,
                        \(dueOn)::date, \(beforeTranche.map(Int32.init))::int4, \(actor)::text)
                    """), "grants_api.requirement_add")
        }
    }

    /// Records that the report arrived (from due, or again after it was returned).
    @discardableResult
    public func receive(_ id: Int64, on date: CalendarDate, actor: String) async throws(GrantsError) -> ReportingRequirement {
        let actor = try ActorName(actor).value
        if let problem = date.notInTheFuture(at: "received_on") { throw GrantsError.invalidInput([problem]) }
        return try await service.writeOneStatement("grants.requirements.receive") { connection in
            try Self.one(
                connection.query("SELECT * FROM grants_api.requirement_receive(\(id)::int8, \(date)::date, \(actor)::text)"),
                "grants_api.requirement_receive")
        }
    }

    /// Approves a received report; the tranches it held back are released.
    @discardableResult
    public func approve(_ id: Int64, on date: CalendarDate, actor: String) async throws(GrantsError) -> ReportingRequirement {
        let actor = try ActorName(actor).value
        if let problem = date.notInTheFuture(at: "approved_on") { throw GrantsError.invalidInput([problem]) }
        return try await service.writeOneStatement("grants.requirements.approve") { connection in
            try Self.one(
                connection.query("SELECT * FROM grants_api.requirement_approve(\(id)::int8, \(date)::date, \(actor)::text)"),
                "grants_api.requirement_approve")
        }
    }

    /// Returns a received report to the grantee for changes, with the reason; it is received again later.
    @discardableResult
    public func returnForChanges(_ id: Int64, reason: String, actor: String) async throws(GrantsError) -> ReportingRequirement {
        let actor = try ActorName(actor).value
        if let problem = Limits.text(reason, at: "reason") { throw GrantsError.invalidInput([problem]) }
        return try await service.writeOneStatement("grants.requirements.returnForChanges") { connection in
            try Self.one(
                connection.query("SELECT * FROM grants_api.requirement_return(\(id)::int8, \(reason)::text, \(actor)::text)"),
                "grants_api.requirement_return")
        }
    }

    /// Waives the requirement, with the reason: it is met for good, and the tranches it held back are released.
    @discardableResult
    public func waive(_ id: Int64, reason: String, actor: String) async throws(GrantsError) -> ReportingRequirement {
        let actor = try ActorName(actor).value
        if let problem = Limits.text(reason, at: "reason") { throw GrantsError.invalidInput([problem]) }
        return try await service.writeOneStatement("grants.requirements.waive") { connection in
            try Self.one(
                connection.query("SELECT * FROM grants_api.requirement_waive(\(id)::int8, \(reason)::text, \(actor)::text)"),
                "grants_api.requirement_waive")
        }
    }

    public func list(_ filter: RequirementFilter = RequirementFilter()) async throws(GrantsError) -> [ReportingRequirement] {
        try await service.listing("grants.requirements.list") { connection in
            try connection.query(
                """
                \(Self.select)
                WHERE (\(filter.programme)::text IS NULL OR q.programme = \(filter.programme))
                  AND (\(filter.round)::text IS NULL OR q.round = \(filter.round))
                  AND (\(filter.grant)::text IS NULL OR q.reference = \(filter.grant))
                  AND (\(filter.status?.rawValue)::text IS NULL OR q.status = \(filter.status?.rawValue))
                  AND (\(filter.overdueAsOf)::date IS NULL
                       OR (q.due_on < \(filter.overdueAsOf) AND q.status NOT IN ('approved', 'waived')))
                ORDER BY q.due_on, q.id
                """
            ).map(Self.decode)
        }
    }

    public func get(_ id: Int64) async throws(GrantsError) -> ReportingRequirement {
        try await service.read { try Self.resolve($0, id: id) }
    }

    // MARK: SQL

    /// A requirement with its grant's reference, round and programme: the view `grants.requirement_row`
    /// (Schema/api/requirements.sql), which the API's requirement functions return.
    static let select: PGQuery = "SELECT q.* FROM grants.requirement_row q"

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

    /// The one row a write function of the API returned.
    static func one(_ rows: PGResult, _ function: String) throws -> ReportingRequirement {
        guard let row = rows.first else {
            throw GrantsError.internalError(sqlState: nil, message: "\(function) returned no requirement")
        }
        return try decode(row)
    }

    /// An ID argument.
    static func resolve(_ connection: PGConnection, id: Int64) throws -> ReportingRequirement {
        guard let row = try connection.query("\(select) WHERE q.id = \(id)").first else {
            throw GrantsError.notFound(entity: "requirement", key: String(id))
        }
        return try decode(row)
    }
}
