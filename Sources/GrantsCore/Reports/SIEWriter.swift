import Foundation

/// One booking the SIE export turns into a voucher: a decision, an amendment, a payment, a reversal, a
/// repayment or a closing of one grant, on its date.
package struct LedgerEntry: Sendable, Equatable {
    /// What is booked. `repayment` is money the grantee paid back against its settlement's claim.
    package enum Kind: String, Sendable {
        case award, amendment, payment, reversal, repayment, closing
    }
    package let kind: Kind
    package let date: CalendarDate
    package let grantReference: String
    package let recipient: String
    /// Signed as the event moves money: an award, a payment and a repayment received are positive; a
    /// decreasing amendment and a reversal negative; a closing carries the unspent award it gives back (positive).
    package let amount: Money

    package init(kind: Kind, date: CalendarDate, grantReference: String, recipient: String, amount: Money) {
        self.kind = kind
        self.date = date
        self.grantReference = grantReference
        self.recipient = recipient
        self.amount = amount
    }
}

/// SIE 4I: one voucher per booking, in CP437, with `#KSUMMA`.
///
/// Without accrual a payment debits the cost account on the grant's project object and credits the bank; a
/// reversal books the opposite. With accrual the decision is booked on its date (cost against the
/// programme's liability account), an amendment moves both by its change on its date, a payment clears the
/// liability against the bank, and a closing gives the unspent award back (liability against cost), so the
/// liability of a closed grant is zero.
///
/// A repayment is the payment the other way round: the bank is debited and the cost account credited on the
/// grant's object, on the day the money came in, so the grant's net cost is paid − repaid. With accrual too it
/// books against cost, not the liability: the liability is the award not yet paid out, and money coming back
/// does not make the programme owe the grantee more (nor, once the grant is closed and its liability cleared,
/// leave a credit on it). The settlement's claim itself is not booked (no receivable): a claim written off at
/// closing needs no voucher, since the cost already stands at what was paid and not repaid. So with accrual,
/// cost + liability on a grant's object is paid − repaid too, and after closing the liability is zero and the
/// cost is paid − repaid. Vouchers balance by construction and are checked before they are written.
package struct SIEWriter {
    package let export: ExportSettings

    package init(export: ExportSettings) { self.export = export }

    enum Field {
        case bare(String)
        case text(String)
        case objects([(dimension: Int, object: String)])
    }

    /// The transactions of a voucher: (account, amount, booked on the grant's object).
    package func lines(for entry: LedgerEntry) throws -> [(account: String, amount: Money, onObject: Bool)] {
        let settings = export.settings
        let cost = settings.costAccount
        let bank = settings.bankAccount
        let amount = entry.amount
        let negated = try amount.negated
        guard settings.accrues else {
            switch entry.kind {
            case .payment, .reversal: return [(cost, amount, true), (bank, negated, false)]
            case .repayment: return [(bank, amount, false), (cost, negated, true)]
            case .award, .amendment, .closing: return []
            }
        }
        let liability = settings.sieLiabilityAccount ?? ""
        switch entry.kind {
        case .award, .amendment: return [(cost, amount, true), (liability, negated, true)]
        case .payment, .reversal: return [(liability, amount, true), (bank, negated, false)]
        case .repayment: return [(bank, amount, false), (cost, negated, true)]
        case .closing: return [(liability, amount, true), (cost, negated, true)]
        }
    }

    /// `objects` are the grants the vouchers book on (declared first, as SIE wants); `entries` come in date order.
    package func write(
        objects: [(reference: String, title: String)], entries: RowFeed<LedgerEntry>, to output: ReportOutput
    ) throws -> ExportStats {
        let settings = export.settings
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

        let dimension = export.dimension
        try record("#FLAGGA", [.bare("0")], checksum: false)
        try record("#KSUMMA", [], checksum: false)
        try record("#PROGRAM", [.text("grants-admin"), .bare("1.0")])
        try record("#FORMAT", [.bare("PC8")])
        try record("#GEN", [.bare(CalendarDate.from(export.generatedAt).compact)])
        try record("#SIETYP", [.bare("4")])
        try record("#FNAMN", [.text(settings.iatiPublisherName ?? export.programme)])
        if let number = settings.publisherOrgNumber { try record("#ORGNR", [.bare(number)]) }
        // BAS names for the BAS defaults; an organisation's own accounts keep the names its own plan gives them.
        if settings.sieCostAccount == nil { try record("#KONTO", [.bare("6993"), .text("Lämnade bidrag och gåvor")]) }
        if settings.sieBankAccount == nil { try record("#KONTO", [.bare("1930"), .text("Företagskonto/checkkonto/affärskonto")]) }
        try record("#DIM", [.bare(String(dimension)), .text(dimension == 6 ? "Projekt" : "Dimension \(dimension)")])
        // Every object a voucher uses is declared first: one small pass over the grants involved.
        for object in objects {
            try record("#OBJEKT", [.bare(String(dimension)), .text(object.reference), .text(object.title)])
        }
        var vouchers = 0
        _ = try entries { entry in
            let lines = try lines(for: entry)
            guard !lines.isEmpty, entry.amount.minorUnits != 0 else { return }
            let sum = try lines.reduce(Money(minorUnits: 0, currency: entry.amount.currency)) { try $0 + $1.amount }
            guard sum.minorUnits == 0 else {
                throw GrantsError.internalError(sqlState: nil, message: "SIE voucher for \(entry.grantReference) does not balance")
            }
            let what =
                switch entry.kind {
                case .award: "Beslut"
                case .amendment: "Ändring"
                case .payment: "Bidrag"
                case .reversal: "Återföring"
                case .repayment: "Återbetalning"
                case .closing: "Avslut"
                }
            try record(
                "#VER",
                [
                    .text(settings.sieSeries ?? ""), .text(""), .bare(entry.date.compact),
                    .text("\(what) \(entry.grantReference) \(entry.recipient)"),
                ])
            try output.write([UInt8(ascii: "{"), 10])
            for line in lines {
                try record(
                    "#TRANS",
                    [.bare(line.account), .objects(line.onObject ? [(dimension, entry.grantReference)] : []), .bare(line.amount.plain)])
            }
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
