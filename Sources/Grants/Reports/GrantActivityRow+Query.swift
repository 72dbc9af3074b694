import Foundation
import PGClient

extension GrantActivityRow {
    /// Grants of the filter's programme and round as they stood in the books it reads (business dates up to
    /// `asOf`, recorded by `knownAt`: ``ReportFilter/holds(_:recorded:)``): the award after the amendments by
    /// then, the payments, reversals, repayments and closing by then, when the grant last changed in those books,
    /// and the earlier grant it continues (its application's `continues`).
    static func query(_ filter: ReportFilter) -> PGQuery {
        let amended = filter.holds("grants.business_date(m.amended_on, m.amended_at)", recorded: "m.amended_at")
        return """
            SELECT g.reference, a.title, p.name, r.name, \(filter.closingHolds) AS closed,
                   g.original_amount + coalesce(am.total, 0) AS amount, g.original_amount, a.requested, g.currency, g.starts_on,
                   coalesce(am.ends_on, g.original_ends_on) AS ends_on, ap.decided_on, o.name, o.country, o.org_number, o.kind,
                   coalesce(pa.names, '{}'), coalesce(pa.countries, '{}'), coalesce(pa.kinds, '{}'),
                   coalesce(th.codes, '{}'), coalesce(tt.names_en, '{}'), coalesce(tt.names_sv, '{}'), coalesce(tt.sectors, '{}'),
                   coalesce(tx.kinds, '{}'), coalesce(tx.ids, '{}'), coalesce(tx.dates, '{}'), coalesce(tx.amounts, '{}'),
                   lu.at AS last_updated, cg.reference AS continues,
                   g.original_ends_on, CASE WHEN \(filter.closingHolds) THEN g.closed_on END AS closed_on,
                   coalesce(st.claimed, 0)::int8 AS claimed,
                   CASE WHEN \(filter.closingHolds) THEN coalesce(st.written_off, 0) ELSE 0 END::int8 AS written_off
            \(GrantRegistry.from)
            LEFT JOIN grants.grant cg ON cg.id = a.continues_grant_id
            LEFT JOIN grants.settlement st ON st.grant_id = g.id AND \(filter.holds("st.settled_on", recorded: "st.recorded_at"))
            LEFT JOIN LATERAL (
                SELECT array_agg(t.name_en ORDER BY at.position) AS names_en, array_agg(t.name_sv ORDER BY at.position) AS names_sv,
                       array_agg(t.dac_sector ORDER BY at.position) AS sectors
                FROM grants.application_theme at JOIN grants.theme t ON t.code = at.theme_code
                WHERE at.application_id = a.id
            ) tt ON true
            LEFT JOIN LATERAL (
                SELECT sum(m.amount_change)::int8 AS total,
                       (array_agg(m.new_ends_on ORDER BY m.amended_at DESC, m.id DESC) FILTER (WHERE m.new_ends_on IS NOT NULL))[1] AS ends_on
                FROM grants.grant_amendment m WHERE m.grant_id = g.id AND \(amended)
            ) am ON true
            LEFT JOIN LATERAL (
                SELECT array_agg(e.kind ORDER BY e.on_date, e.ord, e.id) AS kinds, array_agg(e.id ORDER BY e.on_date, e.ord, e.id) AS ids,
                       array_agg(e.on_date ORDER BY e.on_date, e.ord, e.id) AS dates,
                       array_agg(e.amount ORDER BY e.on_date, e.ord, e.id) AS amounts
                FROM (
                    SELECT 'amendment' AS kind, 1 AS ord, m.id, grants.business_date(m.amended_on, m.amended_at) AS on_date, m.amount_change AS amount
                    FROM grants.grant_amendment m WHERE m.grant_id = g.id AND m.amount_change <> 0 AND \(amended)
                    UNION ALL
                    SELECT CASE d.status WHEN 'reversal' THEN 'reversal' ELSE 'payment' END, 2, d.id, d.paid_on, d.amount
                    FROM grants.disbursement d
                    WHERE d.grant_id = g.id AND d.status IN ('paid', 'reversal')
                      AND \(filter.holds("d.paid_on", recorded: "grants.recorded_paid_at(d.status, d.paid_at, d.scheduled_at)"))
                    UNION ALL
                    SELECT 'repayment', 3, rp.id, rp.received_on, -rp.amount
                    FROM grants.repayment rp WHERE rp.grant_id = g.id AND \(filter.holds("rp.received_on", recorded: "rp.recorded_at"))
                    UNION ALL
                    SELECT 'closing', 4, g.id, g.closed_on, -g.reclaimed
                    WHERE \(filter.closingHolds) AND g.reclaimed <> 0
                ) e
            ) tx ON true
            LEFT JOIN LATERAL (
                SELECT max(x) AS at FROM (
                    SELECT ap.recorded_at AS x, ap.decided_on AS on_date
                    UNION ALL SELECT g.created_at, ap.decided_on
                    UNION ALL SELECT g.closed_at, g.closed_on
                    UNION ALL SELECT m.amended_at, grants.business_date(m.amended_on, m.amended_at)
                              FROM grants.grant_amendment m WHERE m.grant_id = g.id
                    UNION ALL SELECT e.x, e.on_date FROM grants.disbursement d, LATERAL (VALUES
                                  (d.scheduled_at, grants.business_date(NULL, d.scheduled_at)),
                                  (d.attested_at, grants.business_date(NULL, d.attested_at)),
                                  (grants.recorded_paid_at(d.status, d.paid_at, d.scheduled_at), d.paid_on),
                                  (d.cancelled_at, grants.business_date(d.cancelled_on, d.cancelled_at))) e(x, on_date)
                              WHERE d.grant_id = g.id
                    UNION ALL SELECT rp.recorded_at, rp.received_on FROM grants.repayment rp WHERE rp.grant_id = g.id
                ) u WHERE x IS NOT NULL AND \(filter.holds("u.on_date", recorded: "u.x"))
            ) lu ON true
            WHERE \(filter.grantCondition) AND \(filter.grantHolds) AND \(filter.hadEventInPeriod)
            ORDER BY p.name, r.name, g.reference
            """
    }

    static func decode(_ row: PGRow) throws -> GrantActivityRow {
        let currency = try row.decode(Currency.self, column: 8)
        func money(_ column: Int) throws -> Money { Money(minorUnits: try row.decode(column: column), currency: currency) }
        let kinds: [String] = try row.decode(column: 23)
        let ids: [Int64] = try row.decode(column: 24)
        let dates: [CalendarDate] = try row.decode(column: 25)
        let amounts: [Int64] = try row.decode(column: 26)
        let continued: String? = try row.decode(column: 28)
        guard ids.count == kinds.count, dates.count == kinds.count, amounts.count == kinds.count else {
            throw PGError(kind: .decoding, message: "a grant's transactions do not line up")
        }
        var transactions: [GrantTransaction] = []
        for i in kinds.indices {
            guard let kind = GrantTransaction.Kind(rawValue: kinds[i]) else {
                throw PGError(kind: .decoding, message: "unknown transaction kind")
            }
            transactions.append(GrantTransaction(kind: kind, id: ids[i], date: dates[i], amount: amounts[i]))
        }
        var grant = GrantActivityRow(
            reference: try row.decode(column: 0), title: try row.decode(column: 1), programme: try row.decode(column: 2),
            round: try row.decode(column: 3), closed: try row.decode(column: 4), amount: try money(5), originalAmount: try money(6),
            requested: try money(7), startsOn: try row.decode(column: 9), endsOn: try row.decode(column: 10),
            decidedOn: try row.decode(column: 11), applicantName: try row.decode(column: 12), applicantCountry: try row.decode(column: 13),
            applicantOrgNumber: try row.decode(column: 14), applicantKind: try row.decode(column: 15),
            partnerNames: try row.decode(column: 16), partnerCountries: try row.decode(column: 17),
            partnerKinds: try row.decode(column: 18),
            themeCodes: try row.decode(column: 19), themeNamesEn: try row.decode(column: 20), themeNamesSv: try row.decode(column: 21),
            dacSectors: try row.decode(column: 22), transactions: transactions, lastUpdated: try row.decode(column: 27),
            continues: continued.map { [$0] } ?? [])
        grant.originalEndsOn = try row.decode(column: 29)
        grant.closedOn = try row.decode(column: 30)
        grant.claimed = try row.decode(column: 31)
        grant.writtenOff = try row.decode(column: 32)
        return grant
    }
}
