import Foundation
import PGClient

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
    ///
    /// `sie`, `iati` and `360giving` use the settings of the programme the filter names (its round's, or every
    /// programme when they share their settings), with `options.overrides` put over them; a setting they need that is missing, or a
    /// value that is not valid, is `GrantsError.invalidInput` naming it, before anything is written. The
    /// open-data formats describe whole grants: `from`/`to` select the grants with an event dated in the period
    /// (decision, amendment, payment, reversal, cancellation, settlement, repayment, closing), each written whole as
    /// of the cut, so a period never publishes part of an activity; `status` is refused for them. `sie` books every
    /// event of its period, so `status` is refused for it too, and so is a programme whose currency is not SEK.
    /// `from`/`to` select by business date in every format (see `ReportFilter`); with `filter.asOf` and
    /// `filter.knownAt` every format reads the books at the same cut. With `filter.knownAt`, that moment is the
    /// generation time written into the file (SIE `#GEN`, IATI, 360Giving, xlsx), so the export gives the same
    /// bytes however much is recorded later; without it, `options.generatedAt`.
    /// A filter naming a programme or round that is not recorded is `GrantsError.invalidInput`, thrown
    /// before the first byte.
    /// With a replica configured, the export reads from it once it has caught up with the primary (see
    /// ``GrantsConfiguration/replica``); it is one read-only snapshot either way.
    @discardableResult
    public func disbursements(
        _ filter: ReportFilter, format: DisbursementFormat, options: ExportOptions = ExportOptions(), to output: ReportOutput
    ) async throws(GrantsError) -> ExportStats {
        if format == .iati || format == .giving360 {
            var problems: [Problem] = []
            if filter.status != nil {
                problems.append(Problem("status", "the \(format.rawValue) export describes whole grants: it takes no status"))
            }
            guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        }
        if format == .sie, filter.status != nil {
            throw GrantsError.invalidInput([
                Problem(
                    "status",
                    "the sie export books every event of its period (payments, reversals, repayments, and with accrual the rest): it takes no status"
                )
            ])
        }
        var run = options
        if let knownAt = filter.knownAt { run.generatedAt = knownAt }
        let options = run
        return try await service.export("grants.reports.disbursements") { connection in
            try Filters.check(connection, programme: filter.programme, round: filter.round)
            let stats: ExportStats
            switch format {
            case .csv, .csvExcel: stats = try Self.tabular(connection, filter, excel: format == .csvExcel, output)
            case .json: stats = try Self.json(connection, filter, output)
            case .xlsx:
                stats = try XLSXWriter(generatedAt: options.generatedAt).write(
                    rows: Self.feed(connection, DisbursementRow.query(filter)), to: output)
            case .sie:
                let export = try Self.settings(connection, filter, format: format, options: options)
                let accrual = export.settings.accrues
                try Self.checkRates(connection, filter, accrual: accrual, rates: options.rates)
                let objects = try connection.query(LedgerEntry.objects(filter, accrual: accrual)).map {
                    (reference: try $0.decode(String.self, column: 0), title: try $0.decode(String.self, column: 1))
                }
                stats = try SIEWriter(export: export).write(
                    objects: objects,
                    entries: { each in
                        try connection.forEachRow(LedgerEntry.query(filter, accrual: accrual)) { try each(LedgerEntry.decode($0)) }
                    }, to: output)
            case .iati:
                let export = try Self.settings(connection, filter, format: format, options: options)
                stats = try IATIWriter(export: export).write(
                    grants: Self.activities(connection, filter), scope: Self.scope(filter), to: output)
            case .giving360:
                let export = try Self.settings(connection, filter, format: format, options: options)
                stats = try Giving360Writer(export: export).write(
                    grants: Self.activities(connection, filter), scope: Self.scope(filter), to: output)
            }
            // The last partial chunk leaves from the export's own thread (a sink may block there).
            try output.flush()
            return stats
        }
    }

    /// The settings an export uses: the programme's, with the run's overrides over them, checked whole.
    static func settings(_ connection: PGConnection, _ filter: ReportFilter, format: DisbursementFormat, options: ExportOptions) throws
        -> ExportSettings
    {
        let names: [String]
        if let programme = filter.programme {
            names = try connection.query("SELECT name FROM grants.programme WHERE name = \(programme)").map { try $0.decode(column: 0) }
            if names.isEmpty { throw GrantsError.notFound(entity: "programme", key: programme) }
        } else if let round = filter.round {
            names = try connection.query(
                """
                SELECT DISTINCT p.name FROM grants.allocation_round r JOIN grants.programme p ON p.id = r.programme_id
                WHERE r.name = \(round) ORDER BY p.name
                """
            ).map { try $0.decode(column: 0) }
            if names.isEmpty { throw GrantsError.notFound(entity: "round", key: round) }
        } else {
            names = try connection.query("SELECT name FROM grants.programme ORDER BY name").map { try $0.decode(column: 0) }
        }
        // Several programmes in one export only when they share their settings (or have none): the export is
        // published under one identity, never under one programme's chosen for another's grants.
        var stored = ProgrammeSettings()
        for (i, programme) in names.enumerated() {
            let settings = try Programmes.settings(
                connection, programmeID: try Programmes.id(connection, name: programme, create: false, actor: ""))
            if i == 0 {
                stored = settings
            } else if settings != stored {
                throw GrantsError.invalidInput([
                    Problem(
                        "programme",
                        "the \(format.rawValue) export covers programmes with different settings (\(names[0]), \(programme)): name one")
                ])
            }
        }
        let name = names.count == 1 ? names[0] : names.isEmpty ? "(none recorded)" : "\(names.count) programmes"
        let settings = stored.overridden(by: options.overrides)
        let problems = settings.problems() + settings.missing(for: format, programme: name)
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return ExportSettings(
            programme: name, settings: settings, dimension: options.dimension, generatedAt: options.generatedAt, rates: options.rates)
    }

    /// SIE books in SEK: grants in one other currency need a rate for every date a voucher of theirs falls on;
    /// refused before anything is written, naming the currency or the first date without a rate.
    static func checkRates(_ connection: PGConnection, _ filter: ReportFilter, accrual: Bool, rates: ExchangeRates?) throws {
        let currencies: [String] = try connection.query(LedgerEntry.foreignCurrencies(filter)).map { try $0.decode(column: 0) }
        guard let currency = currencies.first else { return }
        guard currencies.count == 1 else {
            throw GrantsError.invalidInput([
                Problem(
                    "rate",
                    "SIE books in SEK: grants in \(currencies.joined(separator: " and ")) need one export each, with their own rates")
            ])
        }
        guard let rates else {
            throw GrantsError.invalidInput([
                Problem("rate", "SIE books in SEK: grants in \(currency) need a rate per business date (kronor per \(currency))")
            ])
        }
        let dates: [CalendarDate] = try connection.query(LedgerEntry.foreignDates(filter, accrual: accrual)).map {
            try $0.decode(column: 0)
        }
        if let missing = rates.firstMissing(dates) {
            throw GrantsError.invalidInput([Problem("rate", "no rate for \(currency) on \(missing), the date of a voucher")])
        }
    }

    /// What a filter selects, in words, for "nothing to export": `round 2030:1 of programme Kommunala partnerskap as of
    /// 2021-12-31`, or `any programme`.
    static func scope(_ filter: ReportFilter) -> String {
        var words: [String] = []
        if let round = filter.round { words.append("round \(round)") }
        if let programme = filter.programme { words.append((words.isEmpty ? "programme " : "of programme ") + programme) }
        if words.isEmpty { words.append("any programme") }
        if let asOf = filter.asOf { words.append("as of \(asOf.iso)") }
        return words.joined(separator: " ")
    }

    /// Each disbursement row the filter selects, handed to `body` one at a time on a pool thread; returns the count.
    @discardableResult
    public func forEachDisbursement(_ filter: ReportFilter, _ body: @escaping @Sendable (DisbursementRow) throws -> Void)
        async throws(GrantsError)
        -> Int
    {
        try await service.export("grants.reports.for_each_disbursement") { connection in
            try Filters.check(connection, programme: filter.programme, round: filter.round)
            var decoder = DisbursementRow.Decoder()
            return try connection.forEachRow(DisbursementRow.query(filter)) { try body(decoder.decode($0)) }
        }
    }

    /// Disbursement rows of a query, one at a time from the server.
    static func feed(_ connection: PGConnection, _ query: PGQuery) -> RowFeed<DisbursementRow> {
        { each in
            var decoder = DisbursementRow.Decoder()
            return try connection.forEachRow(query) { try each(decoder.decode($0)) }
        }
    }

    /// One row per grant with what the open-data formats need.
    static func activities(_ connection: PGConnection, _ filter: ReportFilter) -> RowFeed<GrantActivityRow> {
        { each in try connection.forEachRow(GrantActivityRow.query(filter)) { try each(GrantActivityRow.decode($0)) } }
    }

    static func tabular(_ connection: PGConnection, _ filter: ReportFilter, excel: Bool, _ output: ReportOutput) throws -> ExportStats {
        let writer = CSVWriter(excel: excel)
        try writer.header(output)
        var line: [UInt8] = []
        line.reserveCapacity(512)
        var encoder = DisbursementRow.CSVEncoder(writer)
        let rows = try connection.forEachRow(DisbursementRow.query(filter)) { row in
            try encoder.encode(row, into: &line)
            try output.write(line)
        }
        return ExportStats(rows: rows, total: nil)
    }

    static func json(_ connection: PGConnection, _ filter: ReportFilter, _ output: ReportOutput) throws -> ExportStats {
        try output.write("[")
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        var first = true
        var decoder = DisbursementRow.Decoder()
        let rows = try connection.forEachRow(DisbursementRow.query(filter)) { row in
            JSONRowWriter().row(try decoder.decode(row), first: first, into: &out)
            first = false
            try output.write(out)
        }
        try output.write(rows == 0 ? "]\n" : "\n]\n")
        return ExportStats(rows: rows, total: nil)
    }
}
