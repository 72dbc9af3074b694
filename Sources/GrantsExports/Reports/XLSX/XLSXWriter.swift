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

/// Workbooks (`.xlsx`): the disbursement rows as one sheet with the CSV's columns, and small tables (a
/// reconciliation, the year's summary) as a sheet each. Amounts are numbers shown with two decimals, dates are
/// dates, everything else is text (never a formula); the header row is bold, frozen and filtered.
///
/// The workbook streams into the output as it is built (``XLSXBook``): a million rows take no more memory than
/// ten, and `--output`'s rules (atomic replace) and streaming to standard output or an HTTP body work as for every
/// other format. A fixed generation time gives the same bytes for the same data.
package struct XLSXWriter {
    package let generatedAt: Date

    package init(generatedAt: Date) { self.generatedAt = generatedAt }

    static let disbursementWidths: [Double] = [14, 24, 10, 18, 28, 20, 36, 18, 36, 12, 12, 11, 14, 9, 24]

    package func write(rows: RowFeed<DisbursementRow>, to output: ReportOutput) throws -> ExportStats {
        let book = try XLSXBook(output: output, title: "Disbursements", created: generatedAt, sheetNames: ["Disbursements"])
        let sheet = try book.sheet(columns: Array(zip(DisbursementRow.columns, Self.disbursementWidths)))
        let count = try rows { record in
            sheet.beginRow()
            sheet.integer(0, record.disbursementID)
            sheet.text(1, record.programme)
            sheet.text(2, record.round)
            sheet.text(3, record.grantReference)
            sheet.text(4, record.recipient)
            sheet.text(5, record.recipientOrgNumber)
            sheet.text(6, record.partners.joined(separator: "|"))
            sheet.text(7, record.partnerCountries.joined(separator: "|"))
            sheet.text(8, record.themes.joined(separator: "|"))
            sheet.date(9, record.dueOn)
            sheet.date(10, record.paidOn)
            sheet.text(11, record.status.rawValue)
            sheet.amount(12, record.amount)
            sheet.text(13, record.amount.currency.rawValue)
            sheet.text(14, record.paymentReference)
            try sheet.endRow()
        }
        try book.end(sheet)
        try book.finish()
        return ExportStats(rows: count, total: nil)
    }

    /// Small tables as a workbook of one sheet each.
    package func write(title: String, sheets: [XLSXSheet], to output: ReportOutput) throws(GrantsError) {
        let book = try XLSXBook(output: output, title: title, created: generatedAt, sheetNames: sheets.map(\.name))
        for table in sheets {
            let sheet = try book.sheet(columns: table.columns)
            for cells in table.rows {
                sheet.beginRow()
                for (i, cell) in cells.enumerated() where i < table.columns.count {
                    switch cell {
                    case .text(let value): sheet.text(i, value)
                    case .integer(let value): sheet.integer(i, value)
                    case .amount(let value): sheet.amount(i, value)
                    case .date(let value): sheet.date(i, value)
                    }
                }
                try sheet.endRow()
            }
            try book.end(sheet)
        }
        try book.finish()
    }
}
