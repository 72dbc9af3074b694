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

    /// Records an organisation, or returns the one already recorded under its organisationsnummer (or its
    /// normalised name and country: `OrganisationName`, so `Kisumu  County ` is Kisumu County and a look-alike
    /// is refused). A recorded organisation with another name under the same number is a conflict.
    @discardableResult
    public func add(_ new: NewOrganisation, actor: String) async throws(GrantsError) -> Organisation {
        let actor = try ActorName(actor).value
        let problems = new.problems(at: "")
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.writeOneStatement("grants.organisations.add") { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT \(Self.columns) FROM grants_api.add_organisation(\(new.normalisedName)::text, \(new.country)::text,
                        \(new.orgNumber?.value)::text, \(new.municipalityCode)::text, \(new.kind.rawValue)::text, \(actor)::text)
                    """
                ).first
            else { throw GrantsError.internalError(sqlState: nil, message: "grants_api.add_organisation returned no row") }
            return try Self.decode(row)
        }
    }

    /// Organisations, optionally in one country and/or whose name contains `search` (case-insensitive).
    public func list(country: String? = nil, search: String? = nil) async throws(GrantsError) -> [Organisation] {
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
    public func find(_ key: String) async throws(GrantsError) -> Organisation {
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

    /// An ORG argument: an organisationsnummer, or a name (compared normalised and case-folded, as
    /// `grants.resolve_organisation` does) that names one organisation.
    static func resolve(_ connection: PGConnection, key: String, location: String) throws -> Organisation {
        if let number = try? OrganisationNumber(key) {
            if let row = try connection.query(
                "SELECT \(columns) FROM grants.organisation WHERE org_number = \(number.value)"
            ).first {
                return try decode(row)
            }
            throw GrantsError.notFound(entity: "organisation", key: key)
        }
        guard let name = try? OrganisationName(key) else { throw GrantsError.notFound(entity: "organisation", key: key) }
        let rows = try connection.query(
            "SELECT \(columns) FROM grants.organisation WHERE lower(name) = \(name.key) ORDER BY id")
        switch rows.count {
        case 0: throw GrantsError.notFound(entity: "organisation", key: key)
        case 1: return try decode(rows[0])
        default:
            throw GrantsError.invalidInput([Problem(location, "\"\(key)\" names \(rows.count) organisations; use the organisationsnummer")])
        }
    }
}
