import Foundation
import GrantsCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// What the bank said, read from an ISO 20022 file: a payment status report (`pain.002.001.03`) or a debit/credit
/// notification (`camt.054.001.02`), recognised by the document's namespace. Anything else, and anything not
/// well-formed, is refused whole (`GrantsError.invalidInput`).
///
/// ```swift
/// switch try BankMessage.read(bytes) {
/// case .statusReport(let report): print(report.transactions.filter { $0.status == "RJCT" })
/// case .notification(let notification): print(notification.entries.count, "entries")
/// }
/// ```
public enum BankMessage: Sendable, Equatable {
    case statusReport(StatusReport)
    case notification(Notification)

    public static let pain002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
    public static let camt054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
    /// Files larger than this are refused before they are parsed.
    public static let maximumBytes = 20_000_000

    /// A pain.002 status report: the original message's status, and each transaction's.
    public struct StatusReport: Sendable, Equatable {
        public struct Transaction: Sendable, Equatable {
            public let endToEndID: String
            /// ISO 20022 ExternalTransactionStatus: `RJCT` rejected, `ACCP`/`ACSC`/`ACSP`/`ACTC` accepted, `PDNG` pending.
            public let status: String
            /// The bank's reason code (ISO ExternalStatusReason1Code, e.g. `AC01` incorrect account number).
            public let reason: String?
        }
        public let messageID: String
        public let originalMessageID: String
        /// `GrpSts`: `RJCT` rejects every transaction of the original message.
        public let groupStatus: String?
        public let groupReason: String?
        public let transactions: [Transaction]
    }

    /// A camt.054 notification: booked and pending entries on the account, debits and credits.
    public struct Notification: Sendable, Equatable {
        public struct Entry: Sendable, Equatable {
            public let amount: Money
            public let isCredit: Bool
            /// `BOOK`, `PDNG` or `INFO`.
            public let status: String
            public let bookingDate: CalendarDate?
            public let bankReference: String?
            public let details: [Detail]
        }
        /// One transaction of an entry (an entry may batch several).
        public struct Detail: Sendable, Equatable {
            public let endToEndID: String?
            public let amount: Money?
            public let bankReference: String?
            /// A structured creditor reference (`Strd/CdtrRefInf/Ref`): for a credit, the OCR reference quoted.
            public let creditorReference: String?
        }
        public let messageID: String
        public let entries: [Entry]
    }

    public static func read(_ bytes: [UInt8]) throws(GrantsError) -> BankMessage {
        guard bytes.count <= maximumBytes else { throw refused("is larger than \(maximumBytes) bytes") }
        // Each entry (camt.054 `Ntry`) and each transaction's status (pain.002 `TxInfAndSts`) is read as its element
        // closes and then let go: what stays in memory is the message's header and what was read from its entries,
        // never the whole document as a tree (a bank's notification of 10 000 entries is some 200 000 elements).
        var entries: [Notification.Entry] = []
        var transactions: [StatusReport.Transaction] = []
        let root = try XMLTree.parse(Data(bytes), records: ["Ntry", "TxInfAndSts"]) { record, around throws(GrantsError) in
            // Read as before, when the whole tree was walked: by the document's namespace and the record's place.
            switch (around.first?.namespace, around.map(\.name), record.name) {
            case (camt054, ["Document", "BkToCstmrDbtCdtNtfctn", "Ntfctn"], "Ntry"):
                entries.append(try entry(record, index: entries.count))
            case (pain002, ["Document", "CstmrPmtStsRpt", "OrgnlPmtInfAndSts"], "TxInfAndSts"):
                transactions.append(try transaction(record, index: transactions.count))
            default:
                break  // anywhere else it is no entry of these messages
            }
        }
        guard root.name == "Document" else { throw refused("is not an ISO 20022 document (its root is <\(root.name)>)") }
        switch root.namespace {
        case pain002: return .statusReport(try statusReport(root, transactions))
        case camt054: return .notification(try notification(root, entries))
        default: throw refused("is neither pain.002.001.03 nor camt.054.001.02 (namespace \"\(root.namespace.prefix(100))\")")
        }
    }

    static func refused(_ why: String) -> GrantsError { .invalidInput([Problem("file", why)]) }

    /// The report's header, with the transactions read as the parser passed them.
    private static func statusReport(_ root: XMLTree, _ transactions: [StatusReport.Transaction]) throws(GrantsError) -> StatusReport {
        guard let report = root.child("CstmrPmtStsRpt") else { throw refused("has no CstmrPmtStsRpt") }
        guard let messageID = report.text("GrpHdr", "MsgId") else { throw refused("has no GrpHdr/MsgId") }
        guard let original = report.child("OrgnlGrpInfAndSts"), let originalID = original.text("OrgnlMsgId") else {
            throw refused("has no OrgnlGrpInfAndSts/OrgnlMsgId")
        }
        return StatusReport(
            messageID: messageID, originalMessageID: originalID, groupStatus: original.text("GrpSts"),
            groupReason: original.text("StsRsnInf", "Rsn", "Cd"), transactions: transactions)
    }

    /// One `TxInfAndSts` of a pain.002 (the `index`th of the report).
    private static func transaction(_ tx: XMLTree, index i: Int) throws(GrantsError) -> StatusReport.Transaction {
        guard let e2e = tx.text("OrgnlEndToEndId"), let status = tx.text("TxSts") else {
            throw refused("TxInfAndSts[\(i)] has no OrgnlEndToEndId or TxSts")
        }
        return .init(endToEndID: e2e, status: status, reason: tx.text("StsRsnInf", "Rsn", "Cd"))
    }

    /// The notification's header, with the entries read as the parser passed them.
    private static func notification(_ root: XMLTree, _ entries: [Notification.Entry]) throws(GrantsError) -> Notification {
        guard let message = root.child("BkToCstmrDbtCdtNtfctn") else { throw refused("has no BkToCstmrDbtCdtNtfctn") }
        guard let messageID = message.text("GrpHdr", "MsgId") else { throw refused("has no GrpHdr/MsgId") }
        return Notification(messageID: messageID, entries: entries)
    }

    /// One `Ntry` of a camt.054 (the `index`th of the message).
    private static func entry(_ entry: XMLTree, index: Int) throws(GrantsError) -> Notification.Entry {
        guard let amount = try money(entry.child("Amt"), at: "Ntry[\(index)].Amt"),
            let indicator = entry.text("CdtDbtInd"), indicator == "CRDT" || indicator == "DBIT",
            let status = entry.text("Sts")
        else { throw refused("Ntry[\(index)] has no Amt, CdtDbtInd (CRDT or DBIT) or Sts") }
        var booking: CalendarDate?
        if let text = entry.text("BookgDt", "Dt") ?? entry.text("BookgDt", "DtTm").map({ String($0.prefix(10)) }) {
            do { booking = try CalendarDate(text) } catch {
                throw refused("Ntry[\(index)].BookgDt \"\(text.prefix(30))\" is not a date")
            }
        }
        var details: [Notification.Detail] = []
        for tx in entry.children("NtryDtls").flatMap({ $0.children("TxDtls") }) {
            details.append(
                .init(
                    endToEndID: tx.text("Refs", "EndToEndId"),
                    amount: try money(tx.child("AmtDtls")?.child("TxAmt")?.child("Amt"), at: "Ntry[\(index)].TxDtls.Amt"),
                    bankReference: tx.text("Refs", "AcctSvcrRef"),
                    creditorReference: tx.text("RmtInf", "Strd", "CdtrRefInf", "Ref")))
        }
        return .init(
            amount: amount, isCredit: indicator == "CRDT", status: status, bookingDate: booking,
            bankReference: entry.text("AcctSvcrRef"), details: details)
    }

    /// An `Amt` element: a decimal with at most two decimals and its `Ccy`.
    private static func money(_ element: XMLTree?, at path: String) throws(GrantsError) -> Money? {
        guard let element else { return nil }
        guard let code = element.attributes["Ccy"], let currency = Currency(rawValue: code) else {
            throw refused("\(path) has no currency (Ccy)")
        }
        let parts = element.text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0, parts[0].allSatisfy(\.isASCII),
            parts.count == 1 || (1...2).contains(parts[1].count) && parts[1].allSatisfy({ $0.isASCII && $0.isNumber })
        else { throw refused("\(path) \"\(element.text.prefix(30))\" is not an amount with at most two decimals") }
        let fraction = parts.count == 2 ? Int64(parts[1].count == 1 ? "\(parts[1])0" : String(parts[1])) ?? 0 : 0
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 100)
        guard !overflow, scaled <= Int64.max - fraction else { throw refused("\(path) is out of range") }
        return Money(minorUnits: scaled + fraction, currency: currency)
    }
}

/// An XML element as a small tree (names without prefixes, the element's namespace, attributes, text), built with
/// Foundation's XMLParser: no DTDs or external entities are loaded, and depth and size are limited. Elements named
/// in `records` are handed to `onRecord` as they close, with the elements around them (the root first), and are
/// then dropped from the tree: a long list of records is read one at a time.
final class XMLTree {
    let name: String
    let namespace: String
    var attributes: [String: String]
    var text = ""
    var children: [XMLTree] = []

    init(name: String, namespace: String, attributes: [String: String]) {
        self.name = name
        self.namespace = namespace
        self.attributes = attributes
    }

    func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLTree] { children.filter { $0.name == name } }

    /// The trimmed text at a path of children, nil when a step is missing or the text is empty.
    func text(_ path: String...) -> String? {
        var node: XMLTree? = self
        for step in path { node = node?.child(step) }
        let value = node?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return value.isEmpty ? nil : value
    }

    static func parse(
        _ data: Data, records: Set<String> = [], onRecord: @escaping (XMLTree, [XMLTree]) throws(GrantsError) -> Void = { _, _ in }
    ) throws(GrantsError) -> XMLTree {
        let delegate = Builder(records: records, onRecord: onRecord)
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = delegate
        let ok = parser.parse()
        if let failure = delegate.failure { throw failure }
        if let problem = delegate.problem { throw BankMessage.refused(problem) }
        guard ok, let root = delegate.root else {
            let where_ = "line \(parser.lineNumber), column \(parser.columnNumber)"
            throw BankMessage.refused("is not well-formed XML (\(where_))")
        }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        let records: Set<String>
        let onRecord: (XMLTree, [XMLTree]) throws(GrantsError) -> Void
        var root: XMLTree?
        var stack: [XMLTree] = []
        var count = 0
        var problem: String?
        var failure: GrantsError?

        init(records: Set<String>, onRecord: @escaping (XMLTree, [XMLTree]) throws(GrantsError) -> Void) {
            self.records = records
            self.onRecord = onRecord
        }

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
            attributes attributeDict: [String: String] = [:]
        ) {
            count += 1
            guard stack.count < 64, count < 2_000_000 else {
                problem = "is nested too deeply or has too many elements"
                parser.abortParsing()
                return
            }
            let node = XMLTree(name: elementName, namespace: namespaceURI ?? "", attributes: attributeDict)
            if let parent = stack.last {
                parent.children.append(node)
            } else if root == nil {
                root = node
            }
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            guard let node = stack.popLast(), records.contains(node.name), let parent = stack.last else { return }
            // The record is its parent's last child: handed over, then no longer held.
            parent.children.removeLast()
            do {
                try onRecord(node, stack)
            } catch {
                failure = error
                parser.abortParsing()
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard let node = stack.last, node.text.utf8.count < 10_000 else { return }
            node.text += string
        }

        func parser(_ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?, systemID: String?) {
            problem = "declares an external entity, which is refused"
            parser.abortParsing()
        }

        func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
            problem = "declares an entity, which is refused"
            parser.abortParsing()
        }
    }
}
