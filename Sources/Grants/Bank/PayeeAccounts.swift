import Foundation
import PGClient

/// One payee account of an organisation, as set and (once a second person has) verified. The newest is the
/// organisation's current account; payments go only to a current, verified one.
///
/// ```swift
/// let account = try await service.payeeAccounts.current("Växjö kommun")
/// print(account?.account.description ?? "none", account?.isVerified == true ? "verified" : "not verified")
/// ```
public struct PayeeAccount: Sendable, Encodable, Equatable {
    public let id: Int64
    public let organisation: String
    public let account: PaymentAccount
    public let reason: String
    public let setBy: String
    public let setAt: Date
    public let verifiedBy: String?
    public let verifiedAt: Date?
    /// Whether this is the organisation's newest account.
    public let isCurrent: Bool

    public var isVerified: Bool { verifiedBy != nil }

    enum CodingKeys: String, CodingKey {
        case id, organisation, kind, number, bic, reason
        case setBy = "set_by"
        case setAt = "set_at"
        case verifiedBy = "verified_by"
        case verifiedAt = "verified_at"
        case isCurrent = "current"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(organisation, forKey: .organisation)
        try container.encode(account.kind, forKey: .kind)
        try container.encode(account.number, forKey: .number)
        try container.encode(account.bic?.value, forKey: .bic)
        try container.encode(reason, forKey: .reason)
        try container.encode(setBy, forKey: .setBy)
        try container.encode(setAt, forKey: .setAt)
        try container.encode(verifiedBy, forKey: .verifiedBy)
        try container.encode(verifiedAt, forKey: .verifiedAt)
        try container.encode(isCurrent, forKey: .isCurrent)
    }
}

/// Payee accounts, four-eyes: one registered person sets an organisation's account with a reason, another
/// verifies it (a call-back, a letter on file). Both through `grants_api` (Schema/api/bank.sql). Changing an
/// account needs a new verification, and sends every attested tranche of the organisation's grants that is not
/// in a live payment batch back to be attested again, in the same transaction.
///
/// ```swift
/// try await service.payeeAccounts.set("Växjö kommun", to: try PaymentAccount(kind: "bankgiro", number: "5050-1055"),
///                                     reason: "Letter of 2024-01-10", actor: "anna")
/// try await service.payeeAccounts.verify("Växjö kommun", actor: "bertil")
/// ```
public struct PayeeAccounts: Sendable {
    let service: GrantsService

    /// Sets `organisation`'s (an organisationsnummer or an exact name) payee account. The same account again is
    /// a retry and changes nothing.
    @discardableResult
    public func set(_ organisation: String, to account: PaymentAccount, reason: String, actor: String) async throws(GrantsError) -> PayeeAccount {
        let actor = try ActorName(actor).value
        if let problem = Limits.text(reason, at: "reason") { throw GrantsError.invalidInput([problem]) }
        return try await service.writeOneStatement("grants.payeeAccounts.set") { connection in
            try Self.one(
                connection.query(
                    """
                    SELECT * FROM grants_api.set_payee_account(\(organisation)::text, \(account.kind)::text, \(account.number)::text,
                        \(account.bic?.value)::text, \(reason)::text, \(actor)::text)
                    """), "grants_api.set_payee_account")
        }
    }

    /// Verifies `organisation`'s current account: not by whoever set it (four-eyes). With `accountID`, the
    /// account the verifier checked must still be the current one.
    @discardableResult
    public func verify(_ organisation: String, accountID: Int64? = nil, actor: String) async throws(GrantsError) -> PayeeAccount {
        let actor = try ActorName(actor).value
        return try await service.writeOneStatement("grants.payeeAccounts.verify") { connection in
            try Self.one(
                connection.query(
                    "SELECT * FROM grants_api.verify_payee_account(\(organisation)::text, \(accountID)::int8, \(actor)::text)"),
                "grants_api.verify_payee_account")
        }
    }

    /// The organisation's current account, nil when it has none.
    public func current(_ organisation: String) async throws(GrantsError) -> PayeeAccount? {
        try await history(organisation).last
    }

    /// Every account the organisation has had, oldest first.
    public func history(_ organisation: String) async throws(GrantsError) -> [PayeeAccount] {
        try await service.read("grants.payeeAccounts.history") { connection in
            // Plain reads (every login may SELECT): an organisationsnummer, else the name without regard to case.
            let ids = try connection.query(
                """
                SELECT o.id FROM grants.organisation o
                 WHERE o.org_number = \(organisation) OR (o.org_number IS DISTINCT FROM \(organisation) AND lower(o.name) = lower(\(organisation)))
                """
            ).map { try $0.decode(Int64.self, column: 0) }
            guard ids.count == 1, let id = ids.first else {
                if ids.isEmpty { throw GrantsError.notFound(entity: "organisation", key: organisation) }
                throw GrantsError.invalidInput([
                    Problem("organisation", "\"\(organisation)\" names \(ids.count) organisations; use the organisationsnummer")
                ])
            }
            return try connection.query("\(Self.select) WHERE a.organisation_id = \(id) ORDER BY a.id").map(Self.decode)
        }
    }

    /// The columns of `grants.payee_account_row` (Schema/rules/bank.sql), as plain reads.
    static let select: PGQuery = """
        SELECT a.id, o.name AS organisation, a.kind, a.number, a.bic, a.reason, a.set_by, a.set_at, v.verified_by, v.verified_at,
               NOT EXISTS (SELECT 1 FROM grants.payee_account n WHERE n.organisation_id = a.organisation_id AND n.id > a.id) AS current
          FROM grants.payee_account a JOIN grants.organisation o ON o.id = a.organisation_id
          LEFT JOIN grants.payee_account_verification v ON v.account_id = a.id
        """

    static func decode(_ row: PGRow) throws -> PayeeAccount {
        let kind: String = try row.decode(column: "kind")
        let number: String = try row.decode(column: "number")
        let bic: String? = try row.decode(column: "bic")
        let account: PaymentAccount
        do {
            account = try PaymentAccount(kind: kind, number: number, bic: bic)
        } catch {
            throw GrantsError.internalError(sqlState: nil, message: "a stored payee account does not pass its checks: \(error)")
        }
        return PayeeAccount(
            id: try row.decode(column: "id"), organisation: try row.decode(column: "organisation"), account: account,
            reason: try row.decode(column: "reason"), setBy: try row.decode(column: "set_by"), setAt: try row.decode(column: "set_at"),
            verifiedBy: try row.decode(column: "verified_by"), verifiedAt: try row.decode(column: "verified_at"),
            isCurrent: try row.decode(column: "current"))
    }

    static func one(_ rows: PGResult, _ function: String) throws -> PayeeAccount {
        guard let row = rows.first else { throw GrantsError.internalError(sqlState: nil, message: "\(function) returned no account") }
        return try decode(row)
    }
}
