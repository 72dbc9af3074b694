import Foundation
import Grants
import TestSupport
import Testing

@testable import GrantsExports

/// The streamed workbook read back by independent readers: Python's zipfile checks every entry's CRC-32 and size
/// against the central directory, openpyxl reads every cell. Texts that XML or SpreadsheetML treat specially
/// come back as they were written, and the same data at the same generation time gives the same bytes.
@Suite("xlsx workbooks")
struct WorkbookTests {
    static let texts = [
        "a & b < c > d \"quoted\" 'single'", "  leading spaces", "trailing space ", "tab\there", "line\nbreak",
        "_x0041_ looks like an escape", "bell \u{7} and escape \u{1B}", "carriage\rreturn", "åäö ÅÄÖ é 😀",
        "=SUM(A1:A2)", "+46 70", "-minus", "@at", String(repeating: "lång text ", count: 500),
    ]

    static func workbook(generatedAt: Date = Date(timeIntervalSince1970: 1_700_000_000)) throws -> Data {
        let texts = XLSXSheet(
            name: "Texts", columns: [("text", 40), ("number", 10)],
            rows: texts.enumerated().map { [.text($0.element), .integer(Int64($0.offset))] })
        let values = XLSXSheet(
            name: "Värden & \"datum\" 'x'", columns: [("integer", 12), ("amount", 14), ("date", 12), ("empty", 8)],
            rows: [
                [.integer(-42), .amount(Money(minorUnits: -12_345, currency: .sek)), .date(try CalendarDate("2024-02-29")), .text(nil)],
                [.integer(0), .amount(Money(minorUnits: 5, currency: .sek)), .date(try CalendarDate("1900-03-01")), .text("")],
                [
                    .integer(9_007_199_254_740_991), .amount(Money(minorUnits: 0, currency: .sek)), .date(try CalendarDate("1900-01-01")),
                    .amount(nil),
                ],
                [
                    .integer(nil), .amount(Money(minorUnits: 100_000_000_000, currency: .sek)), .date(try CalendarDate("1899-12-31")),
                    .date(nil),
                ],
            ])
        let collected = Collected()
        let output = ReportOutput.sink { chunk in collected.append(chunk) }
        try XLSXWriter(generatedAt: generatedAt).write(title: "Prov", sheets: [texts, values], to: output)
        try output.flush()
        try output.commit()
        return collected.data
    }

    final class Collected: @unchecked Sendable {
        // @unchecked: appended to from the one thread the writer runs on, read after it has finished.
        var data = Data()
        func append(_ chunk: [UInt8]) { data.append(contentsOf: chunk) }
    }

    @Test func everyCellComesBackAsWritten() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("workbook-\(UUID().uuidString).xlsx")
        defer { try? FileManager.default.removeItem(at: file) }
        try Self.workbook().write(to: file)
        let expectedTexts = try String(decoding: JSONEncoder().encode(Self.texts), as: UTF8.self)
        let result = try Standards.python(
            #"""
            import datetime, json, sys, zipfile
            problems = []
            archive = zipfile.ZipFile(sys.argv[1])
            bad = archive.testzip()
            if bad:
                problems.append("CRC or size wrong in %s" % bad)
            import openpyxl
            book = openpyxl.load_workbook(sys.argv[1])
            if book.sheetnames != ["Texts", "Värden & \"datum\" 'x'"]:
                problems.append("sheets %r" % book.sheetnames)
            texts = book["Texts"]
            if texts.freeze_panes != "A2" or texts.auto_filter.ref != "A1:B15":
                problems.append("layout %r %r" % (texts.freeze_panes, texts.auto_filter.ref))
            if not texts["A1"].font.b or texts["A1"].value != "text":
                problems.append("header %r" % texts["A1"].value)
            got = [texts.cell(row=r, column=1).value for r in range(2, texts.max_row + 1)]
            want = json.loads(sys.argv[2])
            # Characters XML cannot carry are written as _xHHHH_, and a literal _xHHHH_ with its underscore escaped
            # (_x005F_), as ECMA-376 Part 1 §22.9.2.19 (ST_Xstring) says and Excel reads them; openpyxl decodes that
            # only in shared strings, so it is decoded here by the standard's rule.
            import re
            got = [re.sub("_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), g) if isinstance(g, str) else g for g in got]
            for i, (g, w) in enumerate(zip(got, want)):
                if g != w or texts.cell(row=i + 2, column=1).data_type != "s":
                    problems.append("text %d: %r != %r" % (i, g, w))
            if len(got) != len(want):
                problems.append("%d texts, not %d" % (len(got), len(want)))
            values = book["Värden & \"datum\" 'x'"]
            rows = [[c.value for c in row] for row in values.iter_rows(min_row=2)]
            want_rows = [
                [-42, -123.45, datetime.datetime(2024, 2, 29), None],
                [0, 0.05, datetime.datetime(1900, 3, 1), None],
                [9007199254740991, 0, datetime.datetime(1900, 1, 1), None],
                [None, 1000000000, "1899-12-31", None],
            ]
            if rows != want_rows:
                problems.append("values %r" % rows)
            formats = [values.cell(row=2, column=c).number_format for c in (1, 2, 3)]
            if formats != ["0", "0.00", "yyyy-mm-dd"]:
                problems.append("formats %r" % formats)
            print("\n".join(problems))
            """#, [file.path, expectedTexts])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(result.output)")
    }

    @Test func theSameDataGivesTheSameBytes() throws {
        #expect(try Self.workbook() == Self.workbook())
        #expect(try Self.workbook() != Self.workbook(generatedAt: Date(timeIntervalSince1970: 1_800_000_000)))
    }

    @Test func aSheetNameExcelRefusesIsRefusedBeforeAnythingIsWritten() throws {
        for name in ["", "a/b", "[x]", String(repeating: "x", count: 32), "'quoted"] {
            let collected = Collected()
            let output = ReportOutput.sink { chunk in collected.append(chunk) }
            #expect(throws: GrantsError.self) {
                try XLSXWriter(generatedAt: Date()).write(title: "t", sheets: [XLSXSheet(name: name, columns: [], rows: [])], to: output)
            }
            try output.flush()
            #expect(collected.data.isEmpty, "nothing written for \(name)")
        }
    }

    /// An entry past 4 GiB (a sheet of a million rows with long texts could be one): the ZIP64 fields are written
    /// where the sizes need them, and Python's zipfile reads the entry whole, checking its size and CRC-32.
    @Test func anEntryPast4GiBIsReadBackWhole() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("zip64-\(UUID().uuidString).zip")
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try ReportOutput.file(at: file.path)
        let zip = ZipStream(output: output, modified: Date(timeIntervalSince1970: 1_700_000_000))
        try zip.begin("small.txt")
        try zip.write("before\n")
        try zip.end()
        try zip.begin("large.bin", large: true)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        let chunks = 4096 + 3  // 4 GiB and 3 MiB
        for _ in 0..<chunks { try zip.write(chunk) }
        try zip.end()
        try zip.begin("after.txt")
        try zip.write("after\n")
        try zip.end()
        try zip.finish()
        try output.commit()
        let result = try Standards.python(
            #"""
            import sys, zipfile
            archive = zipfile.ZipFile(sys.argv[1])
            sizes = {i.filename: i.file_size for i in archive.infolist()}
            total = 0
            with archive.open("large.bin") as entry:
                while True:
                    block = entry.read(1 << 24)
                    if not block:
                        break
                    if block.strip(b"x"):
                        print("a byte other than x")
                        break
                    total += len(block)
            print(sizes["large.bin"], total, archive.read("small.txt"), archive.read("after.txt"))
            """#, [file.path])
        let size = chunks << 20
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(size) \(size) b'before\\n' b'after\\n'")
    }
}
