/// An ISO 4217 currency code such as `SEK`.
///
/// ```swift
/// let sek = Currency.sek
/// let euro = Currency(rawValue: "EUR")      // nil for anything but three upper-case letters
/// ```
public struct Currency: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// Three upper-case ASCII letters, or `nil`.
    public init?(rawValue: String) {
        guard rawValue.utf8.count == 3, rawValue.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else { return nil }
        self.rawValue = rawValue
    }

    public static let sek = Currency(rawValue: "SEK")!
    public var description: String { rawValue }

    /// One of ISO 4217's active codes (the list in `Currency+ISO4217.swift`): what a new round may be in. A code read back from the
    /// database is taken as it is, so a currency withdrawn since does not make recorded data unreadable.
    public var isActive: Bool { Self.activeCodes.contains(rawValue) }

    /// An active ISO 4217 code, or `nil`: what the door accepts (`ZZZ` and `BTC` are not currencies).
    ///
    /// ```swift
    /// Currency(activeCode: "EUR")   // EUR
    /// Currency(activeCode: "BTC")   // nil
    /// ```
    public init?(activeCode code: String) {
        guard Self.activeCodes.contains(code), let currency = Currency(rawValue: code) else { return nil }
        self = currency
    }

    /// What to say about a code that is not an active ISO 4217 code.
    public static func problem(_ code: String) -> String {
        let upper = code.uppercased()
        if upper != code, activeCodes.contains(upper) { return "\"\(code.prefix(20))\" must be written in capitals: \(upper)" }
        return "\"\(code.prefix(20))\" is not an active ISO 4217 currency code; use one such as SEK, EUR or USD"
    }
}

/// An exact amount of money: `Int64` minor units (öre for SEK) and its currency. Arithmetic is checked:
/// overflow or mixing currencies is an error, never a wrapped or converted value.
///
/// ```swift
/// let award = try Money(parsing: "950 000", currency: .sek)   // 95 000 000 öre
/// let total = try award + Money(minorUnits: 50_00, currency: .sek)
/// print(total.plain)     // "950050.00"
/// print(total.swedish)   // "950 050 kr"
/// ```
public struct Money: Hashable, Sendable, Encodable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses the amount syntax of the CLI and manifests (see ``AmountParser``).
    public init(parsing text: String, currency: Currency) throws(GrantsError) {
        self.init(minorUnits: try AmountParser.parse(text), currency: currency)
    }

    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    public static func + (lhs: Money, rhs: Money) throws(GrantsError) -> Money {
        try lhs.combined(with: rhs, Int64.addingReportingOverflow)
    }

    public static func - (lhs: Money, rhs: Money) throws(GrantsError) -> Money {
        try lhs.combined(with: rhs, Int64.subtractingReportingOverflow)
    }

    public var negated: Money {
        get throws(GrantsError) {
            guard minorUnits != .min else { throw .amountOutOfRange }
            return Money(minorUnits: -minorUnits, currency: currency)
        }
    }

    private func combined(
        with other: Money, _ operation: (Int64) -> (Int64) -> (partialValue: Int64, overflow: Bool)
    ) throws(GrantsError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (value, overflow) = operation(minorUnits)(other.minorUnits)
        guard !overflow else { throw .amountOutOfRange }
        return Money(minorUnits: value, currency: currency)
    }

    /// Σ of amounts in one currency, checked.
    public static func sum(_ amounts: some Sequence<Money>, currency: Currency) throws(GrantsError) -> Money {
        var total = Money.zero(currency)
        for amount in amounts { total = try total + amount }
        return total
    }

    /// Whether this is less than `other`. Amounts in two currencies have no order: comparing them is
    /// a `GrantsError` of code `currencyMismatch` rather than an answer that ignores the currency.
    public func isLess(than other: Money) throws(GrantsError) -> Bool {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        return minorUnits < other.minorUnits
    }

    /// `1234.50`, `-5.00`: what CSV, JSON and SIE carry.
    public var plain: String { Self.decimal(minorUnits, separator: ".") }

    /// `1234,50`: decimal comma, no grouping, ASCII minus (what Excel in a Swedish locale reads as a number).
    public var decimalComma: String { Self.decimal(minorUnits, separator: ",") }

    /// `10 641 000 kr`, `1 000,50 kr`: for people reading Swedish (no-break spaces group the thousands).
    public var swedish: String {
        let sign = minorUnits < 0 ? "−" : ""
        let magnitude = minorUnits.magnitude
        let whole = Self.grouped(magnitude / 100, separator: "\u{00A0}")
        let cents = magnitude % 100
        let suffix = currency == .sek ? "\u{00A0}kr" : "\u{00A0}\(currency.rawValue)"
        return sign + whole + (cents == 0 ? "" : "," + (cents < 10 ? "0" : "") + String(cents)) + suffix
    }

    /// `SEK 10,641,000`: for people reading English.
    public var english: String {
        let sign = minorUnits < 0 ? "-" : ""
        let magnitude = minorUnits.magnitude
        let cents = magnitude % 100
        return "\(currency.rawValue) " + sign + Self.grouped(magnitude / 100, separator: ",")
            + (cents == 0 ? "" : "." + (cents < 10 ? "0" : "") + String(cents))
    }

    public var description: String { "\(plain) \(currency.rawValue)" }

    /// Encoded as the plain decimal text, `"950000.00"` (JSON numbers would lose exactness); the currency
    /// travels in a field of its own.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(plain)
    }

    package static func decimal(_ minor: Int64, separator: String) -> String {
        let magnitude = minor.magnitude
        let cents = magnitude % 100
        return (minor < 0 ? "-" : "") + String(magnitude / 100) + separator + (cents < 10 ? "0" : "") + String(cents)
    }

    package static func grouped(_ value: UInt64, separator: String) -> String {
        let digits = Array(String(value))
        var out = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += separator }
            out.append(digit)
        }
        return out
    }
}
