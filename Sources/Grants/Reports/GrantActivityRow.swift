import PGClient

extension GrantActivityRow {
    /// Grants of the filter's programme/round; payments (paid and reversals) limited by its dates and status.
    static func query(_ filter: ReportFilter) -> PGQuery {
        """
        SELECT g.reference, a.title, p.name, r.name, g.status, g.amount, a.requested, g.currency, g.starts_on, g.ends_on,
               ap.decided_on, o.name, o.org_number,
               coalesce(pa.names, '{}'), coalesce(pa.countries, '{}'), coalesce(pa.kinds, '{}'),
               coalesce(th.codes, '{}'), coalesce(tt.names, '{}'), coalesce(tt.sectors, '{}'),
               coalesce(pay.ids, '{}'), coalesce(pay.dates, '{}'), coalesce(pay.amounts, '{}'), o.id
        \(GrantRegistry.from)
        LEFT JOIN LATERAL (
            SELECT array_agg(t.name_en ORDER BY at.position) AS names, array_agg(t.dac_sector ORDER BY at.position) AS sectors
            FROM grants.application_theme at JOIN grants.theme t ON t.code = at.theme_code
            WHERE at.application_id = a.id
        ) tt ON true
        LEFT JOIN LATERAL (
            SELECT array_agg(d.id ORDER BY d.paid_on, d.id) AS ids, array_agg(d.paid_on ORDER BY d.paid_on, d.id) AS dates,
                   array_agg(d.amount ORDER BY d.paid_on, d.id) AS amounts
            FROM grants.disbursement d
            WHERE d.grant_id = g.id AND d.status IN ('paid', 'reversal') AND \(filter.condition)
        ) pay ON true
        WHERE \(filter.grantCondition)
        ORDER BY p.name, r.name, g.reference
        """
    }

    static func decode(_ row: PGRow) throws -> GrantActivityRow {
        let currency = try row.decode(Currency.self, column: 7)
        guard let status = GrantStatus(rawValue: try row.decode(String.self, column: 4)) else {
            throw PGError(kind: .decoding, message: "unknown grant status")
        }
        return GrantActivityRow(
            reference: try row.decode(column: 0), title: try row.decode(column: 1), programme: try row.decode(column: 2),
            round: try row.decode(column: 3), status: status,
            amount: Money(minorUnits: try row.decode(column: 5), currency: currency),
            requested: Money(minorUnits: try row.decode(column: 6), currency: currency),
            startsOn: try row.decode(column: 8), endsOn: try row.decode(column: 9), decidedOn: try row.decode(column: 10),
            applicantID: try row.decode(column: 22), applicantName: try row.decode(column: 11),
            applicantOrgNumber: try row.decode(column: 12),
            partnerNames: try row.decode(column: 13), partnerCountries: try row.decode(column: 14),
            partnerKinds: try row.decode(column: 15),
            themeCodes: try row.decode(column: 16), themeNames: try row.decode(column: 17), dacSectors: try row.decode(column: 18),
            paymentIDs: try row.decode(column: 19), paymentDates: try row.decode(column: 20), paymentAmounts: try row.decode(column: 21))
    }
}
