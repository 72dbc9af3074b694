import CXLSXWriter
import Foundation
import GrantsCore

/// One typed cell of a workbook sheet: text, a whole number, an amount (shown with two decimals) or a date.
package enum XLSXCell: Sendable, Equatable {
    case text(String?)
    case integer(Int64?)
    case amount(Money?)
    case date(CalendarDate?)
}

/// One sheet of a workbook: its name, its header (column names and widths) and its rows.
package struct XLSXSheet: Sendable {
    package let name: String
    package let columns: [(name: String, width: Double)]
    package let rows: [[XLSXCell]]

    package init(name: String, columns: [(name: String, width: Double)], rows: [[XLSXCell]]) {
        self.name = name
        self.columns = columns
        self.rows = rows
    }
}

extension XLSXWriter {
    /// Small tables (a reconciliation, a summary) as a workbook of one sheet each: the header bold, frozen and
    /// filtered; numbers, amounts and dates typed; text as text cells (never formulas).
    package func write(title: String, sheets: [XLSXSheet], to output: ReportOutput) throws(GrantsError) {
        let (path, folder) = try Self.temporaryWorkbook()
        defer { unlink(path) }
        guard let workbook = workbook_new(path) else { throw GrantsError.outputFailed("cannot create the workbook in \(folder)") }
        var closed = false
        defer { if !closed { _ = workbook_close(workbook) } }
        "grants-admin".withCString { author in
            title.withCString { title in
                var properties = lxw_doc_properties()
                properties.title = UnsafeMutablePointer(mutating: title)
                properties.author = UnsafeMutablePointer(mutating: author)
                properties.created = time_t(generatedAt.timeIntervalSince1970.rounded(.down))
                _ = workbook_set_properties(workbook, &properties)
            }
        }
        let header = workbook_add_format(workbook)
        format_set_bold(header)
        let amount = workbook_add_format(workbook)
        format_set_num_format(amount, "0.00")
        let date = workbook_add_format(workbook)
        format_set_num_format(date, "yyyy-mm-dd")
        let integer = workbook_add_format(workbook)
        format_set_num_format(integer, "0")
        for table in sheets {
            guard let sheet = workbook_add_worksheet(workbook, table.name) else { throw Self.failure("cannot add the sheet \(table.name)") }
            for (i, column) in table.columns.enumerated() {
                let c = lxw_col_t(i)
                try check(worksheet_set_column(sheet, c, c, column.width, nil), "column widths")
                try check(worksheet_write_string(sheet, 0, c, column.name, header), "the header")
            }
            worksheet_freeze_panes(sheet, 1, 0)
            var row: lxw_row_t = 0
            for cells in table.rows {
                row += 1
                for (i, cell) in cells.enumerated() {
                    let c = lxw_col_t(i)
                    switch cell {
                    case .text(let value?) where !value.isEmpty:
                        try check(worksheet_write_string(sheet, row, c, value, nil), "row \(row)")
                    case .integer(let value?):
                        try check(worksheet_write_number(sheet, row, c, Double(value), integer), "row \(row)")
                    case .amount(let value?):
                        try check(worksheet_write_number(sheet, row, c, Double(value.minorUnits) / 100, amount), "row \(row)")
                    case .date(let value?):
                        var when = lxw_datetime(
                            year: Int32(value.year), month: Int32(value.month), day: Int32(value.day), hour: 0, min: 0, sec: 0)
                        try check(worksheet_write_datetime(sheet, row, c, &when, date), "row \(row)")
                    default:
                        break
                    }
                }
            }
            try check(worksheet_autofilter(sheet, 0, 0, row, lxw_col_t(max(table.columns.count - 1, 0))), "the filter")
        }
        closed = true
        try check(workbook_close(workbook), "the workbook")
        try copy(path, to: output)
    }
}
