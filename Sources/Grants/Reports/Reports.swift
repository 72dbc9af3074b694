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
    /// With a replica configured, the export reads from it once it has caught up with the primary (see
    /// ``GrantsConfiguration/replica``); it is one read-only snapshot either way.
    @discardableResult
    public func disbursements(
        _ filter: ReportFilter, format: DisbursementFormat, options: ExportOptions = ExportOptions(), to output: ReportOutput
    ) async throws -> ExportStats {
        try await service.export("grants.reports.disbursements") { connection in
            let stats =
                switch format {
                case .csv, .csvExcel: try Self.tabular(connection, filter, excel: format == .csvExcel, output)
                case .json: try Self.json(connection, filter, output)
                case .sie:
                    try SIEWriter(options: options).write(
                        objects: try Self.voucherObjects(connection, filter),
                        payments: Self.feed(connection, DisbursementRow.paymentsQuery(filter)),
                        to: output)
                case .iati:
                    try IATIWriter(options: options).write(grants: Self.activities(connection, filter), to: output)
                case .giving360:
                    try Giving360Writer(options: options).write(grants: Self.activities(connection, filter), to: output)
                }
            // The last partial chunk leaves from the export's own thread (a sink may block there).
            try output.flush()
            return stats
        }
    }

    /// Each disbursement row the filter selects, handed to `body` one at a time on a pool thread; returns the count.
    @discardableResult
    public func forEachDisbursement(_ filter: ReportFilter, _ body: @escaping @Sendable (DisbursementRow) throws -> Void) async throws
        -> Int
    {
        try await service.export("grants.reports.for_each_disbursement") { connection in
            try connection.forEachRow(DisbursementRow.query(filter)) { try body(DisbursementRow.decode($0)) }
        }
    }

    /// Disbursement rows of a query, one at a time from the server.
    static func feed(_ connection: PGConnection, _ query: PGQuery) -> RowFeed<DisbursementRow> {
        { each in try connection.forEachRow(query) { try each(DisbursementRow.decode($0)) } }
    }

    /// One row per grant with what the open-data formats need.
    static func activities(_ connection: PGConnection, _ filter: ReportFilter) -> RowFeed<GrantActivityRow> {
        { each in try connection.forEachRow(GrantActivityRow.query(filter)) { try each(GrantActivityRow.decode($0)) } }
    }

    /// The grants that SIE vouchers book on, declared before the vouchers.
    static func voucherObjects(_ connection: PGConnection, _ filter: ReportFilter) throws -> [(reference: String, title: String)] {
        try connection.query(
            """
            SELECT DISTINCT g.reference, coalesce(a.title, g.reference) AS title \(DisbursementRow.from)
            WHERE \(filter.condition) AND d.status IN ('paid', 'reversal') ORDER BY g.reference
            """
        ).map { (reference: try $0.decode(column: 0), title: try $0.decode(column: 1)) }
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
