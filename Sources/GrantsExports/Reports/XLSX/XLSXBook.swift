import Foundation
import GrantsCore

/// An Office Open XML workbook (ECMA-376, SpreadsheetML) written front to back: the fixed parts first, then each
/// sheet as its rows come, then the workbook part (which names each sheet's filter range, known only at the end),
/// then the ZIP's central directory. Nothing is kept but the row being written, so memory stays flat however many
/// rows a sheet has, and nothing is staged in a file.
///
/// Every sheet has a bold header row, frozen, with a filter over the header and the rows; cells are typed: text
/// (inline strings, never formulas), whole numbers, amounts shown with two decimals, dates.
final class XLSXBook {
    private let zip: ZipStream
    private let sheetNames: [String]
    private var written: [(name: String, columns: Int, rows: Int)] = []

    /// The style index of each kind of cell (the order of `cellXfs` in the styles part).
    enum Style: Int {
        case plain = 0
        case header, amount, date, integer
    }

    /// Starts the workbook: `sheetNames` are all its sheets, in order, each at most 31 characters and without
    /// `[ ] : * ? / \`.
    init(output: ReportOutput, title: String, created: Date, sheetNames: [String]) throws(GrantsError) {
        for name in sheetNames {
            guard !name.isEmpty, name.count <= 31, !name.contains(where: { "[]:*?/\\".contains($0) }), name.first != "'" else {
                throw Self.failure("'\(name)' cannot name a sheet")
            }
        }
        guard Set(sheetNames.map { $0.lowercased() }).count == sheetNames.count else { throw Self.failure("two sheets with one name") }
        zip = ZipStream(output: output, modified: created)
        self.sheetNames = sheetNames
        try part("[Content_Types].xml", Self.contentTypes(sheets: sheetNames.count))
        try part("_rels/.rels", Self.packageRelationships)
        try part("docProps/app.xml", Self.application(sheetNames))
        try part("docProps/core.xml", Self.core(title: title, created: created))
        try part("xl/_rels/workbook.xml.rels", Self.workbookRelationships(sheets: sheetNames.count))
        try part("xl/styles.xml", Self.styles)
    }

    /// Starts the next sheet with its header: column names and widths (in characters).
    func sheet(columns: [(name: String, width: Double)]) throws(GrantsError) -> XLSXSheetWriter {
        let index = written.count
        guard index < sheetNames.count else { throw Self.failure("more sheets than were named") }
        try zip.begin("xl/worksheets/sheet\(index + 1).xml", large: true)
        var head = Self.declaration
        head += "<worksheet xmlns=\"\(Self.main)\" xmlns:r=\"\(Self.relationships)\">"
        head += "<sheetViews><sheetView \(index == 0 ? "tabSelected=\"1\" " : "")workbookViewId=\"0\">"
        head += "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"
        head += "<selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/></sheetView></sheetViews>"
        head += "<sheetFormatPr defaultRowHeight=\"15\"/>"
        if !columns.isEmpty {
            head += "<cols>"
            for (i, column) in columns.enumerated() {
                head += "<col min=\"\(i + 1)\" max=\"\(i + 1)\" width=\"\(column.width)\" customWidth=\"1\"/>"
            }
            head += "</cols>"
        }
        head += "<sheetData>"
        try zip.write(head)
        let sheet = XLSXSheetWriter(zip: zip, columns: columns.count)
        sheet.beginRow()
        for (i, column) in columns.enumerated() { sheet.text(i, column.name, style: .header) }
        try sheet.endRow()
        return sheet
    }

    /// Ends the sheet `sheet` began: its filter over the header and every row.
    func end(_ sheet: XLSXSheetWriter) throws(GrantsError) {
        try sheet.flush()
        let index = written.count
        var tail = "</sheetData>"
        if sheet.columns > 0 { tail += "<autoFilter ref=\"\(Self.range(columns: sheet.columns, rows: sheet.rows))\"/>" }
        tail += "<pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></worksheet>"
        try zip.write(tail)
        try zip.end()
        written.append((sheetNames[index], sheet.columns, sheet.rows))
    }

    /// Ends the workbook: its workbook part and the ZIP's directory. Every named sheet must have been written.
    func finish() throws(GrantsError) {
        guard written.count == sheetNames.count else { throw Self.failure("\(sheetNames.count - written.count) sheets not written") }
        var book = Self.declaration
        book += "<workbook xmlns=\"\(Self.main)\" xmlns:r=\"\(Self.relationships)\">"
        book += "<workbookPr/><bookViews><workbookView/></bookViews><sheets>"
        for (i, sheet) in written.enumerated() {
            book += "<sheet name=\"\(Self.escaped(sheet.name))\" sheetId=\"\(i + 1)\" r:id=\"rId\(i + 1)\"/>"
        }
        book += "</sheets><definedNames>"
        // Excel keeps a sheet's filter range under this hidden name too.
        for (i, sheet) in written.enumerated() where sheet.columns > 0 {
            let quoted = "'" + sheet.name.replacingOccurrences(of: "'", with: "''") + "'"
            book += "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"\(i)\" hidden=\"1\">"
            book += Self.escaped("\(quoted)!\(Self.range(columns: sheet.columns, rows: sheet.rows, absolute: true))")
            book += "</definedName>"
        }
        book += "</definedNames><calcPr calcId=\"124519\" fullCalcOnLoad=\"1\"/></workbook>"
        try part("xl/workbook.xml", book)
        try zip.finish()
    }

    private func part(_ name: String, _ text: String) throws(GrantsError) {
        try zip.begin(name)
        try zip.write(text)
        try zip.end()
    }

    /// A1:O1001 for 15 columns and 1 000 rows under the header; `absolute`: $A$1:$O$1001.
    static func range(columns: Int, rows: Int, absolute: Bool = false) -> String {
        let d = absolute ? "$" : ""
        return "\(d)A\(d)1:\(d)\(String(decoding: XLSXSheetWriter.columnName(columns - 1), as: UTF8.self))\(d)\(rows + 1)"
    }

    /// Text for an attribute value or an element of the package's own parts (sheet names, the title).
    static func escaped(_ text: String) -> String {
        var out: [UInt8] = []
        XLSXSheetWriter.appendEscaped(text, to: &out)
        return String(decoding: out, as: UTF8.self).replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func failure(_ message: String) -> GrantsError { .internalError(sqlState: nil, message: "xlsx: \(message)") }

    static let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    static let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    static let relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    static func contentTypes(sheets: Int) -> String {
        var text = declaration + "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
        text += "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
        text += "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
        text +=
            "<Override PartName=\"/docProps/app.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/>"
        text += "<Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>"
        text +=
            "<Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>"
        text +=
            "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
        for i in 0..<sheets {
            text += "<Override PartName=\"/xl/worksheets/sheet\(i + 1).xml\" "
            text += "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        }
        return text + "</Types>"
    }

    static let packageRelationships =
        declaration + "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        + "<Relationship Id=\"rId1\" Type=\"\(relationships)/officeDocument\" Target=\"xl/workbook.xml\"/>"
        + "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>"
        + "<Relationship Id=\"rId3\" Type=\"\(relationships)/extended-properties\" Target=\"docProps/app.xml\"/>"
        + "</Relationships>"

    static func workbookRelationships(sheets: Int) -> String {
        var text = declaration + "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        for i in 0..<sheets {
            text += "<Relationship Id=\"rId\(i + 1)\" Type=\"\(relationships)/worksheet\" Target=\"worksheets/sheet\(i + 1).xml\"/>"
        }
        text += "<Relationship Id=\"rId\(sheets + 1)\" Type=\"\(relationships)/styles\" Target=\"styles.xml\"/>"
        return text + "</Relationships>"
    }

    static func application(_ sheets: [String]) -> String {
        var text = declaration
        text += "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" "
        text += "xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">"
        text += "<Application>grants-admin</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
        text += "<HeadingPairs><vt:vector size=\"2\" baseType=\"variant\"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant>"
        text += "<vt:variant><vt:i4>\(sheets.count)</vt:i4></vt:variant></vt:vector></HeadingPairs>"
        text += "<TitlesOfParts><vt:vector size=\"\(sheets.count)\" baseType=\"lpstr\">"
        for name in sheets { text += "<vt:lpstr>\(escaped(name))</vt:lpstr>" }
        text += "</vt:vector></TitlesOfParts></Properties>"
        return text
    }

    static func core(title: String, created: Date) -> String {
        var seconds = time_t(created.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let stamp = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        var text = declaration
        text += "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
        text += "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" "
        text += "xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        text += "<dc:title>\(escaped(title))</dc:title><dc:creator>grants-admin</dc:creator>"
        text += "<dcterms:created xsi:type=\"dcterms:W3CDTF\">\(stamp)</dcterms:created>"
        text += "<dcterms:modified xsi:type=\"dcterms:W3CDTF\">\(stamp)</dcterms:modified>"
        return text + "</cp:coreProperties>"
    }

    /// Cell formats in the order of ``Style``: plain; bold (the header); "0.00" (built-in format 2); the date
    /// format; "0" (built-in format 1).
    static let styles =
        declaration + "<styleSheet xmlns=\"\(main)\">"
        + "<numFmts count=\"1\"><numFmt numFmtId=\"164\" formatCode=\"yyyy-mm-dd\"/></numFmts>"
        + "<fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>"
        + "<font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>"
        + "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>"
        + "<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"
        + "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>"
        + "<cellXfs count=\"5\">"
        + "<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>"
        + "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>"
        + "<xf numFmtId=\"2\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>"
        + "<xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>"
        + "<xf numFmtId=\"1\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>"
        + "</cellXfs><cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>"
        + "<dxfs count=\"0\"/><tableStyles count=\"0\"/></styleSheet>"
}

/// The rows of one sheet, written as SpreadsheetML into the sheet's ZIP entry in chunks of about 64 KiB.
final class XLSXSheetWriter {
    private let zip: ZipStream
    let columns: Int
    /// Rows below the header written so far.
    private(set) var rows = 0
    // Written only from the one thread the export runs on, a few times per cell: without the runtime's
    // exclusivity check on each access (about a tenth of a large export's time).
    @exclusivity(unchecked) private var buffer: [UInt8] = []
    @exclusivity(unchecked) private var rowNumber: [UInt8] = []
    private let names: [[UInt8]]
    /// A sheet holds 1 048 576 rows, the header's included.
    static let maximumRows = 1_048_575

    fileprivate init(zip: ZipStream, columns: Int) {
        self.zip = zip
        self.columns = columns
        names = (0..<max(columns, 1)).map(Self.columnName)
        buffer.reserveCapacity(1 << 17)
        rows = -1  // the header's row comes first
    }

    /// A, B, …, Z, AA, … for column 0, 1, ….
    static func columnName(_ index: Int) -> [UInt8] {
        var name: [UInt8] = []
        var n = index + 1
        while n > 0 {
            let digit = (n - 1) % 26
            name.insert(UInt8(ascii: "A") + UInt8(digit), at: 0)
            n = (n - 1) / 26
        }
        return name
    }

    /// Starts the next row.
    func beginRow() {
        rows += 1
        rowNumber.removeAll(keepingCapacity: true)
        Bytes.appendDecimal(UInt64(rows + 1), to: &rowNumber)
        buffer += Self.rowOpen
        buffer += rowNumber
        buffer += Self.close
    }

    /// Ends the row; refuses one more than a sheet holds.
    func endRow() throws(GrantsError) {
        guard rows <= Self.maximumRows else {
            throw XLSXBook.failure("more rows than a sheet holds (1 048 575 below the header)")
        }
        buffer += Self.rowEnd
        if buffer.count >= 1 << 16 { try flush() }
    }

    func flush() throws(GrantsError) {
        try zip.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// A text cell; nothing for nil or empty text.
    func text(_ column: Int, _ value: String?, style: XLSXBook.Style = .plain) {
        guard let value, !value.isEmpty else { return }
        open(column, style: style, type: Self.inline)
        let first = value.utf8.first!
        let last = value.utf8.last!
        let spaced = first == 0x20 || first == 0x09 || first == 0x0A || last == 0x20 || last == 0x09 || last == 0x0A
        buffer += spaced ? Self.textOpenPreserved : Self.textOpen
        Self.appendEscaped(value, to: &buffer)
        buffer += Self.textClose
    }

    /// A whole number shown without decimals.
    func integer(_ column: Int, _ value: Int64?) {
        guard let value else { return }
        open(column, style: .integer, type: nil)
        Bytes.appendInteger(value, to: &buffer)
        buffer += Self.valueClose
    }

    /// An amount shown with two decimals: the minor units written out exactly (-1234.50 for -123 450 öre).
    func amount(_ column: Int, _ value: Money?) {
        guard let value else { return }
        open(column, style: .amount, type: nil)
        Bytes.appendAmount(value.minorUnits, separator: UInt8(ascii: "."), to: &buffer)
        buffer += Self.valueClose
    }

    /// A date, as the spreadsheet's day number with the date format; a date before 1900 (which spreadsheets cannot
    /// show as a date) as its ISO text.
    func date(_ column: Int, _ value: CalendarDate?) {
        guard let value else { return }
        guard let serial = Self.serial(value) else { return text(column, value.description) }
        open(column, style: .date, type: nil)
        Bytes.appendDecimal(UInt64(serial), to: &buffer)
        buffer += Self.valueClose
    }

    /// The 1900 date system's day number: 1 is 1900-01-01, and Lotus 1-2-3's 1900-02-29 (serial 60) is counted,
    /// so from 1900-03-01 on it is the days since 1899-12-30.
    static func serial(_ date: CalendarDate) -> Int? {
        guard date.year >= 1900 else { return nil }
        let days = daysFromCivil(date.year, date.month, date.day) - daysFromCivil(1899, 12, 30)
        return date.year == 1900 && date.month <= 2 ? days - 1 : days
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private func open(_ column: Int, style: XLSXBook.Style, type: [UInt8]?) {
        buffer += Self.cellOpen
        buffer += names[column]
        buffer += rowNumber
        buffer.append(UInt8(ascii: "\""))
        if style != .plain {
            buffer += Self.styleAttribute
            Bytes.appendDecimal(UInt64(style.rawValue), to: &buffer)
            buffer.append(UInt8(ascii: "\""))
        }
        if let type { buffer += type }
        buffer.append(UInt8(ascii: ">"))
        if type == nil { buffer += Self.valueOpen }
    }

    /// Text as XML character data: `&`, `<` and `>` escaped; characters XML cannot carry (controls other than tab
    /// and line feed, a carriage return, U+FFFE and U+FFFF) as SpreadsheetML's `_xHHHH_`, and a `_x` that would
    /// read as such an escape with its underscore escaped, so every text comes back as it was.
    static func appendEscaped(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            var plain = true
            for byte in bytes where byte < 0x20 || byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0x5F || byte == 0xEF {
                plain = false
                break
            }
            if plain { return out.append(contentsOf: bytes) }
            var i = 0
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case 0x26: out += Self.ampersand
                case 0x3C: out += Self.lessThan
                case 0x3E: out += Self.greaterThan
                case 0x09, 0x0A: out.append(byte)
                case ..<0x20: appendHexEscape(UInt16(byte), to: &out)
                case 0x5F where isEscapeLike(bytes, at: i): appendHexEscape(0x5F, to: &out)
                case 0xEF where i + 2 < bytes.count && bytes[i + 1] == 0xBF && (bytes[i + 2] == 0xBE || bytes[i + 2] == 0xBF):
                    appendHexEscape(bytes[i + 2] == 0xBE ? 0xFFFE : 0xFFFF, to: &out)
                    i += 2
                default: out.append(byte)
                }
                i += 1
            }
        }
    }

    /// Whether `_xHHHH_` starts at `i`.
    private static func isEscapeLike(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard i + 6 < bytes.count, bytes[i + 1] == UInt8(ascii: "x"), bytes[i + 6] == UInt8(ascii: "_") else { return false }
        return bytes[(i + 2)...(i + 5)].allSatisfy {
            (0x30...0x39).contains($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0)
        }
    }

    private static func appendHexEscape(_ value: UInt16, to out: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        out += [UInt8(ascii: "_"), UInt8(ascii: "x")]
        for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int(value >> UInt16(shift)) & 0xF]) }
        out.append(UInt8(ascii: "_"))
    }

    private static let rowOpen = Array("<row r=\"".utf8)
    private static let close = Array("\">".utf8)
    private static let rowEnd = Array("</row>".utf8)
    private static let cellOpen = Array("<c r=\"".utf8)
    private static let styleAttribute = Array(" s=\"".utf8)
    private static let inline = Array(" t=\"inlineStr\"".utf8)
    private static let textOpen = Array("<is><t>".utf8)
    private static let textOpenPreserved = Array("<is><t xml:space=\"preserve\">".utf8)
    private static let textClose = Array("</t></is></c>".utf8)
    private static let valueOpen = Array("<v>".utf8)
    private static let valueClose = Array("</v></c>".utf8)
    private static let ampersand = Array("&amp;".utf8)
    private static let lessThan = Array("&lt;".utf8)
    private static let greaterThan = Array("&gt;".utf8)
}
