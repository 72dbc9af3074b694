import Foundation

/// The export formats of `report disbursements`.
///
/// ```swift
/// let format = DisbursementFormat(rawValue: "csv-excel")    // .csvExcel, as the CLI's --format names it
/// ```
public enum DisbursementFormat: String, Sendable, CaseIterable {
    case csv
    case csvExcel = "csv-excel"
    case json
    case sie
    case iati
    case giving360 = "360giving"
}

/// Settings of the funder's exports (SIE accounts and series, IATI and 360Giving identities).
///
/// ```swift
/// var options = ExportOptions()
/// options.expenseAccount = "4989"
/// options.series = "B"
/// options.funderOrgNumber = "212000-0142"
/// try await service.reports.disbursements(ReportFilter(), format: .sie, options: options, to: output)
/// ```
public struct ExportOptions: Sendable, Equatable {
    /// SIE: the expense account debited for paid grants (BAS 4980 *Lämnade bidrag*).
    public var expenseAccount: String = "4980"
    public var expenseAccountName: String = "Lämnade bidrag"
    /// SIE: the bank account credited (BAS 1930 *Företagskonto*).
    public var bankAccount: String = "1930"
    public var bankAccountName: String = "Bank"
    /// SIE: the voucher series; empty lets the accounting system number the vouchers.
    public var series: String = ""
    /// SIE: the object dimension the grant reference is booked on (6 = projekt).
    public var dimension: Int = 6
    /// The funder running the programme (ICLD): SIE `#FNAMN`/`#ORGNR`, IATI extending organisation,
    /// 360Giving funding organisation.
    public var funderName: String = "ICLD"
    public var funderOrgNumber: String?
    /// The organisation financing the programme (IATI role 1, Sida by default).
    public var fundingOrgRef: String = "SE-0"
    public var fundingOrgName: String = "Sida"
    /// IATI reporting organisation; by default the funder when its organisationsnummer is known, else the
    /// financing organisation. Activities are `<reporting ref>-<grant reference>`.
    public var reportingOrgRefOverride: String?
    /// IATI organisation type of the reporter (10 government, 11 local government, 21 international NGO, 22 national NGO…).
    public var reportingOrgType: String?

    package var funderOrgID: String? { funderOrgNumber.map { "SE-ON-" + $0.filter { $0 != "-" } } }

    package var reportingOrgRef: String { reportingOrgRefOverride ?? funderOrgID ?? fundingOrgRef }

    package var reportingOrgName: String { reportingOrgRef == fundingOrgRef ? fundingOrgName : funderName }

    package var reportingType: String { reportingOrgType ?? (reportingOrgRef == fundingOrgRef ? "10" : "21") }

    /// 360Giving identifier prefix: ids are `360G-<prefix>-<grant reference>`.
    public var giving360Prefix: String = "icld"
    /// The moment written into generated-datetime fields (fixed in tests for byte-stable output).
    public var generatedAt: Date = Date()

    public init() {}
}

/// What an export wrote.
///
/// ```swift
/// let stats = try await service.reports.disbursements(ReportFilter(round: "2021:2"), format: .csv, to: output)
/// print("\(stats.rows) rows")
/// ```
public struct ExportStats: Sendable, Equatable {
    public let rows: Int
    public let total: Money?

    package init(rows: Int, total: Money?) {
        self.rows = rows
        self.total = total
    }
}

/// Rows handed to a writer one at a time by whoever reads them (the store, from a query); returns how many.
/// Writers never see where rows come from, so they are tested without a database.
///
/// ```swift
/// let feed: RowFeed<DisbursementRow> = { each in for row in rows { try each(row) }; return rows.count }
/// ```
public typealias RowFeed<Row> = (_ each: (Row) throws -> Void) throws -> Int
