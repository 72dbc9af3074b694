import Foundation

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
    /// The disbursement, reversal or repayment the row shows; nil for a closing's `write-off` and `reclaim`
    /// rows, which belong to the grant (its reference and the status name them: a grant closes once).
    public let disbursementID: Int64?
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

    package init(
        disbursementID: Int64?, programme: String, round: String, grantReference: String, recipient: String, recipientOrgNumber: String?,
        partners: [String], partnerCountries: [String], themes: [String], dueOn: CalendarDate, paidOn: CalendarDate?,
        status: DisbursementStatus, amount: Money, paymentReference: String?
    ) {
        self.disbursementID = disbursementID
        self.programme = programme
        self.round = round
        self.grantReference = grantReference
        self.recipient = recipient
        self.recipientOrgNumber = recipientOrgNumber
        self.partners = partners
        self.partnerCountries = partnerCountries
        self.themes = themes
        self.dueOn = dueOn
        self.paidOn = paidOn
        self.status = status
        self.amount = amount
        self.paymentReference = paymentReference
    }

    public static let columns = [
        "disbursement_id", "programme", "round", "grant_reference", "recipient", "recipient_org_number", "partners",
        "partner_countries", "themes", "due_on", "paid_on", "status", "amount", "currency", "payment_reference",
    ]
}

/// Which disbursements a report covers, and the moment of the books it reads.
///
/// Every row has a business date: the date of the event that gave it the status it shows (a payment's and a
/// reversal's `paid_on`, a repayment's `received_on`, a cancellation's date, a closing's `closed_on` for its
/// `write-off` and `reclaim` rows; a tranche not yet paid or cancelled, its `due_on`). `from`/`to` select rows by
/// it, and the SIE export its vouchers by the same dates, so every format covers the same events.
///
/// ```swift
/// // Everything that happened in 2022, as the books stood at the end of 2022 and as they were known on 31 January 2023.
/// let year = ReportFilter(
///     from: try CalendarDate("2022-01-01"), to: try CalendarDate("2022-12-31"), asOf: try CalendarDate("2022-12-31"),
///     knownAt: ISO8601DateFormatter().date(from: "2023-01-31T23:59:59Z"))
/// ```
public struct ReportFilter: Sendable, Equatable {
    public var programme: String?
    public var round: String?
    /// The first business date a row may have (inclusive).
    public var from: CalendarDate?
    /// The last business date a row may have (inclusive).
    public var to: CalendarDate?
    public var status: DisbursementStatus?
    /// The books as they stood at the end of this business date: an event dated later (a payment, reversal,
    /// repayment, cancellation, amendment, settlement, closing) is left out whenever it was recorded, and a row
    /// shows the status it had then. Nil: every date.
    public var asOf: CalendarDate?
    /// As it was known at this moment: only what was recorded no later than then. With it, the same export
    /// gives the same bytes however much is recorded afterwards (its moment is also the export's generation
    /// time). Nil: everything recorded.
    public var knownAt: Date?

    public init(
        programme: String? = nil, round: String? = nil, from: CalendarDate? = nil, to: CalendarDate? = nil,
        status: DisbursementStatus? = nil, asOf: CalendarDate? = nil, knownAt: Date? = nil
    ) {
        self.asOf = asOf
        self.knownAt = knownAt
        self.programme = programme
        self.round = round
        self.from = from
        self.to = to
        self.status = status
    }
}
