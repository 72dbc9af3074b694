import CXLSXWriter
import Foundation
import GrantsCore

/// The disbursement rows as an Office Open XML workbook (`.xlsx`), written by libxlsxwriter in constant-memory
/// mode: one sheet with the CSV's columns, the header row frozen and filtered, amounts as numbers shown with
/// two decimals, dates as dates, everything else as text cells (never formulas). Each row leaves memory as it
/// is written, so memory stays flat however many rows.
///
/// libxlsxwriter writes a file and assembles it when the workbook closes: the workbook is built in a private
/// temporary file and then copied to the output in 64 KiB chunks, so `--output`'s rules (atomic replace) and
/// streaming to standard output or an HTTP body work as for every other format.
package struct XLSXWriter {
    package let generatedAt: Date

    package init(generatedAt: Date) { self.generatedAt = generatedAt }

    package func write(rows: RowFeed<DisbursementRow>, to output: ReportOutput) throws -> ExportStats {
        let (path, folder) = try Self.temporaryWorkbook()
        defer { unlink(path) }
        let rows = try build(at: path, folder: folder, rows: rows)
        try copy(path, to: output)
        return ExportStats(rows: rows, total: nil)
    }

    /// A new empty file for a workbook in `TMPDIR` (else /tmp), and that folder: libxlsxwriter writes a workbook
    /// to a path, and it is copied to the output from there. The caller unlinks it.
    static func temporaryWorkbook() throws(GrantsError) -> (path: String, folder: String) {
        let folder = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(folder)/grants-export-XXXXXX.xlsx".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 5) }
        guard descriptor >= 0 else {
            throw GrantsError.outputFailed("cannot create a temporary file in \(folder): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        return (String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self), folder)
    }

    /// The workbook at `path`: returns the number of data rows.
    func build(at path: String, folder: String, rows: RowFeed<DisbursementRow>) throws -> Int {
        let workbook: UnsafeMutablePointer<lxw_workbook>? = folder.withCString { tmpdir in
            var options = lxw_workbook_options(
                constant_memory: UInt8(LXW_TRUE.rawValue), tmpdir: UnsafeMutablePointer(mutating: tmpdir),
                use_zip64: UInt8(LXW_TRUE.rawValue))
            return workbook_new_opt(path, &options)
        }
        guard let workbook else { throw GrantsError.outputFailed("cannot create the workbook in \(folder)") }
        var closed = false
        defer { if !closed { _ = workbook_close(workbook) } }
        // A fixed creation time (the export's generation time) gives the same bytes for the same data.
        "grants-admin".withCString { author in
            "Disbursements".withCString { title in
                var properties = lxw_doc_properties()
                properties.title = UnsafeMutablePointer(mutating: title)
                properties.author = UnsafeMutablePointer(mutating: author)
                properties.created = time_t(generatedAt.timeIntervalSince1970.rounded(.down))
                _ = workbook_set_properties(workbook, &properties)
            }
        }
        guard let sheet = workbook_add_worksheet(workbook, "Disbursements") else { throw Self.failure("cannot add the sheet") }
        let header = workbook_add_format(workbook)
        format_set_bold(header)
        let amount = workbook_add_format(workbook)
        format_set_num_format(amount, "0.00")
        let date = workbook_add_format(workbook)
        format_set_num_format(date, "yyyy-mm-dd")
        let integer = workbook_add_format(workbook)
        format_set_num_format(integer, "0")

        let columns = DisbursementRow.columns
        let widths: [Double] = [14, 24, 10, 18, 28, 20, 36, 18, 36, 12, 12, 11, 14, 9, 24]
        for (i, width) in widths.enumerated() {
            let column = lxw_col_t(i)
            try check(worksheet_set_column(sheet, column, column, width, nil), "column widths")
        }
        for (i, name) in columns.enumerated() { try check(worksheet_write_string(sheet, 0, lxw_col_t(i), name, header), "the header") }
        worksheet_freeze_panes(sheet, 1, 0)

        var row: lxw_row_t = 0
        let count = try rows { record in
            guard row < 1_048_575 else { throw Self.failure("more rows than a sheet holds (1 048 575 below the header)") }
            row += 1
            func text(_ column: Int, _ value: String?) throws {
                guard let value, !value.isEmpty else { return }
                try check(worksheet_write_string(sheet, row, lxw_col_t(column), value, nil), "row \(row)")
            }
            func day(_ column: Int, _ value: CalendarDate?) throws {
                guard let value else { return }
                var when = lxw_datetime(year: Int32(value.year), month: Int32(value.month), day: Int32(value.day), hour: 0, min: 0, sec: 0)
                try check(worksheet_write_datetime(sheet, row, lxw_col_t(column), &when, date), "row \(row)")
            }
            if let id = record.disbursementID {
                try check(worksheet_write_number(sheet, row, 0, Double(id), integer), "row \(row)")
            }
            try text(1, record.programme)
            try text(2, record.round)
            try text(3, record.grantReference)
            try text(4, record.recipient)
            try text(5, record.recipientOrgNumber)
            try text(6, record.partners.joined(separator: "|"))
            try text(7, record.partnerCountries.joined(separator: "|"))
            try text(8, record.themes.joined(separator: "|"))
            try day(9, record.dueOn)
            try day(10, record.paidOn)
            try text(11, record.status.rawValue)
            // Exact to the öre below 2^53 öre (about 90 000 billion kronor): a double holds every such amount's
            // nearest value, which Excel shows with the two decimals of the format.
            try check(worksheet_write_number(sheet, row, 12, Double(record.amount.minorUnits) / 100, amount), "row \(row)")
            try text(13, record.amount.currency.rawValue)
            try text(14, record.paymentReference)
        }
        try check(worksheet_autofilter(sheet, 0, 0, row, lxw_col_t(columns.count - 1)), "the filter")
        closed = true
        try check(workbook_close(workbook), "the workbook")
        return count
    }

    /// Streams the finished workbook into the output.
    func copy(_ path: String, to output: ReportOutput) throws(GrantsError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw GrantsError.outputFailed("cannot read the workbook: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var chunk = [UInt8](repeating: 0, count: ReportOutput.chunk)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw GrantsError.outputFailed("cannot read the workbook: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return }
            try output.write(Array(chunk[0..<count]))
        }
    }

    func check(_ error: lxw_error, _ what: String) throws(GrantsError) {
        guard error != LXW_NO_ERROR else { return }
        let reason = lxw_strerror(error).map { String(cString: $0) } ?? "error \(error.rawValue)"
        // Creating or writing the file is an output failure (73); anything else is the library's.
        if error == LXW_ERROR_CREATING_XLSX_FILE || error == LXW_ERROR_CREATING_TMPFILE || error == LXW_ERROR_ZIP_FILE_OPERATION {
            throw GrantsError.outputFailed("cannot write the workbook (\(what)): \(reason)")
        }
        throw Self.failure("\(what): \(reason)")
    }

    static func failure(_ message: String) -> GrantsError { .internalError(sqlState: nil, message: "xlsx: \(message)") }
}
