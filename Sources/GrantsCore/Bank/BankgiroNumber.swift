/// A Bankgiro number: 7 or 8 digits, the last a Luhn check digit over the others, written `NNN-NNNN` or
/// `NNNN-NNNN` (Bankgirot).
///
/// ```swift
/// let bankgiro = try BankgiroNumber("5050-1055")
/// bankgiro.digits     // "50501055"
/// BankgiroNumber.isValid("5050-1056")   // false: wrong check digit
/// ```
public struct BankgiroNumber: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The digits, without the hyphen: how the number is stored and written into payment files.
    public let digits: String

    /// Accepts the digits with or without the hyphen (and spaces).
    public init(_ text: String) throws(GrantsError) {
        let compact = Luhn.compact(text)
        guard let numbers = Luhn.digits(compact), (7...8).contains(numbers.count) else {
            throw .bankNumber("Bankgiro number", text, "is not 7 or 8 digits (NNN-NNNN or NNNN-NNNN)")
        }
        guard Luhn.isValid(numbers) else { throw .bankNumber("Bankgiro number", text, "has a wrong check digit") }
        digits = compact
    }

    public static func isValid(_ text: String) -> Bool { (try? BankgiroNumber(text)) != nil }

    /// `NNN-NNNN` or `NNNN-NNNN`, as Bankgirot writes it.
    public var description: String { "\(digits.dropLast(4))-\(digits.suffix(4))" }

    public init(from decoder: any Decoder) throws { self = try BankgiroNumber(decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}

/// A Plusgiro number: 2 to 8 digits, the last a Luhn check digit over the others, written with a hyphen
/// before the check digit (`NNNNNN-N`).
///
/// ```swift
/// let plusgiro = try PlusgiroNumber("90 20 02-5")
/// plusgiro.description   // "902002-5"
/// ```
public struct PlusgiroNumber: Hashable, Sendable, Codable, CustomStringConvertible {
    public let digits: String

    public init(_ text: String) throws(GrantsError) {
        let compact = Luhn.compact(text)
        guard let numbers = Luhn.digits(compact), (2...8).contains(numbers.count) else {
            throw .bankNumber("Plusgiro number", text, "is not 2 to 8 digits (NNNNNN-N)")
        }
        guard Luhn.isValid(numbers) else { throw .bankNumber("Plusgiro number", text, "has a wrong check digit") }
        digits = compact
    }

    public static func isValid(_ text: String) -> Bool { (try? PlusgiroNumber(text)) != nil }

    public var description: String { "\(digits.dropLast())-\(digits.suffix(1))" }

    public init(from decoder: any Decoder) throws { self = try PlusgiroNumber(decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}
