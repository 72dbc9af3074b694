import Foundation
import PGClient

/// A payment batch: one ISO 20022 pain.001 message of attested tranches, sent to the bank, or withdrawn.
///
/// ```swift
/// for batch in try await service.paymentBatches.list() { print(batch.id, batch.status, batch.transactions) }
/// ```
public struct PaymentBatch: Sendable, Encodable, Equatable {
    public let id: Int64
    public let programme: String
    public let messageID: String
    public let executionDate: CalendarDate
    public let dueBy: CalendarDate
    /// `sent` or `withdrawn`.
    public let status: String
    public let createdBy: String
    public let createdAt: Date
    public let withdrawnBy: String?
    public let withdrawReason: String?
    /// The file's `NbOfTxs` and `CtrlSum` (in minor units, whatever the currencies).
    public let transactions: Int
    public let controlSum: Int64
    public let items: [PaymentBatchItem]

    enum CodingKeys: String, CodingKey {
        case id, programme
        case messageID = "message_id"
        case executionDate = "execution_date"
        case dueBy = "due_by"
        case status
        case createdBy = "created_by"
        case createdAt = "created_at"
        case withdrawnBy = "withdrawn_by"
        case withdrawReason = "withdraw_reason"
        case transactions
        case controlSum = "control_sum"
        case items
    }
}

/// One tranche in a payment batch, with what the file says about it.
public struct PaymentBatchItem: Sendable, Encodable, Equatable {
    public let disbursementID: Int64
    public let grantReference: String
    public let tranche: Int
    public let amount: Money
    public let endToEndID: String
    public let creditorName: String
    public let creditorAccount: PaymentAccount
    public let remittance: String
    /// `sent`, `withdrawn`, `rejected` or `booked`.
    public let status: String
    public let statusReason: String?

    enum CodingKeys: String, CodingKey {
        case disbursementID = "disbursement"
        case grantReference = "reference"
        case tranche, amount, currency
        case endToEndID = "end_to_end_id"
        case creditorName = "creditor_name"
        case creditorAccount = "creditor_account"
        case remittance, status
        case statusReason = "status_reason"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(disbursementID, forKey: .disbursementID)
        try container.encode(grantReference, forKey: .grantReference)
        try container.encode(tranche, forKey: .tranche)
        try container.encode(amount.plain, forKey: .amount)
        try container.encode(amount.currency.rawValue, forKey: .currency)
        try container.encode(endToEndID, forKey: .endToEndID)
        try container.encode(creditorName, forKey: .creditorName)
        try container.encode(creditorAccount.description, forKey: .creditorAccount)
        try container.encode(remittance, forKey: .remittance)
        try container.encode(status, forKey: .status)
        try container.encode(statusReason, forKey: .statusReason)
    }
}

/// A tranche a batch took, or left out and why.
public struct BatchCandidate: Sendable, Encodable, Equatable {
    public let disbursementID: Int64
    public let grantReference: String
    public let tranche: Int
    public let amount: Money
    /// Nil when the tranche is in the batch.
    public let leftOut: String?

    enum CodingKeys: String, CodingKey {
        case disbursementID = "disbursement"
        case grantReference = "reference"
        case tranche, amount
        case leftOut = "left_out"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(disbursementID, forKey: .disbursementID)
        try container.encode(grantReference, forKey: .grantReference)
        try container.encode(tranche, forKey: .tranche)
        try container.encode(amount.plain, forKey: .amount)
        try container.encode(leftOut, forKey: .leftOut)
    }
}

/// Payment batches (Schema/api/bank.sql): every attested tranche due by a date whose payee has a verified
/// account, in one pain.001 file; a tranche is in at most one live batch (the database holds it); withdrawing a
/// batch the bank has booked nothing of frees its tranches for the next.
///
/// ```swift
/// let (batch, considered) = try await service.paymentBatches.create(
///     executionDate: try CalendarDate("2024-02-01"), actor: "cecilia")
/// for tranche in considered where tranche.leftOut != nil { print(tranche.disbursementID, tranche.leftOut!) }
/// if let batch { let xml = try await service.paymentBatches.export(batch.id) }
/// ```
public struct PaymentBatches: Sendable {
    let service: GrantsService

    /// Creates a batch of the programme (needed when there are several) for `executionDate`, taking every
    /// tranche due by `dueBy` (default: the execution date). Returns the batch (nil when no tranche could go)
    /// and every tranche considered, with why it was left out.
    public func create(programme: String? = nil, dueBy: CalendarDate? = nil, executionDate: CalendarDate, actor: String) async throws(GrantsError)
        -> (batch: PaymentBatch?, considered: [BatchCandidate])
    {
        let actor = try ActorName(actor).value
        let (batchID, considered) = try await service.writeOneStatement("grants.paymentBatches.create") { connection in
            var batchID: Int64?
            let rows = try connection.query(
                """
                SELECT * FROM grants_api.create_payment_batch(\(programme)::text, \(dueBy)::date, \(executionDate)::date, \(actor)::text)
                """
            ).map { row -> BatchCandidate in
                if let id: Int64 = try row.decode(column: "batch") { batchID = id }
                let tranche: Int32 = try row.decode(column: "tranche")
                return BatchCandidate(
                    disbursementID: try row.decode(column: "disbursement"), grantReference: try row.decode(column: "reference"),
                    tranche: Int(tranche), amount: try row.money("amount"), leftOut: try row.decode(column: "left_out"))
            }
            return (batchID, rows)
        }
        guard let batchID else { return (nil, considered) }
        return (try await get(batchID), considered)
    }

    /// Withdraws a batch the bank has booked nothing of; its tranches stay attested, free for the next batch.
    @discardableResult
    public func withdraw(_ id: Int64, reason: String, actor: String) async throws(GrantsError) -> PaymentBatch {
        let actor = try ActorName(actor).value
        if let problem = Limits.text(reason, at: "reason") { throw GrantsError.invalidInput([problem]) }
        _ = try await service.writeOneStatement("grants.paymentBatches.withdraw") { connection in
            try connection.execute("SELECT * FROM grants_api.withdraw_payment_batch(\(id)::int8, \(reason)::text, \(actor)::text)")
        }
        return try await get(id)
    }

    public func list() async throws(GrantsError) -> [PaymentBatch] {
        try await service.read("grants.paymentBatches.list") { connection in
            try connection.query("\(Self.select) ORDER BY b.id").map { try Self.decode($0, items: []) }
        }
    }

    public func get(_ id: Int64) async throws(GrantsError) -> PaymentBatch {
        try await service.read("grants.paymentBatches.get") { try Self.batch($0, id: id) }
    }

    /// What the batch's file says, from what was stored when it was created.
    public func file(_ id: Int64) async throws(GrantsError) -> PaymentFile {
        try await service.read("grants.paymentBatches.file") { connection in
            let batch = try Self.batch(connection, id: id)
            guard
                let row = try connection.query(
                    "SELECT debtor_name, debtor_kind, debtor_number, debtor_bic FROM grants.payment_batch WHERE id = \(id)"
                ).first
            else { throw GrantsError.notFound(entity: "payment batch", key: String(id)) }
            let debtor = try Self.account(
                row.decode(column: "debtor_kind"), row.decode(column: "debtor_number"), row.decode(column: "debtor_bic"))
            return PaymentFile(
                messageID: batch.messageID, createdAt: batch.createdAt, debtorName: try row.decode(column: "debtor_name"),
                debtorAccount: debtor,
                transfers: batch.items.map {
                    PaymentFile.Transfer(
                        endToEndID: $0.endToEndID, amount: $0.amount, executionDate: batch.executionDate, creditorName: $0.creditorName,
                        creditorAccount: $0.creditorAccount, remittance: $0.remittance)
                })
        }
    }

    /// The batch as pain.001.001.03: the same bytes every time.
    public func export(_ id: Int64) async throws(GrantsError) -> [UInt8] {
        try Pain001Writer.document(try await file(id))
    }

    // MARK: SQL

    static let select: PGQuery = """
        SELECT b.id, p.name AS programme, b.message_id, b.execution_date, b.due_by, b.status, b.created_by, b.created_at,
               b.withdrawn_by, b.withdraw_reason,
               (SELECT count(*) FROM grants.payment_batch_item i WHERE i.batch_id = b.id) AS transactions,
               (SELECT coalesce(sum(i.amount), 0)::int8 FROM grants.payment_batch_item i WHERE i.batch_id = b.id) AS control_sum
          FROM grants.payment_batch b JOIN grants.programme p ON p.id = b.programme_id
        """

    static func batch(_ connection: PGConnection, id: Int64) throws -> PaymentBatch {
        guard let row = try connection.query("\(select) WHERE b.id = \(id)").first else {
            throw GrantsError.notFound(entity: "payment batch", key: String(id))
        }
        let items = try connection.query(
            """
            SELECT i.disbursement_id, g.reference, d.tranche, i.amount, i.currency, i.end_to_end_id, i.creditor_name, i.remittance,
                   i.status, i.status_reason, a.kind, a.number, a.bic
              FROM grants.payment_batch_item i JOIN grants.disbursement d ON d.id = i.disbursement_id
              JOIN grants.grant g ON g.id = d.grant_id JOIN grants.payee_account a ON a.id = i.payee_account_id
             WHERE i.batch_id = \(id) ORDER BY i.disbursement_id
            """
        ).map { row in
            let tranche: Int32 = try row.decode(column: "tranche")
            return PaymentBatchItem(
                disbursementID: try row.decode(column: "disbursement_id"), grantReference: try row.decode(column: "reference"),
                tranche: Int(tranche), amount: try row.money("amount"), endToEndID: try row.decode(column: "end_to_end_id"),
                creditorName: try row.decode(column: "creditor_name"),
                creditorAccount: try account(row.decode(column: "kind"), row.decode(column: "number"), row.decode(column: "bic")),
                remittance: try row.decode(column: "remittance"), status: try row.decode(column: "status"),
                statusReason: try row.decode(column: "status_reason"))
        }
        return try decode(row, items: items)
    }

    static func decode(_ row: PGRow, items: [PaymentBatchItem]) throws -> PaymentBatch {
        let transactions: Int64 = try row.decode(column: "transactions")
        return PaymentBatch(
            id: try row.decode(column: "id"), programme: try row.decode(column: "programme"),
            messageID: try row.decode(column: "message_id"),
            executionDate: try row.decode(column: "execution_date"), dueBy: try row.decode(column: "due_by"),
            status: try row.decode(column: "status"), createdBy: try row.decode(column: "created_by"),
            createdAt: try row.decode(column: "created_at"), withdrawnBy: try row.decode(column: "withdrawn_by"),
            withdrawReason: try row.decode(column: "withdraw_reason"), transactions: Int(transactions),
            controlSum: try row.decode(column: "control_sum"), items: items)
    }

    static func account(_ kind: String, _ number: String, _ bic: String?) throws -> PaymentAccount {
        do {
            return try PaymentAccount(kind: kind, number: number, bic: bic)
        } catch {
            throw GrantsError.internalError(sqlState: nil, message: "a stored account does not pass its checks: \(error)")
        }
    }
}
