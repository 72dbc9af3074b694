import PGClient

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

    /// What SIE books: payments, reversals and repayments always; with accrual also decisions, amendments,
    /// settlements' claims, and closings' write-offs and reclaims. Each dated by its business date and recorded
    /// at its own moment, in the books the filter reads (``ReportFilter/holds(_:recorded:)``) and in its period.
    static func entries(_ filter: ReportFilter, accrual: Bool) -> PGQuery {
        """
        WITH \(scope(filter)), entries AS (
            SELECT 'award' AS kind, 0 AS ord, s.id AS key, s.decided_on AS on_date, s.created_at AS recorded,
                   s.id AS grant_id, s.original_amount AS amount, NULL::text AS payment_reference
            FROM scope s WHERE \(accrual)::boolean
            UNION ALL
            SELECT 'amendment', 1, m.id, grants.business_date(m.amended_on, m.amended_at), m.amended_at, m.grant_id,
                   m.amount_change, NULL::text
            FROM grants.grant_amendment m JOIN scope s ON s.id = m.grant_id
            WHERE \(accrual)::boolean AND m.amount_change <> 0
            UNION ALL
            SELECT CASE d.status WHEN 'reversal' THEN 'reversal' ELSE 'payment' END, 2, d.id, d.paid_on,
                   grants.recorded_paid_at(d.status, d.paid_at, d.scheduled_at), d.grant_id, d.amount, d.payment_reference
            FROM grants.disbursement d JOIN scope s ON s.id = d.grant_id
            WHERE d.status IN ('paid', 'reversal')
            UNION ALL
            SELECT 'claim', 3, x.grant_id, x.settled_on, x.recorded_at, x.grant_id, x.claimed, NULL::text
            FROM grants.settlement x JOIN scope s ON s.id = x.grant_id
            WHERE \(accrual)::boolean AND x.claimed > 0
            UNION ALL
            SELECT 'repayment', 4, rp.id, rp.received_on, rp.recorded_at, rp.grant_id, rp.amount, rp.payment_reference
            FROM grants.repayment rp JOIN scope s ON s.id = rp.grant_id
            UNION ALL
            SELECT 'write-off', 5, s.id, s.closed_on, s.closed_at, s.id, x.written_off, NULL::text
            FROM grants.settlement x JOIN scope s ON s.id = x.grant_id
            WHERE \(accrual)::boolean AND s.status = 'closed' AND x.written_off > 0
            UNION ALL
            SELECT 'reclaim', 6, s.id, s.closed_on, s.closed_at, s.id, s.reclaimed, NULL::text
            FROM scope s WHERE \(accrual)::boolean AND s.status = 'closed' AND s.reclaimed > 0
        ), booked AS (
            SELECT e.*, s.reference, s.title, s.recipient, s.currency FROM entries e JOIN scope s ON s.id = e.grant_id
            WHERE \(filter.holds("e.on_date", recorded: "e.recorded")) AND \(filter.inPeriod("e.on_date"))
        )
        """
    }

    static func query(_ filter: ReportFilter, accrual: Bool) -> PGQuery {
        """
        \(entries(filter, accrual: accrual))
        SELECT kind, on_date, reference, recipient, amount, currency, payment_reference FROM booked ORDER BY on_date, ord, key
        """
    }

    /// The grants the vouchers book on, declared before the vouchers.
    static func objects(_ filter: ReportFilter, accrual: Bool) -> PGQuery {
        "\(entries(filter, accrual: accrual)) SELECT DISTINCT reference, title FROM booked ORDER BY reference"
    }

    /// The currencies other than SEK among the grants the filter covers (SIE books in SEK).
    static func foreignCurrencies(_ filter: ReportFilter) -> PGQuery {
        "WITH \(scope(filter)) SELECT DISTINCT currency FROM scope WHERE currency <> 'SEK' ORDER BY currency"
    }

    /// The dates of the vouchers in another currency than SEK, in order: each needs a rate.
    static func foreignDates(_ filter: ReportFilter, accrual: Bool) -> PGQuery {
        "\(entries(filter, accrual: accrual)) SELECT DISTINCT on_date FROM booked WHERE currency <> 'SEK' AND amount <> 0 ORDER BY on_date"
    }

    static func decode(_ row: PGRow) throws -> LedgerEntry {
        guard let kind = LedgerEntry.Kind(rawValue: try row.decode(String.self, column: 0)) else {
            throw PGError(kind: .decoding, message: "unknown booking kind")
        }
        return LedgerEntry(
            kind: kind, date: try row.decode(column: 1), grantReference: try row.decode(column: 2), recipient: try row.decode(column: 3),
            amount: Money(minorUnits: try row.decode(column: 4), currency: try row.decode(Currency.self, column: 5)),
            paymentReference: try row.decode(column: 6))
    }
}
