import PGClient

/// One row of the disbursement report, in the columns of the contract:
/// `disbursement_id,programme,round,grant_reference,recipient,recipient_org_number,partners,partner_countries,
/// themes,due_on,paid_on,status,amount,currency,payment_reference`.
///
/// ```swift
/// try await service.reports.forEachDisbursement(ReportFilter(round: "2021:2", status: .paid)) { row in
///     print(row.grantReference, row.recipient, row.amount.plain)
/// }
/// ```
public struct DisbursementRow: Sendable, Equatable {
    public let disbursementID: Int64
    public let programme: String
    public let round: String
    public let grantReference: String
    public let recipient: String
    public let recipientOrgNumber: String?
    public let partners: [String]
    public let partnerCountries: [String]
    public let themes: [String]
    public let dueOn: CalendarDate
    public let paidOn: CalendarDate?
    public let status: DisbursementStatus
    public let amount: Money
    public let paymentReference: String?

    public static let columns = [
        "disbursement_id", "programme", "round", "grant_reference", "recipient", "recipient_org_number", "partners",
        "partner_countries", "themes", "due_on", "paid_on", "status", "amount", "currency", "payment_reference",
    ]
}

/// Which disbursements a report covers.
///
/// ```swift
/// // Everything paid during 2022, by payment date.
/// let filter = ReportFilter(from: try CalendarDate("2022-01-01"), to: try CalendarDate("2022-12-31"), dateField: .paid)
/// ```
public struct ReportFilter: Sendable, Equatable {
    /// Which date a report's `from`/`to` apply to: when a disbursement is due, or when it was paid.
    ///
    /// ```swift
    /// ReportFilter(from: try CalendarDate("2022-01-01"), dateField: .paid)
    /// ```
    public enum DateField: String, Sendable, CaseIterable { case due, paid }
    public var programme: String?
    public var round: String?
    public var from: CalendarDate?
    public var to: CalendarDate?
    /// Which date `from`/`to` apply to.
    public var dateField: DateField
    public var status: DisbursementStatus?

    public init(
        programme: String? = nil, round: String? = nil, from: CalendarDate? = nil, to: CalendarDate? = nil,
        dateField: DateField = .due, status: DisbursementStatus? = nil
    ) {
        self.programme = programme
        self.round = round
        self.from = from
        self.to = to
        self.dateField = dateField
        self.status = status
    }

    /// The programme and round part alone, over `r` and `p` (for reports with one row per grant).
    var grantCondition: PGQuery {
        "(\(programme)::text IS NULL OR p.name = \(programme)) AND (\(round)::text IS NULL OR r.name = \(round))"
    }

    /// The WHERE clause over `d` (disbursement), `g`, `r`, `p`; every value bound.
    var condition: PGQuery {
        let from = from
        let to = to
        let field: PGQuery = dateField == .due ? "d.due_on" : "d.paid_on"
        return """
            (\(programme)::text IS NULL OR p.name = \(programme))
            AND (\(round)::text IS NULL OR r.name = \(round))
            AND (\(status?.rawValue)::text IS NULL OR d.status = \(status?.rawValue))
            AND (\(from)::date IS NULL OR \(field) >= \(from))
            AND (\(to)::date IS NULL OR \(field) <= \(to))
            """
    }
}

extension DisbursementRow {
    static let select = """
        SELECT d.id, p.name AS programme, r.name AS round, g.reference, o.name AS recipient, o.org_number,
               coalesce(pa.names, '{}') AS partners, coalesce(pa.countries, '{}') AS partner_countries,
               coalesce(th.codes, '{}') AS themes, d.due_on, d.paid_on, d.status, d.amount, d.currency, d.payment_reference,
               a.title
        \(from)
        """

    /// The joins every disbursement report reads through.
    static let from = """
        FROM grants.disbursement d
        JOIN grants.grant g ON g.id = d.grant_id
        JOIN grants.application a ON a.id = g.application_id
        JOIN grants.organisation o ON o.id = a.applicant_id
        JOIN grants.allocation_round r ON r.id = g.round_id
        JOIN grants.programme p ON p.id = g.programme_id
        LEFT JOIN LATERAL (
            SELECT array_agg(po.name ORDER BY x.position) AS names, array_agg(po.country ORDER BY x.position) AS countries
            FROM grants.application_partner x JOIN grants.organisation po ON po.id = x.organisation_id
            WHERE x.application_id = a.id
        ) pa ON true
        LEFT JOIN LATERAL (
            SELECT array_agg(t.theme_code ORDER BY t.position) AS codes FROM grants.application_theme t WHERE t.application_id = a.id
        ) th ON true
        """

    static func query(_ filter: ReportFilter) -> PGQuery {
        "\(unsafeRaw: select) WHERE \(filter.condition) ORDER BY d.due_on, d.id"
    }

    /// Paid disbursements and reversals only, in payment order (what accounting books).
    static func paymentsQuery(_ filter: ReportFilter) -> PGQuery {
        "\(unsafeRaw: select) WHERE \(filter.condition) AND d.status IN ('paid', 'reversal') ORDER BY d.paid_on, d.id"
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
