import PGClient

// The partner and theme links a round's record writes in bulk (Rounds+Record.swift). An application submitted
// alone gets its links from `grants_api.submit_application` (Schema/api/applications.sql), the one path for
// those. TRANSITION: these go when recording a round is a function of grants_api too.
extension Applications {
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
