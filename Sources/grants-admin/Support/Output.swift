import Foundation
import Grants

/// Aligned tables for people, stable JSON for scripts.
enum Output {
    /// Columns padded to their widest cell; columns named in `right` are right-aligned (amounts).
    ///
    /// Widths are counted in characters, once per cell, and the lines are written as UTF-8 into one buffer:
    /// a round's table has tens of thousands of cells.
    static func table(_ header: [String], _ rows: [[String]], right: Set<Int> = []) -> String {
        guard !rows.isEmpty else { return "(none)\n" }
        let lines = [header] + rows
        let counts = lines.map { $0.map(\.count) }
        var widths = counts[0]
        for row in counts.dropFirst() {
            for (i, count) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], count) }
        }
        var text: [UInt8] = []
        text.reserveCapacity(lines.count * (widths.reduce(0, +) + 2 * widths.count + 1))
        func pad(_ count: Int, with byte: UInt8 = UInt8(ascii: " ")) {
            text.append(contentsOf: repeatElement(byte, count: max(0, count)))
        }
        func line(_ cells: [String], counts: [Int]) {
            for (i, cell) in cells.enumerated() {
                if i > 0 { pad(2) }
                let padding = widths[i] - counts[i]
                if right.contains(i) {
                    pad(padding)
                    text.append(contentsOf: cell.utf8)
                } else {
                    text.append(contentsOf: cell.utf8)
                    if i < cells.count - 1 { pad(padding) }
                }
            }
            text.append(UInt8(ascii: "\n"))
        }
        line(header, counts: counts[0])
        for (i, width) in widths.enumerated() {
            if i > 0 { pad(2) }
            pad(width, with: UInt8(ascii: "-"))
        }
        text.append(UInt8(ascii: "\n"))
        for (row, counts) in zip(rows, counts.dropFirst()) { line(row, counts: counts) }
        return String(decoding: text, as: UTF8.self)
    }

    /// One RFC 4180 line (CRLF), quoting the cells that need it.
    static func csvLine(_ cells: [String]) -> String {
        cells.map { cell in
            cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
        }.joined(separator: ",") + "\r\n"
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    /// Where `--output FILE` sends an export: `-` (or no flag) is standard output, anything else a file written
    /// atomically that keeps an existing file's mode and owner and refuses what is not a regular file.
    static func destination(_ path: String?) throws -> ReportOutput {
        guard let path, path != "-" else { return .standardOutput() }
        return try .file(at: path)
    }

    /// Bare ids, one a line (nothing at all when there are none): what `--format ids` prints for scripts.
    static func ids(_ ids: [Int64]) {
        FileHandle.standardOutput.write(Data(ids.map { "\($0)\n" }.joined().utf8))
    }

    static func print<T: Encodable>(_ value: T, format: IDListFormat, ids: [Int64], text: () -> String) throws {
        switch format {
        case .json: Terminal.print(try json(value))
        case .text: Terminal.print(text())
        case .ids: Self.ids(ids)
        }
    }

    static func print<T: Encodable>(_ value: T, format: ListFormat, text: () -> String) throws {
        switch format {
        case .json: Terminal.print(try json(value))
        case .text: Terminal.print(text())
        }
    }
}

extension Money {
    /// Amounts in tables: Swedish grouping for SEK, the code otherwise.
    var display: String {
        var scalars = String.UnicodeScalarView()
        for scalar in swedish.unicodeScalars { scalars.append(scalar == "\u{00A0}" ? " " : scalar) }
        return String(scalars)
    }
}
