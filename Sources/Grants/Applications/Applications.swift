import PGClient

/// A request by one Swedish organisation (the grantee) with its partners abroad.
///
/// ```swift
/// let application = try await service.applications.get("KP-2023-1-01")
/// print(application.status, application.applicant.name, application.requested.swedish)
/// ```
public struct Application: Sendable, Encodable, Equatable {
    public let id: Int64
    public let reference: String
    public let programme: String
    public let round: String
    public let title: String?
    public let applicant: Organisation
    public let partners: [Organisation]
    public let themes: [String]
    public let phase: Phase
    public let requested: Money
    public let startsOn: CalendarDate
    public let endsOn: CalendarDate
    public let status: ApplicationStatus
}

/// What it takes to submit an application. Organisations are named as ORG keys: an organisationsnummer
/// or an exact name of a recorded organisation.
///
/// ```swift
/// let new = NewApplication(
///     round: "2023:1", reference: "KP-2023-1-01", title: "Medborgardialog Stockholm–Kisumu",
///     applicant: "212000-0142", partners: ["Kisumu County"], themes: ["citizen-dialogue"],
///     requested: try Money(parsing: "600 000", currency: .sek),
///     startsOn: try CalendarDate("2023-09-01"), endsOn: try CalendarDate("2025-08-31"))
/// let application = try await service.applications.submit(new, actor: "anna")
/// ```
public struct NewApplication: Sendable, Equatable {
    public var round: String
    public var programme: String?
    public var reference: String
    public var title: String?
    public var applicant: String
    public var partners: [String]
    public var themes: [String]
    public var phase: Phase
    public var requested: Money
    public var startsOn: CalendarDate
    public var endsOn: CalendarDate

    public init(
        round: String, programme: String? = nil, reference: String, title: String? = nil, applicant: String,
        partners: [String], themes: [String], phase: Phase = .project, requested: Money, startsOn: CalendarDate,
        endsOn: CalendarDate
    ) {
        self.round = round
        self.programme = programme
        self.reference = reference
        self.title = title
        self.applicant = applicant
        self.partners = partners
        self.themes = themes
        self.phase = phase
        self.requested = requested
        self.startsOn = startsOn
        self.endsOn = endsOn
    }

    public var problems: [Problem] {
        var problems: [Problem] = []
        if let problem = referenceProblem(reference, at: "--reference") { problems.append(problem) }
        if let title, title.count > 1000 { problems.append(Problem("--title", "must be at most 1000 characters")) }
        if partners.isEmpty { problems.append(Problem("--partner", "at least one partner organisation is required")) }
        if themes.isEmpty { problems.append(Problem("--theme", "at least one theme is required")) }
        if endsOn < startsOn { problems.append(Problem("--end", "\(endsOn) is before the start \(startsOn)")) }
        return problems
    }
}

func referenceProblem(_ reference: String, at location: String) -> Problem? {
    let trimmed = reference.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty || reference.count > 200 || trimmed != reference {
        return Problem(location, "a reference is 1 to 200 characters without leading or trailing spaces")
    }
    if reference.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
        return Problem(location, "a reference cannot hold control characters")
    }
    return nil
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
        try validateActor(actor)
        guard new.problems.isEmpty else { throw GrantsError.invalidInput(new.problems) }
        return try await service.write { connection in
            let round = try Rounds.resolve(connection, name: new.round, programme: new.programme)
            guard round.status == .open else { throw GrantsError.closed(entity: "round", key: round.name) }
            guard new.requested.currency == round.currency else {
                throw GrantsError.invalidInput([Problem("--amount", "the round is in \(round.currency), not \(new.requested.currency)")])
            }
            let applicant = try Organisations.resolve(connection, key: new.applicant, location: "--applicant")
            guard applicant.country == "SE" else {
                throw GrantsError.invalidInput([
                    Problem(
                        "--applicant", "the applicant is a Swedish municipality or region; \(applicant.name) is in \(applicant.country)")
                ])
            }
            let partners = try new.partners.map { try Organisations.resolve(connection, key: $0, location: "--partner") }
            let known = try Themes.find(connection, codes: new.themes)
            let unknown = new.themes.filter { known[$0] == nil }
            guard unknown.isEmpty else {
                throw GrantsError.invalidInput(unknown.map { Problem("--theme", "unknown theme \($0); add it with 'theme add'") })
            }
            if let existing = try Self.find(connection, reference: new.reference, programme: round.programme) {
                let same =
                    existing.round == round.name && existing.applicant.id == applicant.id
                    && existing.partners.map(\.id) == partners.map(\.id) && existing.themes == new.themes
                    && existing.requested == new.requested && existing.startsOn == new.startsOn
                    && existing.endsOn == new.endsOn && existing.phase == new.phase && existing.title == new.title
                guard same else {
                    throw GrantsError.alreadyExists(entity: "application", key: new.reference, differences: [])
                }
                return existing
            }
            let programmeID = try connection.query("SELECT programme_id FROM grants.allocation_round WHERE id = \(round.id)")[0]
                .decode(Int64.self, column: 0)
            let id = try connection.query(
                """
                INSERT INTO grants.application (programme_id, round_id, reference, title, applicant_id, phase, requested,
                    currency, starts_on, ends_on, submitted_by)
                VALUES (\(programmeID), \(round.id), \(new.reference), \(new.title), \(applicant.id), \(new.phase.rawValue),
                    \(new.requested.minorUnits), \(new.requested.currency), \(new.startsOn), \(new.endsOn), \(actor))
                RETURNING id
                """)[0].decode(Int64.self, column: 0)
            try Self.link(connection, applications: [id], partners: [partners.map(\.id)], themes: [new.themes])
            try AuditLog.record(
                connection, actor: actor, action: "application.submitted", entity: "application", key: new.reference,
                details: ["round": round.name, "requested": new.requested.plain])
            guard let created = try Self.find(connection, reference: new.reference, programme: round.programme) else {
                throw GrantsError.internalError("application vanished after insert")
            }
            return created
        }
    }

    /// Withdraws a submitted application.
    @discardableResult
    public func withdraw(_ reference: String, programme: String? = nil, actor: String) async throws -> Application {
        try validateActor(actor)
        return try await service.write { connection in
            let application = try Self.resolve(connection, reference: reference, programme: programme, lock: true)
            if application.status == .withdrawn { return application }
            try application.status.checkTransition(to: .withdrawn, entity: "application", key: reference)
            try connection.execute("UPDATE grants.application SET status = 'withdrawn' WHERE id = \(application.id)")
            try AuditLog.record(connection, actor: actor, action: "application.withdrawn", entity: "application", key: reference)
            return try Self.resolve(connection, reference: reference, programme: application.programme)
        }
    }

    public func list(round: String? = nil, programme: String? = nil, status: ApplicationStatus? = nil) async throws -> [Application] {
        try await service.read { connection in
            try connection.query(
                """
                \(unsafeRaw: Self.select)
                WHERE (\(round)::text IS NULL OR r.name = \(round))
                  AND (\(programme)::text IS NULL OR p.name = \(programme))
                  AND (\(status?.rawValue)::text IS NULL OR a.status = \(status?.rawValue))
                ORDER BY p.name, r.name, a.reference
                """
            ).map(Self.decode)
        }
    }

    public func get(_ reference: String, programme: String? = nil) async throws -> Application {
        try await service.read { try Self.resolve($0, reference: reference, programme: programme) }
    }

    // MARK: SQL

    /// The applicant and partner columns (`o`, `pa`) and theme codes (`th`) that applications and grants
    /// both show, read through ``partiesJoins``.
    static let partiesColumns = """
        o.id AS applicant_id, o.name AS applicant_name, o.country AS applicant_country,
        o.org_number AS applicant_org_number, o.municipality_code AS applicant_code, o.kind AS applicant_kind,
        pa.ids AS partner_ids, pa.names AS partner_names, pa.countries AS partner_countries,
        pa.numbers AS partner_numbers, pa.codes AS partner_codes, pa.kinds AS partner_kinds,
        coalesce(th.codes, '{}') AS themes
        """

    /// The joins behind ``partiesColumns``, for a query whose application is `a`.
    static let partiesJoins = """
        JOIN grants.organisation o ON o.id = a.applicant_id
        LEFT JOIN LATERAL (
            SELECT array_agg(po.id ORDER BY x.position) AS ids, array_agg(po.name ORDER BY x.position) AS names,
                   array_agg(po.country ORDER BY x.position) AS countries,
                   array_agg(po.org_number ORDER BY x.position) AS numbers,
                   array_agg(po.municipality_code ORDER BY x.position) AS codes,
                   array_agg(po.kind ORDER BY x.position) AS kinds
            FROM grants.application_partner x JOIN grants.organisation po ON po.id = x.organisation_id
            WHERE x.application_id = a.id
        ) pa ON true
        LEFT JOIN LATERAL (
            SELECT array_agg(t.theme_code ORDER BY t.position) AS codes
            FROM grants.application_theme t WHERE t.application_id = a.id
        ) th ON true
        """

    static let select = """
        SELECT a.id, a.reference, p.name AS programme, r.name AS round, a.title, a.phase, a.requested, a.currency,
               a.starts_on, a.ends_on, a.status, \(partiesColumns)
        FROM grants.application a
        JOIN grants.allocation_round r ON r.id = a.round_id
        JOIN grants.programme p ON p.id = a.programme_id
        \(partiesJoins)
        """

    static func decode(_ row: PGRow) throws -> Application {
        let currency = try row.decode(Currency.self, column: "currency")
        return Application(
            id: try row.decode(column: "id"), reference: try row.decode(column: "reference"),
            programme: try row.decode(column: "programme"), round: try row.decode(column: "round"),
            title: try row.decode(column: "title"), applicant: try applicant(row), partners: try partners(row),
            themes: try row.decode(column: "themes"), phase: try row.enumValue(Phase.self, column: "phase"),
            requested: Money(minorUnits: try row.decode(column: "requested"), currency: currency),
            startsOn: try row.decode(column: "starts_on"), endsOn: try row.decode(column: "ends_on"),
            status: try row.enumValue(ApplicationStatus.self, column: "status"))
    }

    static func applicant(_ row: PGRow) throws -> Organisation {
        let number: String? = try row.decode(column: "applicant_org_number")
        let kind = try row.decode(String.self, column: "applicant_kind")
        return Organisation(
            id: try row.decode(column: "applicant_id"), name: try row.decode(column: "applicant_name"),
            country: try row.decode(column: "applicant_country"), orgNumber: try number.map { try OrganisationNumber($0) },
            municipalityCode: try row.decode(column: "applicant_code"), kind: OrganisationKind(rawValue: kind) ?? .other)
    }

    static func partners(_ row: PGRow) throws -> [Organisation] {
        let ids: [Int64]? = try row.decode(column: "partner_ids")
        guard let ids else { return [] }
        let names: [String] = try row.decode(column: "partner_names")
        let countries: [String] = try row.decode(column: "partner_countries")
        let numbers: [String?] = try row.decode(column: "partner_numbers")
        let codes: [String?] = try row.decode(column: "partner_codes")
        let kinds: [String] = try row.decode(column: "partner_kinds")
        return try ids.indices.map { i in
            Organisation(
                id: ids[i], name: names[i], country: countries[i], orgNumber: try numbers[i].map { try OrganisationNumber($0) },
                municipalityCode: codes[i], kind: OrganisationKind(rawValue: kinds[i]) ?? .other)
        }
    }

    static func find(_ connection: PGConnection, reference: String, programme: String) throws -> Application? {
        try connection.query("\(unsafeRaw: select) WHERE a.reference = \(reference) AND p.name = \(programme)")
            .first.map(decode)
    }

    /// A REF argument; `programme` chooses where two programmes use the same reference.
    static func resolve(_ connection: PGConnection, reference: String, programme: String?, lock: Bool = false) throws -> Application {
        guard lock else {
            let rows = try connection.query(
                """
                \(unsafeRaw: select)
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
        return try decode(try connection.query("\(unsafeRaw: select) WHERE a.id = \(id)")[0])
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
            try connection.execute(
                """
                INSERT INTO grants.application_partner (application_id, organisation_id, position)
                SELECT * FROM unnest(\(partnerApps)::int8[], \(partnerOrgs)::int8[], \(partnerPositions)::int4[])
                """)
        }
        if !themeApps.isEmpty {
            try connection.execute(
                """
                INSERT INTO grants.application_theme (application_id, theme_code, position)
                SELECT * FROM unnest(\(themeApps)::int8[], \(themeCodes)::text[], \(themePositions)::int4[])
                """)
        }
    }
}
