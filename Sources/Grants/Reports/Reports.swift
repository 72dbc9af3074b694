import Foundation
import PGClient

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

    var funderOrgID: String? { funderOrgNumber.map { "SE-ON-" + $0.filter { $0 != "-" } } }

    var reportingOrgRef: String { reportingOrgRefOverride ?? funderOrgID ?? fundingOrgRef }

    var reportingOrgName: String { reportingOrgRef == fundingOrgRef ? fundingOrgName : funderName }

    var reportingType: String { reportingOrgType ?? (reportingOrgRef == fundingOrgRef ? "10" : "21") }

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
}

/// Finance exports and round summaries, streamed from the database as they are written.
///
/// ```swift
/// let output = ReportOutput.standardOutput()
/// try await service.reports.disbursements(ReportFilter(round: "2021:2"), format: .csv, to: output)
/// try output.commit()
/// let summary = try await service.reports.round("2021:2")
/// ```
public struct Reports: Sendable {
    let service: GrantsService

    /// Streams the disbursements the filter selects in one format. Memory stays flat however many rows:
    /// rows come from the server one at a time (single-row mode) and leave through `output` in 64 KiB writes.
    /// A filter naming a programme or round that is not recorded is ``GrantsError/invalidInput(_:)``, thrown
    /// before the first byte.
    @discardableResult
    public func disbursements(
        _ filter: ReportFilter, format: DisbursementFormat, options: ExportOptions = ExportOptions(), to output: ReportOutput
    ) async throws -> ExportStats {
        try await service.run { connection in
            try connection.transaction(isolation: .repeatableRead, readOnly: true) {
                try Filters.check(connection, programme: filter.programme, round: filter.round)
                let stats =
                    switch format {
                    case .csv, .csvExcel: try Self.tabular(connection, filter, excel: format == .csvExcel, output)
                    case .json: try Self.json(connection, filter, output)
                    case .sie: try SIEWriter(options: options).write(connection, filter, output)
                    case .iati: try IATIWriter(options: options).write(connection, filter, output)
                    case .giving360: try Giving360Writer(options: options).write(connection, filter, output)
                    }
                // The last partial chunk leaves from the export's own thread (a sink may block there).
                try output.flush()
                return stats
            }
        }
    }

    /// Each disbursement row the filter selects, handed to `body` one at a time on a pool thread; returns the count.
    @discardableResult
    public func forEachDisbursement(_ filter: ReportFilter, _ body: @escaping @Sendable (DisbursementRow) throws -> Void) async throws
        -> Int
    {
        try await service.run { connection in
            try connection.transaction(isolation: .repeatableRead, readOnly: true) {
                try Filters.check(connection, programme: filter.programme, round: filter.round)
                return try connection.forEachRow(DisbursementRow.query(filter)) { try body(DisbursementRow.decode($0)) }
            }
        }
    }

    static func tabular(_ connection: PGConnection, _ filter: ReportFilter, excel: Bool, _ output: ReportOutput) throws -> ExportStats {
        let writer = CSVWriter(excel: excel)
        try writer.header(output)
        var line: [UInt8] = []
        line.reserveCapacity(512)
        let rows = try connection.forEachRow(DisbursementRow.query(filter)) { row in
            writer.row(try DisbursementRow.decode(row), into: &line)
            try output.write(line)
        }
        return ExportStats(rows: rows, total: nil)
    }

    static func json(_ connection: PGConnection, _ filter: ReportFilter, _ output: ReportOutput) throws -> ExportStats {
        try output.write("[")
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        var first = true
        let rows = try connection.forEachRow(DisbursementRow.query(filter)) { row in
            JSONRowWriter().row(try DisbursementRow.decode(row), first: first, into: &out)
            first = false
            try output.write(out)
        }
        try output.write(rows == 0 ? "]\n" : "\n]\n")
        return ExportStats(rows: rows, total: nil)
    }
}
