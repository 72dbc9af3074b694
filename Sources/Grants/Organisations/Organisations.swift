import PGClient

/// Organisations: Swedish grantees and their partners abroad.
///
/// ```swift
/// let vaxjo = try await service.organisations.add(
///     NewOrganisation(name: "Växjö kommun", country: "SE", orgNumber: try OrganisationNumber("212000-0662"), kind: .municipality),
///     actor: "anna")
/// ```
public struct Organisations: Sendable {
    let service: GrantsService

    /// Records an organisation, or returns the one already recorded under its organisationsnummer (or name
    /// and country). A recorded organisation with another name under the same number is a conflict.
    @discardableResult
    public func add(_ new: NewOrganisation, actor: String) async throws -> Organisation {
        let actor = try ActorName(actor).value
        let problems = new.problems(at: "")
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.addOnce(
            "grants.organisations.add",
            entity: "organisation", key: new.orgNumber?.value ?? new.name, find: { try Self.match($0, new) },
            differences: { existing in
                guard existing.name.lowercased() != new.name.lowercased() || existing.country != new.country else { return [] }
                return [Difference("name", recorded: "\(existing.name) (\(existing.country))", given: "\(new.name) (\(new.country))")]
            }
        ) { connection in
            let created = try Self.insert(connection, new)
            try AuditLog.record(
                connection, actor: actor, action: "organisation.added", entity: "organisation", key: String(created.id),
                details: ["name": new.name, "country": new.country])
            return created
        }
    }

    /// Organisations, optionally in one country and/or whose name contains `search` (case-insensitive).
    public func list(country: String? = nil, search: String? = nil) async throws -> [Organisation] {
        try await service.listing("grants.organisations.list") { connection in
            try connection.query(
                """
                SELECT \(Self.columns) FROM grants.organisation
                WHERE (\(country)::text IS NULL OR country = \(country))
                  AND (\(search)::text IS NULL OR strpos(lower(name), lower(\(search))) > 0)
                ORDER BY country, name, id
                """
            ).map(Self.decode)
        }
    }

    /// One organisation by organisationsnummer or exact name (case-insensitive).
    public func find(_ key: String) async throws -> Organisation {
        try await service.read("grants.organisations.find") { try Self.resolve($0, key: key, location: "ORG") }
    }

    static let columns: PGQuery = "id, name, country, org_number, municipality_code, kind"

    static func decode(_ row: PGRow) throws -> Organisation {
        let number: String? = try row.decode(column: "org_number")
        return Organisation(
            id: try row.decode(column: "id"), name: try row.decode(column: "name"),
            country: try row.decode(column: "country"), orgNumber: try number.map { try OrganisationNumber($0) },
            municipalityCode: try row.decode(column: "municipality_code"),
            kind: try row.enumValue(OrganisationKind.self, column: "kind"))
    }

    /// By organisationsnummer if given, else by name and country without regard to case.
    static func match(_ connection: PGConnection, _ new: NewOrganisation) throws -> Organisation? {
        if let number = new.orgNumber {
            if let found = try connection.query(
                "SELECT \(columns) FROM grants.organisation WHERE org_number = \(number.value)"
            ).first {
                return try decode(found)
            }
        }
        return try connection.query(
            "SELECT \(columns) FROM grants.organisation WHERE lower(name) = lower(\(new.name)) AND country = \(new.country)"
        ).first.map(decode)
    }

    static func insert(_ connection: PGConnection, _ new: NewOrganisation) throws -> Organisation {
        let row = try connection.query(
            """
            INSERT INTO grants.organisation (name, country, org_number, municipality_code, kind)
            VALUES (\(new.name), \(new.country), \(new.orgNumber?.value), \(new.municipalityCode), \(new.kind.rawValue))
            RETURNING \(columns)
            """)
        guard let first = row.first else { throw GrantsError.internalError(sqlState: nil, message: "INSERT returned no row") }
        return try decode(first)
    }

    /// An ORG argument: an organisationsnummer, or an exact name (case-insensitive) that names one organisation.
    static func resolve(_ connection: PGConnection, key: String, location: String) throws -> Organisation {
        if let number = try? OrganisationNumber(key) {
            if let row = try connection.query(
                "SELECT \(columns) FROM grants.organisation WHERE org_number = \(number.value)"
            ).first {
                return try decode(row)
            }
            throw GrantsError.notFound(entity: "organisation", key: key)
        }
        let rows = try connection.query(
            "SELECT \(columns) FROM grants.organisation WHERE lower(name) = lower(\(key)) ORDER BY id")
        switch rows.count {
        case 0: throw GrantsError.notFound(entity: "organisation", key: key)
        case 1: return try decode(rows[0])
        default:
            throw GrantsError.invalidInput([Problem(location, "\"\(key)\" names \(rows.count) organisations; use the organisationsnummer")])
        }
    }
}
