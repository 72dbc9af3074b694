import GrantsExports
import PGClient

extension DisbursementRow {
    /// Writes the rows of one ``query(_:)`` result as CSV lines straight from the server's binary cells: a text is
    /// copied from where libpq keeps it (quoted or neutralised as ``CSVWriter`` says), and no `DisbursementRow`,
    /// `String` or array is made for a row. The export of 100 000 rows spent about half of its client's time
    /// making and dropping those values (see docs/performance.md). The cells are checked as the decoder checks
    /// them: a column of another type, an unknown status or a malformed currency is a decoding error.
    struct CSVEncoder {
        let writer: CSVWriter
        /// An array's elements, valid while its cell is being written; kept to reuse its storage.
        private var elements: [UnsafeRawBufferPointer] = []

        init(_ writer: CSVWriter) { self.writer = writer }

        /// `row` as one CSV line, CRLF included, in `line` (emptied first).
        mutating func encode(_ row: PGRow, into line: inout [UInt8]) throws {
            writer.startRow(&line)
            if let id = try row.decode(Int64?.self, column: 0) { Bytes.appendInteger(id, to: &line) }
            for column in 1...5 { writer.text(try row.cell(column).textBytes(), &line) }
            for column in 6...8 { try joined(row.cell(column), &line) }
            writer.date(try row.decode(CalendarDate.self, column: 9), &line)
            writer.date(try row.decode(CalendarDate?.self, column: 10), &line)
            writer.code(try status(row.cell(11)), &line)
            writer.amount(try row.decode(Int64.self, column: 12), &line)
            writer.code(try currency(row.cell(13)), &line)
            writer.text(try row.cell(14).textBytes(), &line)
            writer.endRow(&line)
        }

        /// A `text[]` cell as one cell of `|`-joined texts; a NULL array or element is an error, as it is to the
        /// decoder.
        private mutating func joined(_ cell: PGCell, _ line: inout [UInt8]) throws {
            elements.removeAll(keepingCapacity: true)
            try cell.forEachElement { element in
                guard let bytes = try element.textBytes() else { throw element.mismatch(String.self, "NULL element") }
                elements.append(bytes)
            }
            writer.joined(elements, &line)
        }

        /// A status or a currency is checked by its own type's rule; each is short enough to be a `String` held
        /// inline, without an allocation.
        private func status(_ cell: PGCell) throws -> UnsafeRawBufferPointer {
            guard let bytes = try cell.textBytes(), DisbursementStatus(rawValue: String(decoding: bytes, as: UTF8.self)) != nil else {
                throw PGError(kind: .decoding, message: "unknown disbursement status")
            }
            return bytes
        }

        private func currency(_ cell: PGCell) throws -> UnsafeRawBufferPointer {
            guard let bytes = try cell.textBytes(), Currency(rawValue: String(decoding: bytes, as: UTF8.self)) != nil else {
                throw cell.mismatch(Currency.self)
            }
            return bytes
        }
    }
}
