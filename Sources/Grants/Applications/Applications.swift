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
    @discardableResult
    public func submit(_ new: NewApplication, actor: String) async throws -> Application {
        let actor = try ActorName(actor).value
        guard new.problems.isEmpty else { throw GrantsError.invalidInput(new.problems) }
        return try await service.write("grants.applications.submit") { connection in
            let round = try Rounds.resolve(connection, name: new.round, programme: new.programme)
            guard round.status == .open else { throw GrantsError.closed(entity: "round", key: round.name) }
            guard new.requested.currency == round.currency else {
                throw GrantsError.invalidInput([Problem("requested", "the round is in \(round.currency), not \(new.requested.currency)")])
            }
            let applicant = try Organisations.resolve(connection, key: new.applicant, location: "applicant")
            guard applicant.country == "SE" else {
                throw GrantsError.invalidInput([
                    Problem(
                        "applicant", "the applicant is a Swedish municipality or region; \(applicant.name) is in \(applicant.country)")
                ])
            }
            let partners = try new.partners.map { try Organisations.resolve(connection, key: $0, location: "partners") }
            let known = try Themes.find(connection, codes: new.themes)
            let unknown = new.themes.filter { known[$0] == nil }
            guard unknown.isEmpty else {
                throw GrantsError.invalidInput(unknown.map { Problem("themes", "unknown theme \($0); add it with 'theme add'") })
            }
            var continuesID: Int64?
            if let continues = new.continues {
                let earlier = try Self.continued(connection, continues, programme: round.programme, applicant: applicant, at: "continues")
                continuesID = earlier
            }
            if let existing = try Self.find(connection, reference: new.reference, programme: round.programme) {
                let differences = Self.differences(existing, new, round: round.name, applicant: applicant, partners: partners)
                guard differences.isEmpty else {
                    throw GrantsError.conflict(entity: "application", key: new.reference, differences: differences)
                }
                return existing
            }
            let programmeID = try connection.query("SELECT programme_id FROM grants.allocation_round WHERE id = \(round.id)")[0]
                .decode(Int64.self, column: 0)
            let id = try connection.query(
                """
                INSERT INTO grants.application (programme_id, round_id, reference, title, applicant_id, phase, requested,
                    currency, starts_on, ends_on, submitted_by, continues_grant_id)
                VALUES (\(programmeID), \(round.id), \(new.reference), \(new.title), \(applicant.id), \(new.phase.rawValue),
                    \(new.requested.minorUnits), \(new.requested.currency), \(new.startsOn), \(new.endsOn), \(actor), \(continuesID))
                RETURNING id
                """)[0].decode(Int64.self, column: 0)
            try Self.link(connection, applications: [id], partners: [partners.map(\.id)], themes: [new.themes])
            try AuditLog.record(
                connection, actor: actor, action: "application.submitted", entity: "application", key: new.reference,
                details: ["round": round.name, "requested": new.requested.plain])
            guard let created = try Self.find(connection, reference: new.reference, programme: round.programme) else {
                throw GrantsError.internalError(sqlState: nil, message: "application vanished after insert")
            }
            return created
        }
    }

    /// Withdraws a submitted application.
    @discardableResult
    public func withdraw(_ reference: String, programme: String? = nil, actor: String) async throws -> Application {
        let actor = try ActorName(actor).value
        return try await service.write("grants.applications.withdraw") { connection in
            let application = try Self.resolve(connection, reference: reference, programme: programme, lock: true)
            if application.status == .withdrawn { return application }
            try application.status.checkTransition(to: .withdrawn, entity: "application", key: reference)
            try connection.execute("UPDATE grants.application SET status = 'withdrawn' WHERE id = \(application.id)")
            try AuditLog.record(connection, actor: actor, action: "application.withdrawn", entity: "application", key: reference)
            return try Self.resolve(connection, reference: reference, programme: application.programme)
        }
    }

    public func list(round: String? = nil, programme: String? = nil, status: ApplicationStatus? = nil) async throws -> [Application] {
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

    public func get(_ reference: String, programme: String? = nil) async throws -> Application {
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

    /// The grant an application continues, by reference in the programme: it must be awarded to the same
    /// applicant. Problems are placed at `location` (`continues`, `grants[3].continues`).
    static func continued(
        _ connection: PGConnection, _ reference: String, programme: String, applicant: Organisation, at location: String
    ) throws -> Int64 {
        let rows = try connection.query(
            """
            SELECT g.id, o.id AS applicant_id, o.name AS applicant FROM grants.grant g
            JOIN grants.programme p ON p.id = g.programme_id JOIN grants.application a ON a.id = g.application_id
            JOIN grants.organisation o ON o.id = a.applicant_id
            WHERE g.reference = \(reference) AND p.name = \(programme)
            """)
        guard let row = rows.first else {
            throw GrantsError.invalidInput([Problem(location, "no grant \(reference) in \(programme) to continue")])
        }
        guard try row.decode(Int64.self, column: "applicant_id") == applicant.id else {
            let other = try row.decode(String.self, column: "applicant")
            throw GrantsError.invalidInput([
                Problem(
                    location,
                    "grant \(reference) was awarded to \(other), not \(applicant.name): a partnership continues with its applicant")
            ])
        }
        return try row.decode(Int64.self, column: "id")
    }

    /// What a resubmission says differently from the recorded application.
    static func differences(
        _ recorded: Application, _ new: NewApplication, round: String, applicant: Organisation, partners: [Organisation]
    ) -> [Difference] {
        func names(_ organisations: [Organisation]) -> String { organisations.map(\.name).joined(separator: "|") }
        let pairs: [(String, String, String)] = [
            ("round", recorded.round, round),
            ("applicant", recorded.applicant.name, applicant.name),
            ("partners", names(recorded.partners), names(partners)),
            ("themes", recorded.themes.joined(separator: "|"), new.themes.joined(separator: "|")),
            ("requested", recorded.requested.swedish, new.requested.swedish),
            ("period.start", recorded.startsOn.iso, new.startsOn.iso),
            ("period.end", recorded.endsOn.iso, new.endsOn.iso),
            ("phase", recorded.phase.rawValue, new.phase.rawValue),
            ("title", recorded.title ?? "none", new.title ?? "none"),
            ("continues", recorded.continues ?? "none", new.continues ?? "none"),
        ]
        return pairs.filter { $0.1 != $0.2 }.map { Difference($0.0, recorded: $0.1, given: $0.2) }
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

    static func find(_ connection: PGConnection, reference: String, programme: String) throws -> Application? {
        try connection.query("\(select) WHERE a.reference = \(reference) AND p.name = \(programme)")
            .first.map(decode)
    }

    /// A REF argument; `programme` chooses where two programmes use the same reference.
    static func resolve(_ connection: PGConnection, reference: String, programme: String?, lock: Bool = false) throws -> Application {
        guard lock else {
            let rows = try connection.query(
                """
                \(select)
                WHERE a.reference = \(reference) AND (\(programme)::text IS NULL OR p.name = \(programme))
                """)
            try requireOne(rows.count, entity: "application", reference: reference)
            return try decode(rows[0])
        }
        // Find and lock the application alone in one light statement, then read it whole once: the full read
        // (organisations, partners, themes) costs more to plan than to run. An approval's award reaches the
        // round row through the grant trigger, which takes the round's lock as late as possible.
        let ids = try connection.query(
            """
            SELECT a.id FROM grants.application a JOIN grants.programme p ON p.id = a.programme_id
            WHERE a.reference = \(reference) AND (\(programme)::text IS NULL OR p.name = \(programme))
            FOR UPDATE OF a
            """)
        try requireOne(ids.count, entity: "application", reference: reference)
        let id = try ids[0].decode(Int64.self, column: 0)
        return try decode(try connection.query("\(select) WHERE a.id = \(id)")[0])
    }

    /// Links partners and themes to applications in two set-based statements.
    static func link(_ connection: PGConnection, applications: [Int64], partners: [[Int64]], themes: [[String]]) throws {
        var partnerApps: [Int64] = []
        var partnerOrgs: [Int64] = []
        var partnerPositions: [Int32] = []
        var themeApps: [Int64] = []
        var themeCodes: [String] = []
        var themePositions: [Int32] = []
        for (i, application) in applications.enumerated() {
            for (position, organisation) in partners[i].enumerated() {
                partnerApps.append(application)
                partnerOrgs.append(organisation)
                partnerPositions.append(Int32(position))
            }
            for (position, code) in themes[i].enumerated() {
                themeApps.append(application)
                themeCodes.append(code)
                themePositions.append(Int32(position))
            }
        }
        if !partnerApps.isEmpty {
            try insertPartners(connection, applications: partnerApps, organisations: partnerOrgs, positions: partnerPositions)
        }
        if !themeApps.isEmpty { try insertThemes(connection, applications: themeApps, codes: themeCodes, positions: themePositions) }
    }

    /// Partner links, one row per element of the arrays (`int8[]`, `int8[]`, `int4[]`), bound as arrays or as
    /// bindings encoded ahead.
    static func insertPartners(
        _ connection: PGConnection, applications: some PGEncodable, organisations: some PGEncodable, positions: some PGEncodable
    ) throws {
        try connection.execute(
            """
            INSERT INTO grants.application_partner (application_id, organisation_id, position)
            SELECT * FROM unnest(\(applications)::int8[], \(organisations)::int8[], \(positions)::int4[])
            """)
    }

    /// Theme links, one row per element of the arrays (`int8[]`, `text[]`, `int4[]`).
    static func insertThemes(
        _ connection: PGConnection, applications: some PGEncodable, codes: some PGEncodable, positions: some PGEncodable
    ) throws {
        try connection.execute(
            """
            INSERT INTO grants.application_theme (application_id, theme_code, position)
            SELECT * FROM unnest(\(applications)::int8[], \(codes)::text[], \(positions)::int4[])
            """)
    }
}
