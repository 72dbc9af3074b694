/// An International Bank Account Number (ISO 13616): country code, two check digits and the country's BBAN,
/// of the length the IBAN registry gives the country; the check digits make the number, read with its first
/// four characters moved to the end and letters as numbers (A = 10 … Z = 35), equal 1 mod 97.
///
/// ```swift
/// let iban = try IBAN("SE45 5000 0000 0583 9825 7466")
/// iban.value          // "SE4550000000058398257466"
/// iban.description    // "SE45 5000 0000 0583 9825 7466"
/// IBAN.isValid("SE46 5000 0000 0583 9825 7466")   // false: the check digits do not match
/// ```
public struct IBAN: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Upper case, without spaces: how it is stored and written into payment files.
    public let value: String

    public init(_ text: String) throws(GrantsError) {
        let compact = String(text.unicodeScalars.filter { $0 != " " && $0 != "\u{00A0}" }.map(Character.init)).uppercased()
        guard compact.unicodeScalars.allSatisfy({ ($0.value >= 48 && $0.value <= 57) || ($0.value >= 65 && $0.value <= 90) }),
            compact.count >= 5, compact.count <= 34
        else { throw .bankNumber("IBAN", text, "is not 5 to 34 letters and digits") }
        let country = String(compact.prefix(2))
        guard country.unicodeScalars.allSatisfy({ $0.value >= 65 && $0.value <= 90 }),
            compact.dropFirst(2).prefix(2).unicodeScalars.allSatisfy({ $0.value >= 48 && $0.value <= 57 })
        else { throw .bankNumber("IBAN", text, "does not start with a country code and two check digits") }
        guard let length = Self.lengths[country] else {
            throw .bankNumber("IBAN", text, "is from \(country), which has no IBAN in the IBAN registry")
        }
        guard compact.count == length else {
            throw .bankNumber("IBAN", text, "has \(compact.count) characters; an IBAN from \(country) has \(length)")
        }
        // A Swedish BBAN is digits only.
        if country == "SE", !compact.dropFirst(2).unicodeScalars.allSatisfy({ $0.value >= 48 && $0.value <= 57 }) {
            throw .bankNumber("IBAN", text, "is Swedish and must be digits after SE")
        }
        guard Self.mod97(compact) == 1 else { throw .bankNumber("IBAN", text, "has wrong check digits") }
        value = compact
    }

    public static func isValid(_ text: String) -> Bool { (try? IBAN(text)) != nil }

    /// The country the account is held in.
    public var country: String { String(value.prefix(2)) }

    /// The paper format: groups of four.
    public var description: String {
        var groups: [Substring] = []
        var rest = Substring(value)
        while !rest.isEmpty {
            groups.append(rest.prefix(4))
            rest = rest.dropFirst(4)
        }
        return groups.joined(separator: " ")
    }

    /// ISO 7064 MOD 97-10 over the rearranged number, a digit at a time (no big integers).
    static func mod97(_ compact: String) -> Int {
        var remainder = 0
        for scalar in (compact.dropFirst(4) + compact.prefix(4)).unicodeScalars {
            let value = scalar.value >= 65 ? Int(scalar.value) - 55 : Int(scalar.value) - 48
            remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97
        }
        return remainder
    }

    /// IBAN lengths by country, from the SWIFT IBAN registry: every SEPA country and every other country the
    /// registry lists. Countries without IBAN (Kenya, Malawi, Tanzania, Uganda, South Africa, Zambia, Zimbabwe
    /// among the programme's partners) are absent. The same table is `grants.iban_length` in Schema/rules/bank.sql.
    package static let lengths: [String: Int] = [
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
        "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
        "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
        "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
        "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
        "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
        "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
        "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    ]

    public init(from decoder: any Decoder) throws { self = try IBAN(decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// A Business Identifier Code (ISO 9362): four letters for the institution, two for the country, two letters or
/// digits for the location, and optionally three for the branch: 8 or 11 characters. Its shape is checked (as
/// `grants.bic_valid` checks it), not whether the bank exists.
///
/// ```swift
/// let seb = try BIC("ESSESESS")
/// BIC.isValid("ESSESES")   // false: 7 characters
/// ```
public struct BIC: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws(GrantsError) {
        let compact = String(text.unicodeScalars.filter { $0 != " " }.map(Character.init)).uppercased()
        let scalars = Array(compact.unicodeScalars)
        func letter(_ s: Unicode.Scalar) -> Bool { s.value >= 65 && s.value <= 90 }
        func alphanumeric(_ s: Unicode.Scalar) -> Bool { letter(s) || (s.value >= 48 && s.value <= 57) }
        guard scalars.count == 8 || scalars.count == 11 else { throw .bankNumber("BIC", text, "is not 8 or 11 characters") }
        guard scalars[0..<4].allSatisfy(letter), scalars[4..<6].allSatisfy(letter), scalars[6...].allSatisfy(alphanumeric) else {
            throw .bankNumber("BIC", text, "is not of the form AAAACCLL or AAAACCLLBBB (institution, country, location, branch)")
        }
        value = compact
    }

    public static func isValid(_ text: String) -> Bool { (try? BIC(text)) != nil }

    public var country: String { String(value.dropFirst(4).prefix(2)) }
    public var description: String { value }

    public init(from decoder: any Decoder) throws { self = try BIC(decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
