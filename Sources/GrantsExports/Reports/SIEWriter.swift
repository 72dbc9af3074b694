import Foundation
import GrantsCore

/// One booking the SIE export turns into a voucher: an event of one grant on its business date.
package struct LedgerEntry: Sendable, Equatable {
    /// What is booked: the decision (`award`), an `amendment`, a `payment` or its `reversal`, a settlement's
    /// `claim` on the unspent money, a `repayment` received against it, the `writeOff` of what was not collected
    /// and the `reclaim` of the award never paid out, both at closing.
    package enum Kind: String, Sendable {
        case award, amendment, payment, reversal, claim, repayment
        case writeOff = "write-off"
        case reclaim
    }
    package let kind: Kind
    package let date: CalendarDate
    package let grantReference: String
    package let recipient: String
    /// Signed as the event moves the grant's money: an award, a payment, a claim, a repayment received, a
    /// write-off and a reclaim are positive; a decreasing amendment and a reversal negative.
    package let amount: Money
    /// The bank's reference of a payment, reversal or repayment, written into the voucher text.
    package let paymentReference: String?

    package init(
        kind: Kind, date: CalendarDate, grantReference: String, recipient: String, amount: Money, paymentReference: String? = nil
    ) {
        self.kind = kind
        self.date = date
        self.grantReference = grantReference
        self.recipient = recipient
        self.amount = amount
        self.paymentReference = paymentReference
    }
}

/// SIE 4I: one voucher per booking, in CP437, with `#KSUMMA`, dated by the event's business date.
///
/// With accrual (the grant is a cost when it is decided):
///
/// | event | debit | credit | on |
/// | --- | --- | --- | --- |
/// | decision, amendment up (down: the other way) | cost | liability | `decided_on`, the amendment's date |
/// | payment (reversal: the other way) | liability | bank | `paid_on` |
/// | settlement's claim (paid − spent) | receivable | cost | `settled_on` |
/// | repayment | bank | receivable | `received_on` |
/// | write-off of the uncollected claim | cost | receivable | `closed_on` |
/// | reclaim of the award never paid out | liability | cost | `closed_on` |
///
/// So at any date the liability on a grant's object is its commitment (award ± amendments − reclaim) less its
/// net payments, the receivable is its open claim (claimed − repaid − written off), and after closing both are
/// zero and the cost is paid − repaid.
///
/// Without accrual (cash: the books move when money does) a payment debits cost and credits the bank, a
/// reversal the other way, and a repayment debits the bank and credits cost; decisions, amendments, claims,
/// write-offs and reclaims move no money and are not booked, so the cost on a grant's object is paid − repaid.
///
/// Cost and receivable are booked on the grant's object (so is the liability), the bank is not. Vouchers
/// balance by construction and are checked before they are written.
package struct SIEWriter {
    package let export: ExportSettings

    package init(export: ExportSettings) { self.export = export }

    /// Names of the BAS accounts an export may use, for `#KONTO`; an account outside this table is the
    /// organisation's own and is declared without a name, so an importing system keeps the one its plan gives it.
    static let basNames = [
        "6993": "Lämnade bidrag och gåvor", "1930": "Företagskonto/checkkonto/affärskonto",
        "2890": "Övriga kortfristiga skulder", "1689": "Övriga kortfristiga fordringar",
    ]

    /// The accounts the vouchers of this export can use, each declared with `#KONTO`.
    package var accounts: [String] {
        let settings = export.settings
        var accounts = [settings.costAccount, settings.bankAccount]
        if settings.accrues { accounts += [settings.sieLiabilityAccount ?? "", settings.receivableAccount] }
        var seen = Set<String>()
        return accounts.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

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
            case .award, .amendment, .claim, .writeOff, .reclaim: return []
            }
        }
        let liability = settings.sieLiabilityAccount ?? ""
        let receivable = settings.receivableAccount
        switch entry.kind {
        case .award, .amendment: return [(cost, amount, true), (liability, negated, true)]
        case .payment, .reversal: return [(liability, amount, true), (bank, negated, false)]
        case .claim: return [(receivable, amount, true), (cost, negated, true)]
        case .repayment: return [(bank, amount, false), (receivable, negated, true)]
        case .writeOff: return [(cost, amount, true), (receivable, negated, true)]
        case .reclaim: return [(liability, amount, true), (cost, negated, true)]
        }
    }

    /// `objects` are the grants the vouchers book on (declared first, as SIE wants); `entries` come in date order,
    /// in SEK or converted with `export.rates` (the caller refuses a currency, or a date, without a rate before
    /// anything is written).
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
        for account in accounts { try record("#KONTO", [.bare(account), .text(Self.basNames[account] ?? "")]) }
        try record("#DIM", [.bare(String(dimension)), .text(dimension == 6 ? "Projekt" : "Dimension \(dimension)")])
        // Every object a voucher uses is declared first: one small pass over the grants involved.
        for object in objects {
            try record("#OBJEKT", [.bare(String(dimension)), .text(object.reference), .text(object.title)])
        }
        var vouchers = 0
        _ = try entries { original in
            // Another currency is converted once per voucher at its date's rate, so the voucher still balances.
            var entry = original
            if original.amount.currency != .sek {
                guard let kronor = export.rates?.kronor(original.amount, on: original.date) else {
                    throw GrantsError.internalError(
                        sqlState: nil, message: "SIE voucher for \(original.grantReference) on \(original.date) has no rate")
                }
                entry = LedgerEntry(
                    kind: original.kind, date: original.date, grantReference: original.grantReference, recipient: original.recipient,
                    amount: kronor, paymentReference: original.paymentReference)
            }
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
                case .claim: "Återkrav"
                case .repayment: "Återbetalning"
                case .writeOff: "Avskriven fordran"
                case .reclaim: "Avslut, ej utbetalt"
                }
            let reference =
                (entry.paymentReference.map { ", ref \($0)" } ?? "")
                + (original.amount.currency == .sek ? "" : " (\(original.amount.plain) \(original.amount.currency))")
            try record(
                "#VER",
                [
                    .text(settings.sieSeries ?? ""), .text(""), .bare(entry.date.compact),
                    .text("\(what) \(entry.grantReference) \(entry.recipient)\(reference)"),
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
