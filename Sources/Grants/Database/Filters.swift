import PGClient

/// A listing's or report's filter by programme or round. A name that matches nothing recorded is a typo, not
/// an empty answer: it is refused (input, located at `programme` or `round`) before anything is written out.
enum Filters {
    static func check(_ connection: PGConnection, programme: String?, round: String?) throws {
        if let programme, try connection.query("SELECT 1 FROM grants.programme WHERE name = \(programme)").isEmpty {
            throw GrantsError.invalidInput([Problem("programme", "no programme \(programme) is recorded")])
        }
        guard let round else { return }
        let found = try connection.query(
            """
            SELECT 1 FROM grants.allocation_round r JOIN grants.programme p ON p.id = r.programme_id
            WHERE r.name = \(round) AND (\(programme)::text IS NULL OR p.name = \(programme))
            LIMIT 1
            """)
        if found.isEmpty {
            throw GrantsError.invalidInput([
                Problem("round", "no round \(round)\(programme.map { " in \($0)" } ?? "") is recorded")
            ])
        }
    }
}
