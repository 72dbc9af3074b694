import PGClient

extension DisbursementRow {
    /// A disbursement's status at the report's cut (see `ReportFilter.cut`): a row shows the step it had
    /// reached by then. Reversal and repayment rows are born as they are.
    static func status(_ filter: ReportFilter) -> PGQuery {
        let cut = filter.cut
        return """
            (CASE WHEN \(filter.asOf)::date IS NULL OR d.status IN ('reversal', 'repayment') THEN d.status
                  WHEN d.cancelled_at < \(cut) THEN 'cancelled'
                  WHEN d.paid_at < \(cut) THEN 'paid'
                  WHEN d.attested_at < \(cut) THEN 'attested'
                  ELSE 'scheduled' END)
            """
    }

    static func select(_ filter: ReportFilter) -> PGQuery {
        let status = status(filter)
        return """
            SELECT d.id, p.name AS programme, r.name AS round, g.reference, o.name AS recipient, o.org_number,
                   coalesce(pa.names, '{}') AS partners, coalesce(pa.countries, '{}') AS partner_countries,
                   coalesce(th.codes, '{}') AS themes, d.due_on,
                   CASE WHEN \(status) IN ('paid', 'reversal', 'repayment') THEN d.paid_on END AS paid_on, \(status) AS status,
                   d.amount, d.currency,
                   CASE WHEN \(status) IN ('paid', 'reversal', 'repayment') THEN d.payment_reference END AS payment_reference,
                   a.title
            \(from)
            """
    }

    /// The joins every disbursement report reads through. `d` is every money entry of a grant: its
    /// disbursements and reversals, and the repayments received from the grantee as `repayment` rows with a
    /// negative amount, due and paid on the day they came in. Repayment ids share the disbursements' id
    /// space (`grants.next_entry_id()`), so `disbursement_id` names one row either way. A repayment was
    /// recorded, and is in the report from then on, at its `recorded_at` (as a reversal at its `scheduled_at`).
    static let from: PGQuery = """
        FROM (
            SELECT id, grant_id, due_on, paid_on, status, amount, currency, payment_reference,
                   scheduled_at, attested_at, paid_at, cancelled_at
            FROM grants.disbursement
            UNION ALL
            SELECT id, grant_id, received_on, received_on, 'repayment', -amount, currency, payment_reference,
                   recorded_at, recorded_at, recorded_at, NULL::timestamptz
            FROM grants.repayment
        ) d
        JOIN grants.grant g ON g.id = d.grant_id
        JOIN grants.application a ON a.id = g.application_id
        JOIN grants.allocation_round r ON r.id = g.round_id
        JOIN grants.programme p ON p.id = g.programme_id
        \(Parties.joins)
        """

    static func query(_ filter: ReportFilter) -> PGQuery {
        "\(select(filter)) WHERE \(filter.condition) ORDER BY d.due_on, d.id"
    }

    static func decode(_ row: PGRow) throws -> DisbursementRow {
        func split(_ column: Int) throws -> [String] { try row.decode([String].self, column: column) }
        let currency = try row.decode(Currency.self, column: 13)
        guard let status = DisbursementStatus(rawValue: try row.decode(String.self, column: 11)) else {
            throw PGError(kind: .decoding, message: "unknown disbursement status")
        }
        return DisbursementRow(
            disbursementID: try row.decode(column: 0), programme: try row.decode(column: 1), round: try row.decode(column: 2),
            grantReference: try row.decode(column: 3), recipient: try row.decode(column: 4),
            recipientOrgNumber: try row.decode(column: 5), partners: try split(6), partnerCountries: try split(7),
            themes: try split(8), dueOn: try row.decode(column: 9), paidOn: try row.decode(column: 10), status: status,
            amount: Money(minorUnits: try row.decode(column: 12), currency: currency), paymentReference: try row.decode(column: 14))
    }
}

extension ReportFilter {
    /// The first moment after the report's day, UTC (`infinity` without `asOf`): what was recorded before it
    /// is in the report, what came at or after it is not.
    var cut: PGQuery {
        "coalesce(((\(asOf)::date + 1)::timestamp AT TIME ZONE 'UTC'), 'infinity'::timestamptz)"
    }

    /// The programme and round part alone, over `r` and `p` (for reports with one row per grant).
    var grantCondition: PGQuery {
        "(\(programme)::text IS NULL OR p.name = \(programme)) AND (\(round)::text IS NULL OR r.name = \(round))"
    }

    /// The WHERE clause over `d` (disbursement), `g`, `r`, `p`; every value bound. Status and payment date are
    /// the ones the row had at the cut.
    var condition: PGQuery {
        let from = from
        let to = to
        let status = DisbursementRow.status(self)
        let field: PGQuery =
            dateField == .due ? "d.due_on" : "(CASE WHEN \(status) IN ('paid', 'reversal', 'repayment') THEN d.paid_on END)"
        return """
            (\(programme)::text IS NULL OR p.name = \(programme))
            AND (\(round)::text IS NULL OR r.name = \(round))
            AND d.scheduled_at < \(cut)
            AND (\(self.status?.rawValue)::text IS NULL OR \(status) = \(self.status?.rawValue))
            AND (\(from)::date IS NULL OR \(field) >= \(from))
            AND (\(to)::date IS NULL OR \(field) <= \(to))
            """
    }
}
