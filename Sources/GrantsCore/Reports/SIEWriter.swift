import Foundation

/// SIE 4I: one voucher per paid disbursement or reversal, in CP437, with `#KSUMMA`.
///
/// Each voucher debits the expense account on the grant's project object and credits the bank; a reversal
/// books the opposite. Vouchers balance to zero by construction and are checked before they are written.
package struct SIEWriter {
    package let options: ExportOptions

    package init(options: ExportOptions) { self.options = options }

    enum Field {
        case bare(String)
        case text(String)
        case objects([(dimension: Int, object: String)])
    }

    /// `objects` are the grants the vouchers book on (declared first, as SIE wants); `payments` are the paid
    /// disbursements and reversals in payment order.
    package func write(
        objects: [(reference: String, title: String)], payments: RowFeed<DisbursementRow>, to output: ReportOutput
    ) throws -> ExportStats {
        var crc = CRC32()
        func record(_ label: String, _ fields: [Field], checksum: Bool = true) throws {
            var line = Array(label.utf8)
            var summed = Array(label.utf8)
            for field in fields {
                line.append(UInt8(ascii: " "))
                switch field {
                case .bare(let value):
                    let bytes = CP437.encode(value)
                    line += bytes
                    summed += bytes
                case .text(let value):
                    let bytes = sieText(value)
                    line += quoted(bytes)
                    summed += bytes
                case .objects(let pairs):
                    line.append(UInt8(ascii: "{"))
                    for (i, pair) in pairs.enumerated() {
                        if i > 0 { line.append(UInt8(ascii: " ")) }
                        let object = sieText(pair.object)
                        line += Array(String(pair.dimension).utf8) + [UInt8(ascii: " ")] + quoted(object)
                        summed += Array(String(pair.dimension).utf8) + object
                    }
                    line.append(UInt8(ascii: "}"))
                }
            }
            line.append(10)
            if checksum { crc.update(summed) }
            try output.write(line)
        }

        try record("#FLAGGA", [.bare("0")], checksum: false)
        try record("#KSUMMA", [], checksum: false)
        try record("#PROGRAM", [.text("grants-admin"), .bare("1.0")])
        try record("#FORMAT", [.bare("PC8")])
        try record("#GEN", [.bare(CalendarDate.from(options.generatedAt).compact)])
        try record("#SIETYP", [.bare("4")])
        try record("#FNAMN", [.text(options.funderName)])
        if let number = options.funderOrgNumber { try record("#ORGNR", [.bare(number)]) }
        try record("#KONTO", [.bare(options.expenseAccount), .text(options.expenseAccountName)])
        try record("#KONTO", [.bare(options.bankAccount), .text(options.bankAccountName)])
        try record(
            "#DIM", [.bare(String(options.dimension)), .text(options.dimension == 6 ? "Projekt" : "Dimension \(options.dimension)")])
        // Every object a voucher uses is declared first: one small pass over the grants involved.
        for object in objects {
            try record("#OBJEKT", [.bare(String(options.dimension)), .text(object.reference), .text(object.title)])
        }
        var vouchers = 0
        _ = try payments { row in
            guard let paidOn = row.paidOn else { return }
            let amount = row.amount.plain
            let negated = try row.amount.negated.plain
            let what = row.status == .reversal ? "Återföring" : "Bidrag"
            try record(
                "#VER", [.text(options.series), .text(""), .bare(paidOn.compact), .text("\(what) \(row.grantReference) \(row.recipient)")])
            try output.write([UInt8(ascii: "{"), 10])
            try record("#TRANS", [.bare(options.expenseAccount), .objects([(options.dimension, row.grantReference)]), .bare(amount)])
            try record("#TRANS", [.bare(options.bankAccount), .objects([]), .bare(negated)])
            try output.write([UInt8(ascii: "}"), 10])
            vouchers += 1
        }
        try record("#KSUMMA", [.bare(String(crc.value))], checksum: false)
        return ExportStats(rows: vouchers, total: nil)
    }

    /// CP437 text; a backslash before a closing quote would read as an escaped quote, so it is written '/'.
    func sieText(_ value: String) -> [UInt8] {
        CP437.encode(value).map { $0 == UInt8(ascii: "\\") ? UInt8(ascii: "/") : $0 }
    }

    /// `"…"` with `"` written `\"`; quoting is always allowed, so every text field is quoted.
    func quoted(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
        return out
    }
}

extension CalendarDate {
    /// The UTC calendar date of an instant.
    package static func from(_ date: Date) -> CalendarDate {
        (try? CalendarDate(daysSinceEpoch: Int((date.timeIntervalSince1970 / 86_400).rounded(.down)))) ?? .today
    }
}
