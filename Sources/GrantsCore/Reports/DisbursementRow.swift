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

    package init(
        disbursementID: Int64, programme: String, round: String, grantReference: String, recipient: String, recipientOrgNumber: String?,
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

/// Which disbursements a report covers.
///
/// ```swift
/// // Everything paid during 2022, by payment date.
/// let filter = ReportFilter(from: try CalendarDate("2022-01-01"), to: try CalendarDate("2022-12-31"), dateField: .paid)
/// // The books as they stood at the end of 2022, whatever was recorded since.
/// let closing = ReportFilter(asOf: try CalendarDate("2022-12-31"))
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
    /// The state at the end of this day (UTC), read from the append-only history: what was recorded later
    /// (a payment, a reversal, a repayment, a cancellation, an amendment, a closing) is left out, and a row
    /// shows the status it had then. Nil: as things stand now.
    public var asOf: CalendarDate?

    public init(
        programme: String? = nil, round: String? = nil, from: CalendarDate? = nil, to: CalendarDate? = nil,
        dateField: DateField = .due, status: DisbursementStatus? = nil, asOf: CalendarDate? = nil
    ) {
        self.asOf = asOf
        self.programme = programme
        self.round = round
        self.from = from
        self.to = to
        self.dateField = dateField
        self.status = status
    }
}
