import Foundation
import PGClient

/// What the round's HTML page shows beside its summary: every grant of the round and the money per quarter.
/// Read at the same cut as the summary (`asOf`, `knownAt`).
///
/// ```swift
/// let page = try await service.reports.roundPage("2021:2")
/// try output.write(page.html(language: .swedish))
/// ```
public struct RoundPage: Sendable, Equatable {
    /// One grant of the round: the award after amendments and what was disbursed (paid net of reversals and
    /// repayments).
    ///
    /// ```swift
    /// let unpaid = page.grants.filter { $0.disbursed.minorUnits == 0 }.map(\.reference)
    /// ```
    public struct GrantLine: Sendable, Equatable {
        public let reference: String
        public let title: String?
        public let recipient: String
        public let partners: [String]
        public let partnerCountries: [String]
        public let themes: [String]
        public let awarded: Money
        public let disbursed: Money
    }

    /// A calendar quarter (`2022 Q1`) in which the round's awards were decided or amended, or money was
    /// disbursed; quarters between them are there too, with zeros.
    public struct Quarter: Sendable, Equatable {
        public let year: Int
        public let quarter: Int
        public let awarded: Money
        public let disbursed: Money
        public var label: String { "\(year) Q\(quarter)" }
    }

    public let report: RoundReport
    public let grants: [GrantLine]
    public let quarters: [Quarter]
}

extension Reports {
    /// The round's summary with its grants and its money per quarter, for ``RoundPage/html(language:)``.
    /// The quarters are at most forty (ten years from the round's first event): a chart stays readable.
    public func roundPage(_ name: String, programme: String? = nil, asOf: CalendarDate? = nil, knownAt: Date? = nil)
        async throws(GrantsError)
        -> RoundPage
    {
        let report = try await round(name, programme: programme, asOf: asOf, knownAt: knownAt)
        return try await service.listing("grants.reports.round_page") { connection in
            let round = try Rounds.resolve(connection, name: name, programme: programme)
            let books = ReportFilter(asOf: asOf, knownAt: knownAt)
            let amended = books.holds("grants.business_date(m.amended_on, m.amended_at)", recorded: "m.amended_at")
            let paid = books.holds("d.paid_on", recorded: "grants.recorded_paid_at(d.status, d.paid_at, d.scheduled_at)")
            let repaid = books.holds("rp.received_on", recorded: "rp.recorded_at")
            func money(_ value: Int64) -> Money { Money(minorUnits: value, currency: round.currency) }
            let grants = try connection.query(
                """
                SELECT g.reference, a.title, o.name, coalesce(pa.names, '{}'), coalesce(pa.countries, '{}'), coalesce(th.codes, '{}'),
                       (g.original_amount + coalesce((SELECT sum(m.amount_change) FROM grants.grant_amendment m
                                                       WHERE m.grant_id = g.id AND \(amended)), 0))::int8,
                       (coalesce((SELECT sum(d.amount) FROM grants.disbursement d
                                   WHERE d.grant_id = g.id AND d.status IN ('paid', 'reversal') AND \(paid)), 0)
                        - coalesce((SELECT sum(rp.amount) FROM grants.repayment rp WHERE rp.grant_id = g.id AND \(repaid)), 0))::int8
                FROM grants.grant g JOIN grants.application a ON a.id = g.application_id
                JOIN grants.approval ap ON ap.application_id = a.id
                \(Parties.joins)
                WHERE g.round_id = \(round.id) AND \(books.grantHolds)
                ORDER BY g.reference
                """
            ).map { row in
                RoundPage.GrantLine(
                    reference: try row.decode(column: 0), title: try row.decode(column: 1), recipient: try row.decode(column: 2),
                    partners: try row.decode(column: 3), partnerCountries: try row.decode(column: 4), themes: try row.decode(column: 5),
                    awarded: money(try row.decode(column: 6)), disbursed: money(try row.decode(column: 7)))
            }
            let events = try connection.query(
                """
                SELECT extract(year FROM e.on_date)::int8, extract(quarter FROM e.on_date)::int8,
                       sum(e.awarded)::int8, sum(e.disbursed)::int8
                FROM (
                    SELECT ap.decided_on AS on_date, g.original_amount AS awarded, 0::int8 AS disbursed
                    FROM grants.grant g JOIN grants.approval ap ON ap.application_id = g.application_id
                    WHERE g.round_id = \(round.id) AND \(books.grantHolds)
                    UNION ALL
                    SELECT grants.business_date(m.amended_on, m.amended_at), m.amount_change, 0
                    FROM grants.grant_amendment m JOIN grants.grant g ON g.id = m.grant_id
                    JOIN grants.approval ap ON ap.application_id = g.application_id
                    WHERE g.round_id = \(round.id) AND \(books.grantHolds) AND \(amended)
                    UNION ALL
                    SELECT d.paid_on, 0, d.amount
                    FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id
                    JOIN grants.approval ap ON ap.application_id = g.application_id
                    WHERE g.round_id = \(round.id) AND \(books.grantHolds) AND d.status IN ('paid', 'reversal') AND \(paid)
                    UNION ALL
                    SELECT rp.received_on, 0, -rp.amount
                    FROM grants.repayment rp JOIN grants.grant g ON g.id = rp.grant_id
                    JOIN grants.approval ap ON ap.application_id = g.application_id
                    WHERE g.round_id = \(round.id) AND \(books.grantHolds) AND \(repaid)
                ) e GROUP BY 1, 2 ORDER BY 1, 2
                """
            ).map { row in
                (
                    year: try row.decode(Int64.self, column: 0), quarter: try row.decode(Int64.self, column: 1),
                    awarded: try row.decode(Int64.self, column: 2), disbursed: try row.decode(Int64.self, column: 3)
                )
            }
            var quarters: [RoundPage.Quarter] = []
            if let first = events.first, let last = events.last {
                var index = first.year * 4 + first.quarter - 1
                let end = min(last.year * 4 + last.quarter - 1, index + Int64(SVGChart.maxCategories) - 1)
                while index <= end {
                    let year = index / 4
                    let quarter = index % 4 + 1
                    let event = events.first { $0.year == year && $0.quarter == quarter }
                    quarters.append(
                        RoundPage.Quarter(
                            year: Int(year), quarter: Int(quarter), awarded: money(event?.awarded ?? 0),
                            disbursed: money(event?.disbursed ?? 0)))
                    index += 1
                }
            }
            return RoundPage(report: report, grants: grants, quarters: quarters)
        }
    }
}
