import Foundation
import PGClient

/// What the bank did with the payment files and what its notifications said that matched nothing:
/// ``PaymentBatches/reconcile(programme:from:to:)``.
///
/// ```swift
/// let r = try await service.paymentBatches.reconcile(from: try CalendarDate("2024-01-01"), to: try CalendarDate("2024-12-31"))
/// for p in r.payments where p.stillOpen { print(p.grantReference, p.tranche, p.amount.display) }
/// for f in r.findings { print(f.outcome, f.amount?.display ?? "", f.detail) }
/// ```
public struct Reconciliation: Sendable, Encodable, Equatable {
    /// Every tranche of every batch in the period, batch by batch.
    public let payments: [ReconciledPayment]
    /// Credits that matched no claim, and debits or payments the import reported as not matching.
    public let findings: [BankFinding]
}

/// One tranche in one batch and what became of it.
public struct ReconciledPayment: Sendable, Encodable, Equatable {
    public let batchID: Int64
    public let messageID: String
    public let programme: String
    public let executionDate: CalendarDate
    public let disbursementID: Int64
    public let grantReference: String
    public let tranche: Int
    public let creditorName: String
    public let amount: Money
    public let endToEndID: String
    /// `sent` (with the bank, not answered yet), `booked` (paid through a camt.054 debit), `rejected`
    /// (pain.002) or `withdrawn` (the batch was withdrawn).
    public let state: String
    /// The bank's reason code of a rejection.
    public let reason: String?
    /// The tranche's payment, when it is paid (through this batch or otherwise).
    public let paidOn: CalendarDate?
    public let paymentReference: String?
    /// Rejected or withdrawn, and since then neither paid, cancelled nor in another live batch: still to pay.
    public let stillOpen: Bool

    enum CodingKeys: String, CodingKey {
        case batchID = "batch"
        case messageID = "message_id"
        case programme
        case executionDate = "execution_date"
        case disbursementID = "disbursement"
        case grantReference = "reference"
        case tranche
        case creditorName = "creditor_name"
        case amount, currency
        case endToEndID = "end_to_end_id"
        case state, reason
        case paidOn = "paid_on"
        case paymentReference = "payment_reference"
        case stillOpen = "still_open"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(batchID, forKey: .batchID)
        try c.encode(messageID, forKey: .messageID)
        try c.encode(programme, forKey: .programme)
        try c.encode(executionDate, forKey: .executionDate)
        try c.encode(disbursementID, forKey: .disbursementID)
        try c.encode(grantReference, forKey: .grantReference)
        try c.encode(tranche, forKey: .tranche)
        try c.encode(creditorName, forKey: .creditorName)
        try c.encode(amount.plain, forKey: .amount)
        try c.encode(amount.currency.rawValue, forKey: .currency)
        try c.encode(endToEndID, forKey: .endToEndID)
        try c.encode(state, forKey: .state)
        try c.encode(reason, forKey: .reason)
        try c.encode(paidOn, forKey: .paidOn)
        try c.encode(paymentReference, forKey: .paymentReference)
        try c.encode(stillOpen, forKey: .stillOpen)
    }
}

/// An entry of a bank message the import could not match, as it reported it.
public struct BankFinding: Sendable, Encodable, Equatable {
    /// `pain.002` or `camt.054`, and the message's MsgId.
    public let kind: String
    public let messageID: String
    public let item: Int
    /// `unmatched credit`, `mismatch` or `refused`.
    public let outcome: String
    public let amount: Money?
    public let bookedOn: CalendarDate?
    /// The reference the entry quoted (an OCR number or an EndToEndId) and the bank's own.
    public let reference: String?
    public let bankReference: String?
    public let detail: String

    enum CodingKeys: String, CodingKey {
        case kind
        case messageID = "message_id"
        case item, outcome, amount, currency
        case bookedOn = "booked_on"
        case reference
        case bankReference = "bank_reference"
        case detail
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(messageID, forKey: .messageID)
        try c.encode(item, forKey: .item)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(amount?.plain, forKey: .amount)
        try c.encode(amount?.currency.rawValue, forKey: .currency)
        try c.encode(bookedOn, forKey: .bookedOn)
        try c.encode(reference, forKey: .reference)
        try c.encode(bankReference, forKey: .bankReference)
        try c.encode(detail, forKey: .detail)
    }
}

extension PaymentBatches {
    /// Per batch and tranche what the bank did: sent (not answered yet), booked, rejected, withdrawn, and which
    /// tranches are still open; and the bank's entries the import matched to nothing (credits that matched no
    /// claim, mismatched debits, payments a rule refused). Batches by execution date, findings by booking date
    /// (the import date when the entry had none), both within `from`…`to` when given; `programme` narrows the
    /// batches (a finding names no programme). Two reads of the tables: finance and staff both may.
    public func reconcile(programme: String? = nil, from: CalendarDate? = nil, to: CalendarDate? = nil) async throws(GrantsError)
        -> Reconciliation
    {
        try await service.read("grants.paymentBatches.reconcile") { connection in
            let payments = try connection.query(
                """
                SELECT b.id AS batch, b.message_id, p.name AS programme, b.execution_date, i.disbursement_id, g.reference,
                       d.tranche, i.creditor_name, i.amount, i.currency, i.end_to_end_id, i.status, i.status_reason,
                       d.paid_on, d.payment_reference,
                       (i.status IN ('rejected', 'withdrawn') AND d.status IN ('scheduled', 'attested')
                        AND NOT EXISTS (SELECT 1 FROM grants.payment_batch_item l
                                         WHERE l.disbursement_id = i.disbursement_id
                                           AND (l.status IN ('sent', 'booked') OR l.batch_id > i.batch_id))) AS still_open
                  FROM grants.payment_batch_item i JOIN grants.payment_batch b ON b.id = i.batch_id
                  JOIN grants.programme p ON p.id = b.programme_id
                  JOIN grants.disbursement d ON d.id = i.disbursement_id JOIN grants.grant g ON g.id = d.grant_id
                 WHERE (\(programme)::text IS NULL OR p.name = \(programme)::text)
                   AND (\(from)::date IS NULL OR b.execution_date >= \(from)::date)
                   AND (\(to)::date IS NULL OR b.execution_date <= \(to)::date)
                 ORDER BY b.id, i.disbursement_id
                """
            ).map { row in
                let tranche: Int32 = try row.decode(column: "tranche")
                return ReconciledPayment(
                    batchID: try row.decode(column: "batch"), messageID: try row.decode(column: "message_id"),
                    programme: try row.decode(column: "programme"), executionDate: try row.decode(column: "execution_date"),
                    disbursementID: try row.decode(column: "disbursement_id"), grantReference: try row.decode(column: "reference"),
                    tranche: Int(tranche), creditorName: try row.decode(column: "creditor_name"), amount: try row.money("amount"),
                    endToEndID: try row.decode(column: "end_to_end_id"), state: try row.decode(column: "status"),
                    reason: try row.decode(column: "status_reason"), paidOn: try row.decode(column: "paid_on"),
                    paymentReference: try row.decode(column: "payment_reference"), stillOpen: try row.decode(column: "still_open"))
            }
            let findings = try connection.query(
                """
                SELECT m.kind, m.message_id, (r->>'item')::int AS item, r->>'outcome' AS outcome, r->>'detail' AS detail,
                       (r->'entry'->>'amount')::int8 AS amount, r->'entry'->>'currency' AS currency,
                       (r->'entry'->>'booked_on')::date AS booked_on,
                       coalesce(r->'entry'->>'creditor_reference', r->'entry'->>'end_to_end_id') AS reference,
                       r->'entry'->>'bank_reference' AS bank_reference
                  FROM grants.bank_message m CROSS JOIN LATERAL jsonb_array_elements(m.outcomes) r
                 WHERE r->>'outcome' IN ('unmatched credit', 'mismatch', 'refused')
                   AND (\(from)::date IS NULL
                        OR coalesce((r->'entry'->>'booked_on')::date, (m.imported_at AT TIME ZONE 'UTC')::date) >= \(from)::date)
                   AND (\(to)::date IS NULL
                        OR coalesce((r->'entry'->>'booked_on')::date, (m.imported_at AT TIME ZONE 'UTC')::date) <= \(to)::date)
                 ORDER BY m.id, item
                """
            ).map { row in
                let item: Int32 = try row.decode(column: "item")
                let minor: Int64? = try row.decode(column: "amount")
                let currency: String? = try row.decode(column: "currency")
                let amount = minor.flatMap { minor in
                    currency.flatMap(Currency.init(rawValue:)).map { Money(minorUnits: minor, currency: $0) }
                }
                return BankFinding(
                    kind: try row.decode(column: "kind"), messageID: try row.decode(column: "message_id"), item: Int(item),
                    outcome: try row.decode(column: "outcome"), amount: amount, bookedOn: try row.decode(column: "booked_on"),
                    reference: try row.decode(column: "reference"), bankReference: try row.decode(column: "bank_reference"),
                    detail: try row.decode(column: "detail"))
            }
            return Reconciliation(payments: payments, findings: findings)
        }
    }
}

extension Reconciliation {
    /// The reconciliation as a workbook: a sheet of payments and a sheet of findings, cells typed.
    public func writeXLSX(to output: ReportOutput, generatedAt: Date = Date()) throws(GrantsError) {
        let payments = XLSXSheet(
            name: "Payments",
            columns: [
                ("batch", 8), ("message_id", 30), ("programme", 24), ("execution_date", 14), ("disbursement", 12),
                ("reference", 16), ("tranche", 8), ("creditor_name", 28), ("amount", 14), ("currency", 9), ("end_to_end_id", 18),
                ("state", 10), ("reason", 10), ("paid_on", 12), ("payment_reference", 20), ("still_open", 10),
            ],
            rows: self.payments.map {
                [
                    .integer($0.batchID), .text($0.messageID), .text($0.programme), .date($0.executionDate), .integer($0.disbursementID),
                    .text($0.grantReference), .integer(Int64($0.tranche)), .text($0.creditorName), .amount($0.amount),
                    .text($0.amount.currency.rawValue), .text($0.endToEndID), .text($0.state), .text($0.reason), .date($0.paidOn),
                    .text($0.paymentReference), .text($0.stillOpen ? "yes" : "no"),
                ]
            })
        let findings = XLSXSheet(
            name: "Bank findings",
            columns: [
                ("kind", 10), ("message_id", 24), ("item", 6), ("outcome", 16), ("amount", 14), ("currency", 9), ("booked_on", 12),
                ("reference", 24), ("bank_reference", 20), ("detail", 60),
            ],
            rows: self.findings.map {
                [
                    .text($0.kind), .text($0.messageID), .integer(Int64($0.item)), .text($0.outcome), .amount($0.amount),
                    .text($0.amount?.currency.rawValue), .date($0.bookedOn), .text($0.reference), .text($0.bankReference),
                    .text($0.detail),
                ]
            })
        try XLSXWriter(generatedAt: generatedAt).write(title: "Payment reconciliation", sheets: [payments, findings], to: output)
    }
}
