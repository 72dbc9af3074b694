import GrantsCore

/// Writes disbursement rows as RFC 4180 CSV (`,`, decimal point) or the Excel variant for a Swedish locale
/// (`;`, decimal comma, UTF-8 BOM). CRLF line ends. Plain CSV is verbatim (it feeds other programs, which
/// must get the data as recorded); only the Excel variant neutralises text cells a spreadsheet would run as
/// a formula (starting with `= + - @`, tab or CR) with a leading `'`. Numeric columns stay numeric.
///
/// It writes cells from bytes; the export lays a row's cells out from the server's binary row
/// (`DisbursementRow.CSVEncoder` in Grants), so no row is decoded into values only to be written out again.
package struct CSVWriter {
    package let excel: Bool
    package init(excel: Bool) { self.excel = excel }
    package var separator: UInt8 { excel ? UInt8(ascii: ";") : UInt8(ascii: ",") }

    package func header(_ output: ReportOutput) throws {
        var line: [UInt8] = excel ? [0xEF, 0xBB, 0xBF] : []
        for (i, column) in DisbursementRow.columns.enumerated() {
            if i > 0 { line.append(separator) }
            line += column.utf8
        }
        line += [13, 10]
        try output.write(line)
    }

    /// Starts a row: `line` is emptied, keeping its capacity. Its cells follow in the order of
    /// ``DisbursementRow/columns``, each after a ``separator`` but the first, then ``endRow(_:)``.
    package func startRow(_ line: inout [UInt8]) {
        line.removeAll(keepingCapacity: true)
    }

    package func endRow(_ line: inout [UInt8]) {
        line += [13, 10]
    }

    /// A text cell from its UTF-8 bytes (empty for none): in the Excel variant neutralised if a spreadsheet would
    /// read it as a formula; quoted if it must be.
    package func text(_ bytes: UnsafeRawBufferPointer?, _ line: inout [UInt8]) {
        line.append(separator)
        guard let bytes else { return }
        let quoted = needsQuotes(bytes)
        if quoted { line.append(UInt8(ascii: "\"")) }
        neutralise(bytes, &line)
        append(bytes, quoted: quoted, &line)
        if quoted { line.append(UInt8(ascii: "\"")) }
    }

    /// Texts joined by `|` as one cell, written without building the joined text: quoted as a whole if any part
    /// must be, neutralised by its first part.
    package func joined(_ values: [UnsafeRawBufferPointer], _ line: inout [UInt8]) {
        line.append(separator)
        var quoted = false
        for value in values where !quoted { quoted = needsQuotes(value) }
        if quoted { line.append(UInt8(ascii: "\"")) }
        if let first = values.first { neutralise(first, &line) }
        for i in values.indices {
            if i > 0 { line.append(UInt8(ascii: "|")) }
            append(values[i], quoted: quoted, &line)
        }
        if quoted { line.append(UInt8(ascii: "\"")) }
    }

    /// A code written as it is (a status, a currency): ASCII that needs no quotes and is never a formula.
    package func code(_ bytes: UnsafeRawBufferPointer, _ line: inout [UInt8]) {
        line.append(separator)
        line.append(contentsOf: bytes)
    }

    /// An amount in minor units, with the variant's decimal separator.
    package func amount(_ minorUnits: Int64, _ line: inout [UInt8]) {
        line.append(separator)
        Bytes.appendAmount(minorUnits, separator: excel ? UInt8(ascii: ",") : UInt8(ascii: "."), to: &line)
    }

    /// A date as `2024-01-31`, empty for none.
    package func date(_ date: CalendarDate?, _ line: inout [UInt8]) {
        line.append(separator)
        if let date { Bytes.appendISO(date, to: &line) }
    }

    /// The Excel variant's `'` before a text a spreadsheet would run as a formula.
    private func neutralise(_ value: UnsafeRawBufferPointer, _ line: inout [UInt8]) {
        guard excel, let first = value.first else { return }
        switch first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 9, 13: line.append(UInt8(ascii: "'"))
        default: break
        }
    }

    private func needsQuotes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let separator = separator
        for byte in bytes where byte == separator || byte == UInt8(ascii: "\"") || byte == 10 || byte == 13 { return true }
        return false
    }

    private func append(_ bytes: UnsafeRawBufferPointer, quoted: Bool, _ line: inout [UInt8]) {
        guard quoted else { return line.append(contentsOf: bytes) }
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { line.append(byte) }
            line.append(byte)
        }
    }
}

/// Numbers, dates and amounts written as ASCII straight into a byte buffer, without a String in between.
package enum Bytes {
    package static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 { return out.append(UInt8(ascii: "0") + UInt8(value)) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for the 20 digits of UInt64.max
        var count = 0
        var n = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while n > 0 {
                raw[23 - count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            }
            out.append(contentsOf: raw[(24 - count)...])
        }
    }

    package static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude, to: &out)
    }

    /// `2024-01-31`.
    package static func appendISO(_ date: CalendarDate, to out: inout [UInt8]) {
        func two(_ v: Int) {
            out.append(UInt8(ascii: "0") + UInt8(v / 10))
            out.append(UInt8(ascii: "0") + UInt8(v % 10))
        }
        two(date.year / 100)
        two(date.year % 100)
        out.append(UInt8(ascii: "-"))
        two(date.month)
        out.append(UInt8(ascii: "-"))
        two(date.day)
    }

    /// Minor units as `-1234.50` (or with the given decimal separator), as ``Money/plain`` writes them.
    package static func appendAmount(_ minor: Int64, separator: UInt8, to out: inout [UInt8]) {
        if minor < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = minor.magnitude
        appendDecimal(magnitude / 100, to: &out)
        out.append(separator)
        out.append(UInt8(ascii: "0") + UInt8(magnitude % 100 / 10))
        out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
    }
}

/// JSON text escaping (RFC 8259) for hand-streamed documents.
package enum JSONText {
    package static func string(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    package static func string(_ value: String) -> String {
        var out: [UInt8] = []
        string(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    package static func optional(_ value: String?, into out: inout [UInt8]) {
        if let value { string(value, into: &out) } else { out += "null".utf8 }
    }
}

/// The disbursement rows as a JSON array of objects with the CSV's column names; amounts as strings.
package struct JSONRowWriter {
    package init() {}
    package func row(_ row: DisbursementRow, first: Bool, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out += (first ? "\n  {" : ",\n  {").utf8
        func key(_ name: String) {
            JSONText.string(name, into: &out)
            out.append(UInt8(ascii: ":"))
        }
        key("disbursement_id")
        out += (row.disbursementID.map { String($0) } ?? "null").utf8
        out.append(44)
        key("programme")
        JSONText.string(row.programme, into: &out)
        out.append(44)
        key("round")
        JSONText.string(row.round, into: &out)
        out.append(44)
        key("grant_reference")
        JSONText.string(row.grantReference, into: &out)
        out.append(44)
        key("recipient")
        JSONText.string(row.recipient, into: &out)
        out.append(44)
        key("recipient_org_number")
        JSONText.optional(row.recipientOrgNumber, into: &out)
        out.append(44)
        key("partners")
        JSONText.string(row.partners.joined(separator: "|"), into: &out)
        out.append(44)
        key("partner_countries")
        JSONText.string(row.partnerCountries.joined(separator: "|"), into: &out)
        out.append(44)
        key("themes")
        JSONText.string(row.themes.joined(separator: "|"), into: &out)
        out.append(44)
        key("due_on")
        JSONText.string(row.dueOn.iso, into: &out)
        out.append(44)
        key("paid_on")
        JSONText.optional(row.paidOn?.iso, into: &out)
        out.append(44)
        key("status")
        JSONText.string(row.status.rawValue, into: &out)
        out.append(44)
        key("amount")
        JSONText.string(row.amount.plain, into: &out)
        out.append(44)
        key("currency")
        JSONText.string(row.amount.currency.rawValue, into: &out)
        out.append(44)
        key("payment_reference")
        JSONText.optional(row.paymentReference, into: &out)
        out.append(UInt8(ascii: "}"))
    }
}
