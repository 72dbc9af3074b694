/// Where money is paid to (a payee's account) or from (the programme's own): a Bankgiro number, a Plusgiro
/// number, or an IBAN with, where known, its bank's BIC. Each is checked at the door.
///
/// ```swift
/// let account = try PaymentAccount(kind: "bankgiro", number: "5050-1055")
/// account.description   // "Bankgiro 5050-1055"
/// ```
public enum PaymentAccount: Hashable, Sendable, CustomStringConvertible {
    case bankgiro(BankgiroNumber)
    case plusgiro(PlusgiroNumber)
    case iban(IBAN, bic: BIC?)

    /// The kinds by the names they have in the database and in JSON.
    public static let kinds = ["bankgiro", "plusgiro", "iban"]

    /// From the stored kind and number (and BIC, for an IBAN).
    public init(kind: String, number: String, bic: String? = nil) throws(GrantsError) {
        switch kind {
        case "bankgiro":
            guard bic == nil else { throw .bankNumber("BIC", bic ?? "", "belongs to an IBAN, not a Bankgiro number") }
            self = .bankgiro(try BankgiroNumber(number))
        case "plusgiro":
            guard bic == nil else { throw .bankNumber("BIC", bic ?? "", "belongs to an IBAN, not a Plusgiro number") }
            self = .plusgiro(try PlusgiroNumber(number))
        case "iban":
            let checkedBIC: BIC?
            if let bic { checkedBIC = try BIC(bic) } else { checkedBIC = nil }
            self = .iban(try IBAN(number), bic: checkedBIC)
        default:
            throw .bankNumber("account kind", kind, "is not bankgiro, plusgiro or iban")
        }
    }

    public var kind: String {
        switch self {
        case .bankgiro: "bankgiro"
        case .plusgiro: "plusgiro"
        case .iban: "iban"
        }
    }

    /// The number as stored and as payment files carry it: digits, or the IBAN without spaces.
    public var number: String {
        switch self {
        case .bankgiro(let number): number.digits
        case .plusgiro(let number): number.digits
        case .iban(let iban, _): iban.value
        }
    }

    public var bic: BIC? {
        if case .iban(_, let bic) = self { return bic }
        return nil
    }

    public var description: String {
        switch self {
        case .bankgiro(let number): "Bankgiro \(number)"
        case .plusgiro(let number): "Plusgiro \(number)"
        case .iban(let iban, let bic): "IBAN \(iban)" + (bic.map { " (BIC \($0))" } ?? "")
        }
    }
}
