import Foundation
import PGClient

extension GrantActivityRow {
    /// Grants of the filter's programme and round as they stood at its cut: the award after the amendments
    /// recorded by then, the payments, reversals, repayments and closing recorded by then, when the grant last
    /// changed, and the earlier grant it continues (its application's `continues`).
    static func query(_ filter: ReportFilter) -> PGQuery {
        let cut = filter.cut
        return """
            SELECT g.reference, a.title, p.name, r.name, (g.status = 'closed' AND g.closed_at < \(cut)) AS closed,
                   g.original_amount + coalesce(am.total, 0) AS amount, g.original_amount, a.requested, g.currency, g.starts_on,
                   coalesce(am.ends_on, g.original_ends_on) AS ends_on, ap.decided_on, o.name, o.country, o.org_number, o.kind,
                   coalesce(pa.names, '{}'), coalesce(pa.countries, '{}'), coalesce(pa.kinds, '{}'),
                   coalesce(th.codes, '{}'), coalesce(tt.names_en, '{}'), coalesce(tt.names_sv, '{}'), coalesce(tt.sectors, '{}'),
                   coalesce(tx.kinds, '{}'), coalesce(tx.ids, '{}'), coalesce(tx.dates, '{}'), coalesce(tx.amounts, '{}'),
                   lu.at AS last_updated, cg.reference AS continues,
                   g.original_ends_on, CASE WHEN g.status = 'closed' AND g.closed_at < \(cut) THEN g.closed_on END AS closed_on,
                   coalesce(st.claimed, 0)::int8 AS claimed,
                   CASE WHEN g.status = 'closed' AND g.closed_at < \(cut) THEN coalesce(st.written_off, 0) ELSE 0 END::int8 AS written_off
            \(GrantRegistry.from)
            LEFT JOIN grants.grant cg ON cg.id = a.continues_grant_id
            LEFT JOIN grants.settlement st ON st.grant_id = g.id AND st.recorded_at < \(cut)
            LEFT JOIN LATERAL (
                SELECT array_agg(t.name_en ORDER BY at.position) AS names_en, array_agg(t.name_sv ORDER BY at.position) AS names_sv,
                       array_agg(t.dac_sector ORDER BY at.position) AS sectors
                FROM grants.application_theme at JOIN grants.theme t ON t.code = at.theme_code
                WHERE at.application_id = a.id
            ) tt ON true
            LEFT JOIN LATERAL (
                SELECT sum(m.amount_change)::int8 AS total,
                       (array_agg(m.new_ends_on ORDER BY m.amended_at DESC, m.id DESC) FILTER (WHERE m.new_ends_on IS NOT NULL))[1] AS ends_on
                FROM grants.grant_amendment m WHERE m.grant_id = g.id AND m.amended_at < \(cut)
            ) am ON true
            LEFT JOIN LATERAL (
                SELECT array_agg(e.kind ORDER BY e.on_date, e.ord, e.id) AS kinds, array_agg(e.id ORDER BY e.on_date, e.ord, e.id) AS ids,
                       array_agg(e.on_date ORDER BY e.on_date, e.ord, e.id) AS dates,
                       array_agg(e.amount ORDER BY e.on_date, e.ord, e.id) AS amounts
                FROM (
                    SELECT 'amendment' AS kind, 1 AS ord, m.id, (m.amended_at AT TIME ZONE 'UTC')::date AS on_date, m.amount_change AS amount
                    FROM grants.grant_amendment m WHERE m.grant_id = g.id AND m.amount_change <> 0 AND m.amended_at < \(cut)
                    UNION ALL
                    SELECT CASE d.status WHEN 'reversal' THEN 'reversal' ELSE 'payment' END, 2, d.id, d.paid_on, d.amount
                    FROM grants.disbursement d
                    WHERE d.grant_id = g.id AND d.status IN ('paid', 'reversal')
                      AND grants.recorded_paid_at(d.status, d.paid_at, d.scheduled_at) < \(cut)
                    UNION ALL
                    SELECT 'repayment', 3, rp.id, rp.received_on, -rp.amount
                    FROM grants.repayment rp WHERE rp.grant_id = g.id AND rp.recorded_at < \(cut)
                    UNION ALL
                    SELECT 'closing', 4, g.id, g.closed_on, -g.reclaimed
                    WHERE g.status = 'closed' AND g.closed_at < \(cut) AND g.reclaimed <> 0
                ) e
            ) tx ON true
            LEFT JOIN LATERAL (
                SELECT max(x) AS at FROM (
                    SELECT ap.recorded_at AS x
                    UNION ALL SELECT g.created_at
                    UNION ALL SELECT g.closed_at
                    UNION ALL SELECT m.amended_at FROM grants.grant_amendment m WHERE m.grant_id = g.id
                    UNION ALL SELECT unnest(ARRAY[d.scheduled_at, d.attested_at, d.paid_at, d.cancelled_at])
                              FROM grants.disbursement d WHERE d.grant_id = g.id
                    UNION ALL SELECT rp.recorded_at FROM grants.repayment rp WHERE rp.grant_id = g.id
                ) u WHERE x < \(cut)
            ) lu ON true
            WHERE \(filter.grantCondition) AND g.created_at < \(cut)
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

extension LedgerEntry {
    /// The grants of the filter, the scope of the ledger queries.
    static func scope(_ filter: ReportFilter) -> PGQuery {
        """
        scope AS (
            SELECT g.id, g.reference, coalesce(a.title, g.reference) AS title, o.name AS recipient, g.currency, g.original_amount,
                   ap.decided_on, g.created_at, g.status, g.closed_at, g.closed_on, g.reclaimed
            FROM grants.grant g
            JOIN grants.application a ON a.id = g.application_id
            JOIN grants.approval ap ON ap.application_id = a.id
            JOIN grants.allocation_round r ON r.id = g.round_id
            JOIN grants.programme p ON p.id = g.programme_id
            JOIN grants.organisation o ON o.id = a.applicant_id
            WHERE \(filter.grantCondition)
        )
        """
    }

    /// What SIE books, recorded before the filter's cut: decisions, amendments and closings when grants are
    /// accrued; payments, reversals and repayments always. Dated by the booking's own date (a repayment by the
    /// day the money came in, counted from when it was recorded, as payments are).
    static func entries(_ filter: ReportFilter, accrual: Bool) -> PGQuery {
        let cut = filter.cut
        return """
            WITH \(scope(filter)), entries AS (
                SELECT 'award' AS kind, 0 AS ord, s.id AS key, s.decided_on AS on_date, s.id AS grant_id, s.original_amount AS amount
                FROM scope s WHERE \(accrual)::boolean AND s.created_at < \(cut)
                UNION ALL
                SELECT 'amendment', 1, m.id, (m.amended_at AT TIME ZONE 'UTC')::date, m.grant_id, m.amount_change
                FROM grants.grant_amendment m JOIN scope s ON s.id = m.grant_id
                WHERE \(accrual)::boolean AND m.amount_change <> 0 AND m.amended_at < \(cut)
                UNION ALL
                SELECT CASE d.status WHEN 'reversal' THEN 'reversal' ELSE 'payment' END, 2, d.id, d.paid_on, d.grant_id, d.amount
                FROM grants.disbursement d JOIN scope s ON s.id = d.grant_id
                WHERE d.status IN ('paid', 'reversal') AND grants.recorded_paid_at(d.status, d.paid_at, d.scheduled_at) < \(cut)
                UNION ALL
                SELECT 'repayment', 3, rp.id, rp.received_on, rp.grant_id, rp.amount
                FROM grants.repayment rp JOIN scope s ON s.id = rp.grant_id WHERE rp.recorded_at < \(cut)
                UNION ALL
                SELECT 'closing', 4, s.id, s.closed_on, s.id, s.reclaimed
                FROM scope s WHERE \(accrual)::boolean AND s.status = 'closed' AND s.closed_at < \(cut) AND s.reclaimed <> 0
            ), booked AS (
                SELECT e.*, s.reference, s.title, s.recipient, s.currency FROM entries e JOIN scope s ON s.id = e.grant_id
                WHERE (\(filter.from)::date IS NULL OR e.on_date >= \(filter.from)) AND (\(filter.to)::date IS NULL OR e.on_date <= \(filter.to))
            )
            """
    }

    static func query(_ filter: ReportFilter, accrual: Bool) -> PGQuery {
        "\(entries(filter, accrual: accrual)) SELECT kind, on_date, reference, recipient, amount, currency FROM booked ORDER BY on_date, ord, key"
    }

    /// The grants the vouchers book on, declared before the vouchers.
    static func objects(_ filter: ReportFilter, accrual: Bool) -> PGQuery {
        "\(entries(filter, accrual: accrual)) SELECT DISTINCT reference, title FROM booked ORDER BY reference"
    }

    static func decode(_ row: PGRow) throws -> LedgerEntry {
        guard let kind = LedgerEntry.Kind(rawValue: try row.decode(String.self, column: 0)) else {
            throw PGError(kind: .decoding, message: "unknown booking kind")
        }
        return LedgerEntry(
            kind: kind, date: try row.decode(column: 1), grantReference: try row.decode(column: 2), recipient: try row.decode(column: 3),
            amount: Money(minorUnits: try row.decode(column: 4), currency: try row.decode(Currency.self, column: 5)))
    }
}
