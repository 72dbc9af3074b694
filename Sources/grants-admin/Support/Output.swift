import Foundation
import Grants

/// Aligned tables for people, stable JSON for scripts.
enum Output {
    /// Columns padded to their widest cell; columns named in `right` are right-aligned (amounts).
    static func table(_ header: [String], _ rows: [[String]], right: Set<Int> = []) -> String {
        guard !rows.isEmpty else { return "(none)\n" }
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return right.contains(i) ? pad + cell : (i == cells.count - 1 ? cell : cell + pad)
            }.joined(separator: "  ")
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)).joined(separator: "\n") + "\n"
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

    static func print<T: Encodable>(_ value: T, format: ListFormat, text: () -> String) throws {
        switch format {
        case .json: Terminal.print(try json(value))
        case .text: Terminal.print(text())
        }
    }
}

extension Money {
    /// Amounts in tables: Swedish grouping for SEK, the code otherwise.
    var display: String { String(swedish.map { $0 == "\u{00A0}" ? " " : $0 }) }
}
