import Foundation
import GrantsCore

/// Writes a `PaymentFile` as ISO 20022 `pain.001.001.03` (customer credit transfer initiation) as Swedish banks
/// and Bankgirot take it (docs/bank-payments.md has the facts and their sources):
///
/// - one payment information block (`PmtInf`) per execution date (and the one debtor account), in date order;
///   `NbOfTxs` and `CtrlSum` in the group header and in every block;
/// - a Bankgiro creditor as `CdtrAcct/Id/Othr/Id` with `SchmeNm/Prtry` `BGNR`, its agent Bankgirot's clearing
///   (`ClrSysMmbId` `SESBA` 9900); a Plusgiro creditor as `Othr/Id` with `SchmeNm/Cd` `BBAN` (an ISO code, not a
///   proprietary one) and PlusGirot's clearing 9960; an IBAN creditor as `IBAN` with its bank's `BIC` where known;
/// - amounts with two decimals and the currency, the remittance text as `Ustrd`.
///
/// The output depends on the file's values only (no clock, no locale), so a batch exports to the same bytes
/// every time.
///
/// ```swift
/// let bytes: [UInt8] = try Pain001Writer.document(file)
/// ```
public enum Pain001Writer {
    public static let namespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"

    /// The whole document, UTF-8.
    public static func document(_ file: PaymentFile) throws(GrantsError) -> [UInt8] {
        guard !file.transfers.isEmpty else { throw .invalidInput([Problem("transfers", "a payment file has at least one transfer")]) }
        var problems: [Problem] = []
        func max(_ value: String, _ limit: Int, _ path: String) {
            if value.isEmpty || value.count > limit { problems.append(Problem(path, "must be 1 to \(limit) characters")) }
        }
        max(file.messageID, 35, "message_id")
        max(file.debtorName, 70, "debtor_name")
        for (i, transfer) in file.transfers.enumerated() {
            max(transfer.endToEndID, 35, "transfers[\(i)].end_to_end_id")
            max(transfer.creditorName, 70, "transfers[\(i)].creditor_name")
            max(transfer.remittance, 140, "transfers[\(i)].remittance")
            if transfer.amount.minorUnits <= 0 { problems.append(Problem("transfers[\(i)].amount", "must be positive")) }
        }
        guard problems.isEmpty else { throw .invalidInput(problems) }

        var xml = XMLText()
        xml.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        xml.open("Document", attributes: " xmlns=\"\(namespace)\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"")
        xml.open("CstmrCdtTrfInitn")
        xml.open("GrpHdr")
        xml.leaf("MsgId", file.messageID)
        xml.leaf("CreDtTm", dateTime(file.createdAt))
        xml.leaf("NbOfTxs", String(file.transfers.count))
        xml.leaf("CtrlSum", decimal(file.transfers.reduce(0) { $0 + $1.amount.minorUnits }))
        xml.open("InitgPty")
        xml.leaf("Nm", file.debtorName)
        xml.close("InitgPty")
        xml.close("GrpHdr")

        let byDate = Dictionary(grouping: file.transfers, by: \.executionDate).sorted { $0.key < $1.key }
        for (index, (date, transfers)) in byDate.enumerated() {
            xml.open("PmtInf")
            xml.leaf("PmtInfId", "\(file.messageID.prefix(31))-\(index + 1)")
            xml.leaf("PmtMtd", "TRF")
            xml.leaf("NbOfTxs", String(transfers.count))
            xml.leaf("CtrlSum", decimal(transfers.reduce(0) { $0 + $1.amount.minorUnits }))
            xml.leaf("ReqdExctnDt", date.iso)
            xml.open("Dbtr")
            xml.leaf("Nm", file.debtorName)
            xml.close("Dbtr")
            account("DbtrAcct", file.debtorAccount, &xml)
            agent("DbtrAgt", file.debtorAccount, &xml)
            for transfer in transfers {
                xml.open("CdtTrfTxInf")
                xml.open("PmtId")
                xml.leaf("EndToEndId", transfer.endToEndID)
                xml.close("PmtId")
                xml.open("Amt")
                xml.leaf("InstdAmt", decimal(transfer.amount.minorUnits), attributes: " Ccy=\"\(transfer.amount.currency.rawValue)\"")
                xml.close("Amt")
                if case .iban(_, nil) = transfer.creditorAccount {
                } else {
                    agent("CdtrAgt", transfer.creditorAccount, &xml)
                }
                xml.open("Cdtr")
                xml.leaf("Nm", transfer.creditorName)
                xml.close("Cdtr")
                account("CdtrAcct", transfer.creditorAccount, &xml)
                xml.open("RmtInf")
                xml.leaf("Ustrd", transfer.remittance)
                xml.close("RmtInf")
                xml.close("CdtTrfTxInf")
            }
            xml.close("PmtInf")
        }
        xml.close("CstmrCdtTrfInitn")
        xml.close("Document")
        return Array(xml.text.utf8)
    }

    private static func account(_ element: String, _ account: PaymentAccount, _ xml: inout XMLText) {
        xml.open(element)
        xml.open("Id")
        switch account {
        case .iban(let iban, _):
            xml.leaf("IBAN", iban.value)
        case .bankgiro:
            xml.open("Othr")
            xml.leaf("Id", account.number)
            xml.open("SchmeNm")
            xml.leaf("Prtry", "BGNR")
            xml.close("SchmeNm")
            xml.close("Othr")
        case .plusgiro:
            // Swedish Common Interpretation of ISO 20022 Payment Messages, Appendix 1 "Common Payment Types in
            // Sweden" (Svenska Bankföreningen, v1.0 2014-02-10), Plusgiro: the PlusGiro number is the account's
            // `Othr/Id` under the ISO external code `BBAN` (`SchmeNm/Cd`); only Bankgiro has a proprietary scheme
            // (`BGNR`). A practitioner confirms `BBAN` for a bank that refused a Plusgiro payment file without it
            // (IFS community, "Swedish supplier payment format change"); docs/bank-payments.md has both sources.
            xml.open("Othr")
            xml.leaf("Id", account.number)
            xml.open("SchmeNm")
            xml.leaf("Cd", "BBAN")
            xml.close("SchmeNm")
            xml.close("Othr")
        }
        xml.close("Id")
        xml.close(element)
    }

    /// The account's bank: the BIC of an IBAN's bank; Bankgirot (clearing 9900) or PlusGirot (9960) in the
    /// Swedish clearing system (`SESBA`) for a giro number. An IBAN without a known BIC gives an empty
    /// `FinInstnId` (the debtor agent is required).
    private static func agent(_ element: String, _ account: PaymentAccount, _ xml: inout XMLText) {
        xml.open(element)
        xml.open("FinInstnId")
        switch account {
        case .iban(_, let bic):
            if let bic { xml.leaf("BIC", bic.value) }
        case .bankgiro, .plusgiro:
            xml.open("ClrSysMmbId")
            xml.open("ClrSysId")
            xml.leaf("Cd", "SESBA")
            xml.close("ClrSysId")
            xml.leaf("MmbId", account.kind == "bankgiro" ? "9900" : "9960")
            xml.close("ClrSysMmbId")
        }
        xml.close("FinInstnId")
        xml.close(element)
    }

    /// Minor units as a decimal with two decimals: 47500000 → `475000.00`.
    static func decimal(_ minorUnits: Int64) -> String {
        let units = minorUnits.magnitude
        let cents = units % 100
        return (minorUnits < 0 ? "-" : "") + "\(units / 100)." + (cents < 10 ? "0" : "") + "\(cents)"
    }

    /// ISO 8601 in UTC to the second (`2024-01-15T09:30:00Z`), whatever the machine's zone.
    static func dateTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String {
            let n = n ?? 0
            return n < 10 ? "0\(n)" : "\(n)"
        }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))Z"
    }
}

/// A small XML writer: elements indented by two spaces, text escaped (`&`, `<`, `>`, `"`), characters XML 1.0
/// cannot carry dropped (the values were checked for control characters at the door).
struct XMLText {
    private(set) var text = ""
    private var depth = 0

    mutating func raw(_ s: String) { text += s }

    mutating func open(_ name: String, attributes: String = "") {
        text += String(repeating: "  ", count: depth) + "<\(name)\(attributes)>\n"
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        text += String(repeating: "  ", count: depth) + "</\(name)>\n"
    }

    mutating func leaf(_ name: String, _ value: String, attributes: String = "") {
        text += String(repeating: "  ", count: depth) + "<\(name)\(attributes)>\(Self.escape(value))</\(name)>\n"
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out += " "
            default:
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
