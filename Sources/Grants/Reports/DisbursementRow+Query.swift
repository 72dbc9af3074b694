import PGClient

extension DisbursementRow {
    /// A row's status at the report's cut (see ``ReportFilter/holds(_:recorded:)``): the step it had reached in
    /// the books read. Reversal, repayment, write-off and reclaim rows are born as they are. An attestation has
    /// no business date of its own: it counts from the day it was recorded.
    static func status(_ filter: ReportFilter) -> PGQuery {
        """
        (CASE WHEN d.status IN ('reversal', 'repayment', 'write-off', 'reclaim') THEN d.status
              WHEN d.status = 'cancelled' AND \(filter.holds("d.cancelled_on", recorded: "d.cancelled_at")) THEN 'cancelled'
              WHEN d.status = 'paid' AND \(filter.holds("d.paid_on", recorded: "d.paid_at")) THEN 'paid'
              WHEN d.attested_at IS NOT NULL
                   AND \(filter.holds(ReportFilter.businessDate("NULL::date", recorded: "d.attested_at"), recorded: "d.attested_at")) THEN 'attested'
              ELSE 'scheduled' END)
        """
    }

    /// The row's business date at the cut: the date of the event that gave it its status; a tranche not yet
    /// paid or cancelled is dated by when it is due.
    static let businessDate: PGQuery = """
        (CASE WHEN st.status IN ('paid', 'reversal', 'repayment', 'write-off', 'reclaim') THEN d.paid_on
              WHEN st.status = 'cancelled' THEN d.cancelled_on
              ELSE d.due_on END)
        """

    static func select(_ filter: ReportFilter) -> PGQuery {
        """
        SELECT d.id, p.name AS programme, r.name AS round, g.reference, o.name AS recipient, o.org_number,
               coalesce(pa.names, '{}') AS partners, coalesce(pa.countries, '{}') AS partner_countries,
               coalesce(th.codes, '{}') AS themes, d.due_on,
               CASE WHEN st.status IN ('paid', 'reversal', 'repayment', 'write-off', 'reclaim') THEN d.paid_on END AS paid_on,
               st.status, d.amount, d.currency,
               CASE WHEN st.status IN ('paid', 'reversal', 'repayment') THEN d.payment_reference END AS payment_reference
        \(from)
        CROSS JOIN LATERAL (SELECT \(status(filter)) AS status) st
        """
    }

    /// The joins every disbursement report reads through. `d` is every money entry of a grant: its
    /// disbursements and reversals; the repayments received from the grantee as `repayment` rows with a
    /// negative amount, due and paid on the day they came in; and its closing: the uncollected claim given up
    /// as a `write-off` row (positive: money left with the grantee) and the award never paid out as a `reclaim`
    /// row (negative: the commitment released), both due and "paid" on the closing day, with no id (the grant
    /// and the status name them). Repayment ids share the disbursements' id space (`grants.next_entry_id()`),
    /// so `disbursement_id` names one row either way. `paid_at` is when the row's dated event was recorded.
    static let from: PGQuery = """
        \(entries)
        \(Parties.joins)
        """

    /// ``from`` without the parties: the money entries `d` with their grant `g`, application `a`, approval `ap`,
    /// round `r` and programme `p`. The year report sums these same rows, so its figures are the export's.
    static let entries: PGQuery = """
        FROM (
            SELECT id, grant_id, due_on, paid_on, status, amount, currency, payment_reference, scheduled_at, attested_at,
                   grants.recorded_paid_at(status, paid_at, scheduled_at) AS paid_at,
                   \(ReportFilter.businessDate("cancelled_on", recorded: "cancelled_at")) AS cancelled_on, cancelled_at
            FROM grants.disbursement
            UNION ALL
            SELECT id, grant_id, received_on, received_on, 'repayment', -amount, currency, payment_reference,
                   recorded_at, recorded_at, recorded_at, NULL::date, NULL::timestamptz
            FROM grants.repayment
            UNION ALL
            SELECT NULL::int8, g.id, g.closed_on, g.closed_on, 'write-off', s.written_off, s.currency, NULL::text,
                   g.closed_at, g.closed_at, g.closed_at, NULL::date, NULL::timestamptz
            FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id
            WHERE g.status = 'closed' AND s.written_off > 0
            UNION ALL
            SELECT NULL::int8, g.id, g.closed_on, g.closed_on, 'reclaim', -g.reclaimed, g.currency, NULL::text,
                   g.closed_at, g.closed_at, g.closed_at, NULL::date, NULL::timestamptz
            FROM grants.grant g WHERE g.status = 'closed' AND g.reclaimed > 0
        ) d
        JOIN grants.grant g ON g.id = d.grant_id
        JOIN grants.application a ON a.id = g.application_id
        JOIN grants.approval ap ON ap.application_id = a.id
        JOIN grants.allocation_round r ON r.id = g.round_id
        JOIN grants.programme p ON p.id = g.programme_id
        """

    static func query(_ filter: ReportFilter) -> PGQuery {
        "\(select(filter)) WHERE \(filter.condition) ORDER BY d.due_on, d.id, g.reference, st.status"
    }

    /// Decodes the rows of one ``query(_:)`` result: the columns whose values repeat down an export (its
    /// programme, round, partner countries and themes) are decoded once per run of equal values.
    struct Decoder {
        private var programme = PGRepeatedValue<String>()
        private var round = PGRepeatedValue<String>()
        private var partnerCountries = PGRepeatedValue<[String]>()
        private var themes = PGRepeatedValue<[String]>()

        mutating func decode(_ row: PGRow) throws -> DisbursementRow {
            let currency = try row.decode(Currency.self, column: 13)
            guard let status = DisbursementStatus(rawValue: try row.decode(String.self, column: 11)) else {
                throw PGError(kind: .decoding, message: "unknown disbursement status")
            }
            return DisbursementRow(
                disbursementID: try row.decode(column: 0), programme: try programme.decode(row, column: 1),
                round: try round.decode(row, column: 2), grantReference: try row.decode(column: 3),
                recipient: try row.decode(column: 4), recipientOrgNumber: try row.decode(column: 5),
                partners: try row.decode([String].self, column: 6), partnerCountries: try partnerCountries.decode(row, column: 7),
                themes: try themes.decode(row, column: 8), dueOn: try row.decode(column: 9), paidOn: try row.decode(column: 10),
                status: status, amount: Money(minorUnits: try row.decode(column: 12), currency: currency),
                paymentReference: try row.decode(column: 14))
        }
    }
}

extension ReportFilter {
    /// The WHERE clause over `d` (money entry), `st` (its status at the cut), `g`, `ap`, `r`, `p`; every value
    /// bound. A tranche is in the books once its grant's decision is (and it was scheduled by `knownAt`); a row
    /// born as it is (reversal, repayment, write-off, reclaim) once its own dated event is. Status and business
    /// date are the ones the row had at the cut.
    var condition: PGQuery {
        """
        \(grantCondition)
        AND (CASE WHEN d.status IN ('reversal', 'repayment', 'write-off', 'reclaim')
                  THEN \(holds("d.paid_on", recorded: "d.paid_at"))
                  ELSE \(grantHolds) AND \(known("d.scheduled_at")) END)
        AND (\(status?.rawValue)::text IS NULL OR st.status = \(status?.rawValue))
        AND \(inPeriod(DisbursementRow.businessDate))
        """
    }
}
