import Foundation

/// An independent SIE reader for the tests: decodes CP437, splits records into fields the way the
/// standard describes, recomputes #KSUMMA bit by bit, and collects vouchers.
struct SIEReader {
    struct Record {
        let label: String
        let fields: [String]
        let objects: [String]
        let raw: [UInt8]
    }
    struct Line {
        let account: String
        let objects: [String]
        let amount: Int64
    }
    struct Voucher {
        var lines: [Line] = []
        var sum: Int64 { lines.map(\.amount).reduce(0, +) }
    }

    var records: [Record] = []
    var vouchers: [Voucher] = []
    var checksumVerified = false
    var text = ""

    init(_ data: Data) throws {
        let cp437 = Array(
            "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{00A0}"
        )
        func decode(_ bytes: [UInt8]) -> String { String(bytes.map { $0 < 0x80 ? Character(Unicode.Scalar($0)) : cp437[Int($0) - 0x80] }) }
        text = decode(Array(data))
        var crc: UInt32 = 0xFFFF_FFFF
        var summing = false
        var current: Voucher?
        for rawLine in Array(data).split(separator: 10, omittingEmptySubsequences: true) {
            var line = Array(rawLine)
            if line.last == 13 { line.removeLast() }
            if line == [UInt8(ascii: "{")] {
                current = Voucher()
                continue
            }
            if line == [UInt8(ascii: "}")] {
                if let voucher = current { vouchers.append(voucher) }
                current = nil
                continue
            }
            let (fields, objects) = Self.fields(line)
            guard let label = fields.first else { continue }
            let record = Record(label: decode(label), fields: fields.dropFirst().map(decode), objects: objects.map(decode), raw: line)
            records.append(record)
            if record.label == "#KSUMMA" {
                if !summing && record.fields.isEmpty {
                    summing = true
                } else if let stored = record.fields.first {
                    checksumVerified = UInt32(stored) == (crc ^ 0xFFFF_FFFF)
                }
                continue
            }
            if summing {
                for byte in (fields + objects.map { $0 }).isEmpty ? [] : Self.checksumBytes(line) {
                    crc ^= UInt32(byte)
                    for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
                }
            }
            if record.label == "#TRANS", current != nil, record.fields.count >= 2 {
                let amount = record.fields.last { $0.contains(".") || Int($0) != nil } ?? "0"
                current?.lines.append(Line(account: record.fields[0], objects: record.objects, amount: Self.minor(amount)))
            }
        }
    }

    func value(_ label: String) -> [String]? { records.first { $0.label == label }?.fields }

    /// Fields separated by spaces; quoted fields with \" escapes; an object list in braces kept apart.
    static func fields(_ line: [UInt8]) -> (fields: [[UInt8]], objects: [[UInt8]]) {
        var fields: [[UInt8]] = []
        var objects: [[UInt8]] = []
        var i = 0
        var inBraces = false
        while i < line.count {
            let c = line[i]
            if c == 32 || c == 9 {
                i += 1
                continue
            }
            if c == UInt8(ascii: "{") {
                inBraces = true
                i += 1
                continue
            }
            if c == UInt8(ascii: "}") {
                inBraces = false
                i += 1
                continue
            }
            var field: [UInt8] = []
            if c == UInt8(ascii: "\"") {
                i += 1
                while i < line.count && line[i] != UInt8(ascii: "\"") {
                    if line[i] == UInt8(ascii: "\\") && i + 1 < line.count && line[i + 1] == UInt8(ascii: "\"") { i += 1 }
                    field.append(line[i])
                    i += 1
                }
                i += 1
            } else {
                while i < line.count && ![32, 9, UInt8(ascii: "{"), UInt8(ascii: "}")].contains(line[i]) {
                    field.append(line[i])
                    i += 1
                }
            }
            if inBraces { objects.append(field) } else { fields.append(field) }
        }
        return (fields, objects)
    }

    /// What #KSUMMA covers for one record: its fields' contents, in order, objects where they stand.
    static func checksumBytes(_ line: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < line.count {
            let c = line[i]
            if c == 32 || c == 9 || c == UInt8(ascii: "{") || c == UInt8(ascii: "}") {
                i += 1
                continue
            }
            if c == UInt8(ascii: "\"") {
                i += 1
                while i < line.count && line[i] != UInt8(ascii: "\"") {
                    if line[i] == UInt8(ascii: "\\") && i + 1 < line.count && line[i + 1] == UInt8(ascii: "\"") { i += 1 }
                    out.append(line[i])
                    i += 1
                }
                i += 1
            } else {
                while i < line.count && ![32, 9, UInt8(ascii: "{"), UInt8(ascii: "}")].contains(line[i]) {
                    out.append(line[i])
                    i += 1
                }
            }
        }
        return out
    }

    static func minor(_ text: String) -> Int64 {
        let negative = text.hasPrefix("-")
        let parts = text.trimmingCharacters(in: CharacterSet(charactersIn: "-")).split(separator: ".")
        let whole = Int64(parts.first ?? "0") ?? 0
        var fraction = Int64(parts.count > 1 ? String(parts[1].prefix(2)).padding(toLength: 2, withPad: "0", startingAt: 0) : "0") ?? 0
        if parts.count == 1 { fraction = 0 }
        return (negative ? -1 : 1) * (whole * 100 + fraction)
    }
}
