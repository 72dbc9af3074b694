import PGClient

/// What an application asks for, which its grant keeps: the reference, round, applicant, partners, themes,
/// phase and the amount requested. ``Application`` and ``Grant`` both carry one and show its fields as their own
/// (`grant.applicant`), in Swift and in JSON alike.
///
/// ```swift
/// let grant = try await service.grants.get("KP-2021-2-01").grant
/// print(grant.proposal.applicant.name, grant.partners.map(\.name))   // the same fields, either way
/// ```
public struct Proposal: Sendable, Encodable, Equatable {
    public let reference: String
    public let programme: String
    public let round: String
    public let title: String?
    public let applicant: Organisation
    public let partners: [Organisation]
    public let themes: [String]
    public let phase: Phase
    public let requested: Money
}

/// A request by one Swedish organisation (the grantee) with its partners abroad.
///
/// ```swift
/// let application = try await service.applications.get("KP-2023-1-01")
/// print(application.status, application.applicant.name, application.requested.swedish)
/// ```
@dynamicMemberLookup
public struct Application: Sendable, Encodable, Equatable {
    public let id: Int64
    public let proposal: Proposal
    public let startsOn: CalendarDate
    public let endsOn: CalendarDate
    public let status: ApplicationStatus
    /// The earlier grant whose partnership this application continues.
    public let continues: String?

    public subscript<T>(dynamicMember field: KeyPath<Proposal, T>) -> T { proposal[keyPath: field] }

    enum CodingKeys: String, CodingKey { case id, startsOn, endsOn, status, continues }

    /// The proposal's fields beside the application's own, as one flat object.
    public func encode(to encoder: any Encoder) throws {
        try proposal.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(startsOn, forKey: .startsOn)
        try container.encode(endsOn, forKey: .endsOn)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(continues, forKey: .continues)
    }
}

/// Applications: submit, withdraw, list. Decisions are in ``Approvals``.
///
/// ```swift
/// try await service.applications.submit(NewApplication(round: "2021:2", reference: "KP-2021-2-01",
///     applicant: "212000-0662", partners: ["Kisumu County"], themes: ["citizen-dialogue"],
///     requested: try Money(parsing: "1 000 000", currency: .sek),
///     startsOn: try CalendarDate("2022-01-01"), endsOn: try CalendarDate("2023-12-31")), actor: "anna")
/// ```
public struct Applications: Sendable {
    let service: GrantsService

    /// Submits an application to an open round. The reference is its idempotency key: the same application
    /// submitted again changes nothing; another one under a used reference is refused.
    ///
    /// One statement: `grants_api.submit_application` (Schema/api/applications.sql) resolves the round, the
    /// parties, the themes and the grant continued, compares with what a used reference recorded, and writes the
    /// application with its partners and themes (the one path that links them) and the audit event.
    @discardableResult
    public func submit(_ new: NewApplication, actor: String) async throws(GrantsError) -> Application {
        let actor = try ActorName(actor).value
        guard new.problems.isEmpty else { throw GrantsError.invalidInput(new.problems) }
        return try await service.writeOneStatement("grants.applications.submit") { connection in
            try Self.one(
                connection.query(
                    """
                    SELECT * FROM grants_api.submit_application(\(new.round)::text, \(new.programme)::text,
                        \(new.reference)::text, \(new.title)::text, \(new.applicant)::text, \(new.partners)::text[],
                        \(new.themes)::text[], \(new.phase.rawValue)::text, \(new.requested.minorUnits)::int8,
                        \(new.requested.currency.rawValue)::text, \(new.startsOn)::date, \(new.endsOn)::date,
                        \(new.continues)::text, \(actor)::text)
                    """), reference: new.reference)
        }
    }

    /// Withdraws a submitted application (`grants_api.withdraw`). Withdrawing it again returns it unchanged.
    @discardableResult
    public func withdraw(_ reference: String, programme: String? = nil, actor: String) async throws(GrantsError) -> Application {
        let actor = try ActorName(actor).value
        return try await service.writeOneStatement("grants.applications.withdraw") { connection in
            try Self.one(
                connection.query("SELECT * FROM grants_api.withdraw(\(reference)::text, \(programme)::text, \(actor)::text)"),
                reference: reference)
        }
    }

    public func list(round: String? = nil, programme: String? = nil, status: ApplicationStatus? = nil) async throws(GrantsError) -> [Application] {
        try await service.listing("grants.applications.list") { connection in
            try Filters.check(connection, programme: programme, round: round)
            return try connection.query(
                """
                \(Self.select)
                WHERE (\(round)::text IS NULL OR r.name = \(round))
                  AND (\(programme)::text IS NULL OR p.name = \(programme))
                  AND (\(status?.rawValue)::text IS NULL OR a.status = \(status?.rawValue))
                ORDER BY p.name, r.name, a.reference
                """
            ).decodeRows(Self.decode)
        }
    }

    public func get(_ reference: String, programme: String? = nil) async throws(GrantsError) -> Application {
        try await service.read("grants.applications.get") { try Self.resolve($0, reference: reference, programme: programme) }
    }

    // MARK: SQL

    static let select: PGQuery = """
        SELECT a.id, a.reference, p.name AS programme, r.name AS round, a.title, a.phase, a.requested, a.currency,
               a.starts_on, a.ends_on, a.status, (SELECT c.reference FROM grants.grant c WHERE c.id = a.continues_grant_id) AS continues,
               \(Parties.columns)
        FROM grants.application a
        JOIN grants.allocation_round r ON r.id = a.round_id
        JOIN grants.programme p ON p.id = a.programme_id
        \(Parties.joins)
        """

    /// Where the proposal's columns, named alike in the application's and the grant's reads, are in a result.
    struct ProposalColumns: ResultColumns {
        let reference, programme, round, title, phase, requested, themes: Int
        let applicantID, applicantName, applicantCountry, applicantOrgNumber, applicantCode, applicantKind: Int
        let partnerIDs, partnerNames, partnerCountries, partnerNumbers, partnerCodes, partnerKinds: Int

        init(_ row: PGRow) throws {
            reference = try row.column("reference")
            programme = try row.column("programme")
            round = try row.column("round")
            title = try row.column("title")
            phase = try row.column("phase")
            requested = try row.column("requested")
            themes = try row.column("themes")
            applicantID = try row.column("applicant_id")
            applicantName = try row.column("applicant_name")
            applicantCountry = try row.column("applicant_country")
            applicantOrgNumber = try row.column("applicant_org_number")
            applicantCode = try row.column("applicant_code")
            applicantKind = try row.column("applicant_kind")
            partnerIDs = try row.column("partner_ids")
            partnerNames = try row.column("partner_names")
            partnerCountries = try row.column("partner_countries")
            partnerNumbers = try row.column("partner_numbers")
            partnerCodes = try row.column("partner_codes")
            partnerKinds = try row.column("partner_kinds")
        }
    }

    static func proposal(_ row: PGRow, _ columns: ProposalColumns, currency: Currency) throws -> Proposal {
        Proposal(
            reference: try row.decode(column: columns.reference), programme: try row.decode(column: columns.programme),
            round: try row.decode(column: columns.round), title: try row.decode(column: columns.title),
            applicant: try applicant(row, columns), partners: try partners(row, columns), themes: try row.decode(column: columns.themes),
            phase: try row.enumValue(Phase.self, column: columns.phase),
            requested: Money(minorUnits: try row.decode(column: columns.requested), currency: currency))
    }

    /// Where ``select``'s columns are in a result.
    struct Columns: ResultColumns {
        let id, currency, startsOn, endsOn, status, continues: Int
        let proposal: ProposalColumns

        init(_ row: PGRow) throws {
            id = try row.column("id")
            currency = try row.column("currency")
            startsOn = try row.column("starts_on")
            endsOn = try row.column("ends_on")
            status = try row.column("status")
            continues = try row.column("continues")
            proposal = try ProposalColumns(row)
        }
    }

    static func decode(_ row: PGRow) throws -> Application { try decode(row, Columns(row)) }

    static func decode(_ row: PGRow, _ columns: Columns) throws -> Application {
        let currency = try row.decode(Currency.self, column: columns.currency)
        return Application(
            id: try row.decode(column: columns.id), proposal: try proposal(row, columns.proposal, currency: currency),
            startsOn: try row.decode(column: columns.startsOn), endsOn: try row.decode(column: columns.endsOn),
            status: try row.enumValue(ApplicationStatus.self, column: columns.status), continues: try row.decode(column: columns.continues))
    }

    static func applicant(_ row: PGRow, _ columns: ProposalColumns) throws -> Organisation {
        let number: String? = try row.decode(column: columns.applicantOrgNumber)
        let kind = try row.decode(String.self, column: columns.applicantKind)
        return Organisation(
            id: try row.decode(column: columns.applicantID), name: try row.decode(column: columns.applicantName),
            country: try row.decode(column: columns.applicantCountry), orgNumber: try number.map { try OrganisationNumber($0) },
            municipalityCode: try row.decode(column: columns.applicantCode), kind: OrganisationKind(rawValue: kind) ?? .other)
    }

    static func partners(_ row: PGRow, _ columns: ProposalColumns) throws -> [Organisation] {
        let ids: [Int64]? = try row.decode(column: columns.partnerIDs)
        guard let ids else { return [] }
        let names: [String] = try row.decode(column: columns.partnerNames)
        let countries: [String] = try row.decode(column: columns.partnerCountries)
        let numbers: [String?] = try row.decode(column: columns.partnerNumbers)
        let codes: [String?] = try row.decode(column: columns.partnerCodes)
        let kinds: [String] = try row.decode(column: columns.partnerKinds)
        return try ids.indices.map { i in
            Organisation(
                id: ids[i], name: names[i], country: countries[i], orgNumber: try numbers[i].map { try OrganisationNumber($0) },
                municipalityCode: codes[i], kind: OrganisationKind(rawValue: kinds[i]) ?? .other)
        }
    }

    /// The application row an API function returned (`grants.application_row`).
    static func one(_ rows: PGResult, reference: String) throws -> Application {
        guard let row = rows.first else {
            throw GrantsError.internalError(sqlState: nil, message: "the database returned no application for \(reference)")
        }
        return try decode(row)
    }

    static func find(_ connection: PGConnection, reference: String, programme: String) throws -> Application? {
        try connection.query("\(select) WHERE a.reference = \(reference) AND p.name = \(programme)")
            .first.map(decode)
    }

    /// A REF argument; `programme` chooses where two programmes use the same reference.
    static func resolve(_ connection: PGConnection, reference: String, programme: String?) throws -> Application {
        let rows = try connection.query(
            """
            \(select)
            WHERE a.reference = \(reference) AND (\(programme)::text IS NULL OR p.name = \(programme))
            """)
        try requireOne(rows.count, entity: "application", reference: reference)
        return try decode(rows[0])
    }
}
