import Foundation

/// The export formats of `report disbursements`.
///
/// ```swift
/// let format = DisbursementFormat(rawValue: "csv-excel")    // .csvExcel, as the CLI's --format names it
/// ```
public enum DisbursementFormat: String, Sendable, CaseIterable {
    case csv
    case csvExcel = "csv-excel"
    case xlsx
    case json
    case sie
    case iati
    case giving360 = "360giving"
}

/// How one export runs: settings that override the programme's for this run, and the moment written as the
/// generation time.
///
/// ```swift
/// var options = ExportOptions()
/// options.overrides.sieCostAccount = "6994"     // this run only; the programme's settings stay as they are
/// options.overrides.accrual = true
/// try await service.reports.disbursements(ReportFilter(programme: "Kommunala partnerskap"), format: .sie, options: options, to: output)
/// ```
public struct ExportOptions: Sendable, Equatable {
    /// Settings put over the programme's stored ones for this export; a field set here wins.
    public var overrides: ProgrammeSettings
    /// SIE: the object dimension the grant reference is booked on (6 = projekt).
    public var dimension: Int = 6
    /// The moment written into generation-time fields (SIE `#GEN`, IATI `generated-datetime`, xlsx document
    /// properties). By default `SOURCE_DATE_EPOCH` when it is set (reproducible output), else now.
    public var generatedAt: Date
    /// SIE: kronor per unit of the programme's currency by business date, for a programme not in SEK (without
    /// them such a programme is refused).
    public var rates: ExchangeRates?

    public init(overrides: ProgrammeSettings = ProgrammeSettings(), generatedAt: Date? = nil) {
        self.overrides = overrides
        self.generatedAt = generatedAt ?? Self.defaultGenerationTime()
    }

    /// `SOURCE_DATE_EPOCH` (seconds since 1970, as reproducible-builds.org defines it) when set and valid, else now.
    public static func defaultGenerationTime(environment: [String: String] = ProcessInfo.processInfo.environment) -> Date {
        if let text = environment["SOURCE_DATE_EPOCH"], let seconds = Int64(text), seconds >= 0 {
            return Date(timeIntervalSince1970: TimeInterval(seconds))
        }
        return Date()
    }
}

/// What a writer is handed: the programme's settings with the run's overrides, and the run's options.
package struct ExportSettings: Sendable {
    package let programme: String
    package let settings: ProgrammeSettings
    package let dimension: Int
    package let generatedAt: Date
    package let rates: ExchangeRates?

    package init(
        programme: String, settings: ProgrammeSettings, dimension: Int = 6, generatedAt: Date, rates: ExchangeRates? = nil
    ) {
        self.programme = programme
        self.settings = settings
        self.dimension = dimension
        self.generatedAt = generatedAt
        self.rates = rates
    }
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

extension GrantsError {
    /// An export whose format cannot be empty (IATI, 360Giving) found nothing to write: invalid input (exit 65),
    /// naming what the filter selected, before anything is written.
    ///
    /// ```swift
    /// GrantsError.nothingToExport(format: .iati, scope: "round 2030:1", why: "an IATI file holds at least one activity")
    /// ```
    package static func nothingToExport(format: DisbursementFormat, scope: String, why: String) -> GrantsError {
        .invalidInput([Problem("filter", "nothing to export: no grants in \(scope), and \(why)")])
    }
}
