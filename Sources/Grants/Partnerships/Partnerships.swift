import PGClient

/// The chain of grants that continue one another across rounds and phases (inception → project → next
/// phase), in order, with totals.
///
/// ```swift
/// let partnership = try await service.partnerships.show("KP-2022-1-01")
/// for link in partnership.grants { print(link.round, link.phase, link.reference, link.awarded.swedish) }
/// print("awarded in all", partnership.awarded?.swedish ?? "(several currencies)")
/// ```
public struct Partnership: Sendable, Encodable, Equatable {
    /// One grant of the chain.
    ///
    /// ```swift
    /// let first = try await service.partnerships.show("KP-2022-1-01").grants.first
    /// print(first?.reference ?? "", first?.continues ?? "the first")
    /// ```
    public struct Link: Sendable, Encodable, Equatable {
        public let reference: String
        public let programme: String
        public let round: String
        public let phase: Phase
        public let title: String?
        public let applicant: String
        public let decidedOn: CalendarDate
        public let awarded: Money
        public let paid: Money
        public let status: GrantStatus
        /// The grant this one continues; nil for the first.
        public let continues: String?
    }

    public let grants: [Link]
    /// Σ awarded over the chain (after amendments); nil when its grants are in several currencies.
    public let awarded: Money?
    /// Σ paid over the chain, net of reversals; nil when its grants are in several currencies.
    public let paid: Money?
}

/// Partnerships over time: the grants linked by `continues`.
///
/// ```swift
/// let chain = try await service.partnerships.show("KP-2021-2-04")
/// print(chain.grants.map(\.reference).joined(separator: " → "))
/// ```
public struct Partnerships: Sendable {
    let service: GrantsService

    /// Chains are short (one grant a round); a longer walk means the data is not what the rules allow.
    static let maximumLength = 1000

    /// Every grant of the partnership `reference` belongs to, first to last (by decision date, then by the
    /// order they continue one another).
    public func show(_ reference: String, programme: String? = nil) async throws(GrantsError) -> Partnership {
        try await service.read { connection in
            let start = try GrantRegistry.resolve(connection, reference: reference, programme: programme)
            let rows = try connection.query(
                """
                WITH RECURSIVE up(id, depth) AS (
                    SELECT \(start.id)::int8, 0
                    UNION ALL
                    SELECT a.continues_grant_id, up.depth + 1 FROM up
                    JOIN grants.grant g ON g.id = up.id JOIN grants.application a ON a.id = g.application_id
                    WHERE a.continues_grant_id IS NOT NULL AND up.depth < \(Self.maximumLength)
                ), root AS (SELECT id FROM up ORDER BY depth DESC LIMIT 1),
                down(id, depth) AS (
                    SELECT id, 0 FROM root
                    UNION ALL
                    SELECT g.id, down.depth + 1 FROM down
                    JOIN grants.application a ON a.continues_grant_id = down.id JOIN grants.grant g ON g.application_id = a.id
                    WHERE down.depth < \(Self.maximumLength)
                )
                SELECT g.reference, p.name AS programme, r.name AS round, a.phase, a.title, o.name AS applicant, ap.decided_on,
                       g.amount, g.paid_total, g.currency, g.status, c.reference AS continues
                FROM down JOIN grants.grant g ON g.id = down.id
                JOIN grants.application a ON a.id = g.application_id
                JOIN grants.approval ap ON ap.application_id = a.id
                JOIN grants.organisation o ON o.id = a.applicant_id
                JOIN grants.allocation_round r ON r.id = g.round_id
                JOIN grants.programme p ON p.id = g.programme_id
                LEFT JOIN grants.grant c ON c.id = a.continues_grant_id
                ORDER BY down.depth, ap.decided_on, g.id
                """)
            let links = try rows.map { row in
                Partnership.Link(
                    reference: try row.decode(column: "reference"), programme: try row.decode(column: "programme"),
                    round: try row.decode(column: "round"), phase: try row.enumValue(Phase.self, column: "phase"),
                    title: try row.decode(column: "title"), applicant: try row.decode(column: "applicant"),
                    decidedOn: try row.decode(column: "decided_on"), awarded: try row.money("amount"), paid: try row.money("paid_total"),
                    status: try row.enumValue(GrantStatus.self, column: "status"), continues: try row.decode(column: "continues"))
            }
            let currencies = Set(links.map(\.awarded.currency))
            guard currencies.count == 1, let currency = currencies.first else {
                return Partnership(grants: links, awarded: nil, paid: nil)
            }
            return Partnership(
                grants: links, awarded: try Money.sum(links.map(\.awarded), currency: currency),
                paid: try Money.sum(links.map(\.paid), currency: currency))
        }
    }
}
