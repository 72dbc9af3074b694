import PGClient

/// A coded partnership theme, e.g. `citizen-dialogue` (*Medborgardialog*), with an optional DAC sector.
///
/// ```swift
/// try await service.themes.add(
///     Theme(code: "equal-health-care", nameSv: "Jämlik tillgång till hälso- och sjukvård",
///           nameEn: "Equal access to health care", dacSector: "12110"),
///     actor: "anna")
/// ```
public struct Theme: Sendable, Codable, Equatable {
    public let code: String
    public let nameSv: String
    public let nameEn: String
    public let dacSector: String?

    public init(code: String, nameSv: String, nameEn: String, dacSector: String? = nil) {
        self.code = code
        self.nameSv = nameSv
        self.nameEn = nameEn
        self.dacSector = dacSector
    }

    /// Every problem with this theme's fields, located under `prefix`.
    public func problems(at prefix: String) -> [Problem] {
        var problems: [Problem] = []
        if code.wholeMatch(of: /[a-z0-9][a-z0-9._-]{0,63}/) == nil {
            problems.append(Problem(prefix + "code", "must be 1-64 lower-case letters, digits, '.', '_' or '-'"))
        }
        for (field, value) in [("name_sv", nameSv), ("name_en", nameEn)] where value.isEmpty || value.count > 1000 {
            problems.append(Problem(prefix + field, "must be 1 to 1000 characters"))
        }
        if let dacSector, dacSector.wholeMatch(of: /[0-9]{5}/) == nil {
            problems.append(Problem(prefix + "dac_sector", "must be a five-digit DAC sector code"))
        }
        return problems
    }

    func differences(from recorded: Theme, at prefix: String) -> [Difference] {
        var result: [Difference] = []
        if nameSv != recorded.nameSv { result.append(Difference(prefix + "name_sv", recorded: recorded.nameSv, given: nameSv)) }
        if nameEn != recorded.nameEn { result.append(Difference(prefix + "name_en", recorded: recorded.nameEn, given: nameEn)) }
        if dacSector != recorded.dacSector {
            result.append(Difference(prefix + "dac_sector", recorded: recorded.dacSector ?? "none", given: dacSector ?? "none"))
        }
        return result
    }
}

/// Partnership themes.
///
/// ```swift
/// try await service.themes.add(Theme(code: "citizen-dialogue", nameSv: "Medborgardialog", nameEn: "Citizen dialogue", dacSector: "15150"), actor: "anna")
/// ```
public struct Themes: Sendable {
    let service: GrantsService

    /// Records a theme. Adding the same theme again changes nothing; other names for a recorded code are refused.
    @discardableResult
    public func add(_ theme: Theme, actor: String) async throws -> Theme {
        try validateActor(actor)
        let problems = theme.problems(at: "")
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.write { connection in
            if let recorded = try Self.find(connection, code: theme.code) {
                let differences = theme.differences(from: recorded, at: "")
                guard differences.isEmpty else {
                    throw GrantsError.alreadyExists(entity: "theme", key: theme.code, differences: differences)
                }
                return recorded
            }
            try Self.insert(connection, [theme])
            try AuditLog.record(connection, actor: actor, action: "theme.added", entity: "theme", key: theme.code)
            return theme
        }
    }

    public func list() async throws -> [Theme] {
        try await service.read { connection in
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

    static func insert(_ connection: PGConnection, _ themes: [Theme]) throws {
        guard !themes.isEmpty else { return }
        try connection.execute(
            """
            INSERT INTO grants.theme (code, name_sv, name_en, dac_sector)
            SELECT * FROM unnest(\(themes.map(\.code))::text[], \(themes.map(\.nameSv))::text[],
                                 \(themes.map(\.nameEn))::text[], \(themes.map(\.dacSector))::text[])
            """)
    }

    static func decode(_ row: PGRow) throws -> Theme {
        Theme(
            code: try row.decode(column: "code"), nameSv: try row.decode(column: "name_sv"),
            nameEn: try row.decode(column: "name_en"), dacSector: try row.decode(column: "dac_sector"))
    }
}
