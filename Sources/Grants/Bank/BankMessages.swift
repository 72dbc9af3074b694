import Foundation
import PGClient

/// What importing one message of the bank did, item by item.
public struct BankImportOutcome: Sendable, Encodable, Equatable {
    public let item: Int
    /// `rejected`, `paid`, `repayment`, `unchanged`, `mismatch`, `unmatched credit`, `refused`, or any of them
    /// after `already imported: `.
    public let outcome: String
    public let detail: String
}

/// The bank's answers: pain.002 status reports and camt.054 notifications (Schema/api/bank.sql,
/// `grants_api.import_bank_message`). A rejected payment leaves its batch (the tranche stays attested); a booked
/// debit pays its tranche by `EndToEndId` and amount; a booked credit quoting a claim's OCR reference is a
/// repayment. Mismatches are reported, never guessed; the same message twice changes nothing. Importing is
/// finance's: the database grants it to `grants_finance` (and the owner) only, so a staff or service login gets
/// `GrantsError.notPermitted`, whatever the file says.
///
/// ```swift
/// let outcomes = try await service.bankMessages.import(Array(try Data(contentsOf: url)), actor: "cecilia")
/// for o in outcomes where o.outcome == "mismatch" { print(o.detail) }
/// ```
public struct BankMessages: Sendable {
    let service: GrantsService

    public func `import`(_ bytes: [UInt8], actor: String) async throws(GrantsError) -> [BankImportOutcome] {
        let actor = try ActorName(actor).value
        let message = try BankMessage.read(bytes)
        return try await service.writeOneStatement("grants.bankMessages.import") { connection in
            let (kind, id, items) = try Self.items(message, connection)
            return try connection.query(
                "SELECT * FROM grants_api.import_bank_message(\(kind)::text, \(id)::text, \(items)::jsonb, \(actor)::text)"
            ).map { row in
                let item: Int32 = try row.decode(column: "item")
                return BankImportOutcome(
                    item: Int(item), outcome: try row.decode(column: "outcome"), detail: try row.decode(column: "detail"))
            }
        }
    }

    /// The message as `grants_api.import_bank_message` takes it. A status report that rejects the whole original
    /// message without listing its transactions rejects every payment of the batch that message was.
    static func items(_ message: BankMessage, _ connection: PGConnection) throws -> (String, String, String) {
        var items: [[String: Any]] = []
        switch message {
        case .statusReport(let report):
            var transactions = report.transactions.map { ($0.endToEndID, $0.status, $0.reason) }
            if report.groupStatus == "RJCT" && transactions.isEmpty {
                transactions = try connection.query(
                    """
                    SELECT i.end_to_end_id FROM grants.payment_batch_item i JOIN grants.payment_batch b ON b.id = i.batch_id
                     WHERE b.message_id = \(report.originalMessageID) ORDER BY i.disbursement_id
                    """
                ).map { (try $0.decode(String.self, column: 0), "RJCT", report.groupReason) }
            }
            for (e2e, status, reason) in transactions {
                var item: [String: Any] = ["end_to_end_id": e2e, "status": status]
                if let reason { item["reason"] = reason }
                items.append(item)
            }
            return ("pain.002", report.messageID, try json(items))
        case .notification(let notification):
            for entry in notification.entries {
                // An entry with one transaction (or none) is one item; a batched entry is one item per transaction.
                let details = entry.details.isEmpty ? [nil] : entry.details.map(Optional.some)
                for detail in details {
                    let amount = (details.count == 1 ? entry.amount : detail?.amount) ?? entry.amount
                    var item: [String: Any] = [
                        "credit": entry.isCredit, "status": entry.status, "amount": amount.minorUnits, "currency": amount.currency.rawValue,
                    ]
                    if let date = entry.bookingDate { item["booked_on"] = date.iso }
                    if let reference = detail?.bankReference ?? entry.bankReference { item["bank_reference"] = reference }
                    if let e2e = detail?.endToEndID, e2e != "NOTPROVIDED" { item["end_to_end_id"] = e2e }
                    if let ocr = detail?.creditorReference { item["creditor_reference"] = ocr }
                    items.append(item)
                }
            }
            return ("camt.054", notification.messageID, try json(items))
        }
    }

    static func json(_ items: [[String: Any]]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: items, options: [.sortedKeys]), as: UTF8.self)
    }
}
