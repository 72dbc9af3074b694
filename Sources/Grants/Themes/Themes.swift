import PGClient

/// Partnership themes.
///
/// ```swift
/// try await service.themes.add(Theme(code: "citizen-dialogue", nameSv: "Medborgardialog", nameEn: "Citizen dialogue", dacSector: "15150"), actor: "anna")
/// ```
public struct Themes: Sendable {
    let service: GrantsService

    /// Records a theme. Adding the same theme again changes nothing; other names for a recorded code are refused.
    @discardableResult
    public func add(_ theme: Theme, actor: String) async throws(GrantsError) -> Theme {
        let actor = try ActorName(actor).value
        let problems = theme.problems(at: "")
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.writeOneStatement("grants.themes.add") { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT code, name_sv, name_en, dac_sector FROM grants_api.add_theme(\(theme.code)::text, \(theme.nameSv)::text,
                        \(theme.nameEn)::text, \(theme.dacSector)::text, \(actor)::text)
                    """
                ).first
            else { throw GrantsError.internalError(sqlState: nil, message: "grants_api.add_theme returned no row") }
            return try Self.decode(row)
        }
    }

    public func list() async throws(GrantsError) -> [Theme] {
        try await service.listing("grants.themes.list") { connection in
            try connection.query("SELECT code, name_sv, name_en, dac_sector FROM grants.theme ORDER BY code").map(Self.decode)
        }
    }

    static func find(_ connection: PGConnection, code: String) throws -> Theme? {
        try connection.query("SELECT code, name_sv, name_en, dac_sector FROM grants.theme WHERE code = \(code)")
            .first.map(decode)
    }

    static func find(_ connection: PGConnection, codes: [String]) throws -> [String: Theme] {
        var found: [String: Theme] = [:]
        for row in try connection.query(
            "SELECT code, name_sv, name_en, dac_sector FROM grants.theme WHERE code = ANY(\(codes)::text[])")
        {
            let theme = try decode(row)
            found[theme.code] = theme
        }
        return found
    }

    static func decode(_ row: PGRow) throws -> Theme {
        Theme(
            code: try row.decode(column: "code"), nameSv: try row.decode(column: "name_sv"),
            nameEn: try row.decode(column: "name_en"), dacSector: try row.decode(column: "dac_sector"))
    }
}
