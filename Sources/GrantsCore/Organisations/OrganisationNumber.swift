/// A Swedish *organisationsnummer*: ten digits written `NNNNNN-NNNN`, the last a Luhn check digit over the
/// first nine, digits 3–4 at least 20.
///
/// ```swift
/// let stockholm = try OrganisationNumber("212000-0142")
/// OrganisationNumber.isValid("212000-0143")   // false: wrong check digit
/// ```
public struct OrganisationNumber: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The canonical `NNNNNN-NNNN` form.
    public let value: String

    /// Accepts `NNNNNN-NNNN` or ten digits without the hyphen.
    public init(_ text: String) throws(GrantsError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.unicodeScalars.filter { $0 != "-" }
        let hyphens = trimmed.unicodeScalars.filter { $0 == "-" }.count
        guard digits.count == 10, digits.allSatisfy({ $0.value >= 48 && $0.value <= 57 }),
            hyphens == 0 || (hyphens == 1 && Array(trimmed.unicodeScalars)[6] == "-")
        else { throw .organisationNumber(text, "is not of the form NNNNNN-NNNN") }
        let numbers = digits.map { Int($0.value - 48) }
        guard numbers[2] * 10 + numbers[3] >= 20 else {
            throw .organisationNumber(text, "is not an organisationsnummer (digits 3-4 must be 20 or more)")
        }
        guard Self.luhnValid(numbers) else { throw .organisationNumber(text, "has a wrong check digit") }
        let canonical = numbers.map(String.init).joined()
        value = String(canonical.prefix(6)) + "-" + String(canonical.suffix(4))
    }

    public static func isValid(_ text: String) -> Bool { (try? OrganisationNumber(text)) != nil }

    /// The organisationsnummer an `SE-ON-` organisation identifier (org-id.guide's register of Swedish
    /// organisations) carries: `SE-ON-4020000008` → `402000-0008`. Nil for an identifier of another register
    /// (`SE-0`, `XM-DAC-…`); an `SE-ON-` one whose ten digits are not a valid number throws.
    ///
    /// ```swift
    /// try OrganisationNumber(organisationID: "SE-ON-2120000142")   // 212000-0142
    /// try OrganisationNumber(organisationID: "SE-ON-2021004358")   // throws: wrong check digit
    /// ```
    public init?(organisationID: String) throws(GrantsError) {
        guard organisationID.hasPrefix("SE-ON-") else { return nil }
        let digits = organisationID.dropFirst(6)
        guard digits.count == 10, digits.unicodeScalars.allSatisfy({ $0.value >= 48 && $0.value <= 57 }) else {
            throw .organisationNumber(String(digits), "is not of the form NNNNNNNNNN (ten digits after SE-ON-)")
        }
        try self.init(String(digits))
    }

    /// The ten digits without the hyphen (as IATI and 360Giving identifiers use them: `SE-ON-2120000142`).
    public var digits: String { value.filter { $0 != "-" } }

    public var description: String { value }

    package static func luhnValid(_ digits: [Int]) -> Bool {
        var sum = 0
        for (i, digit) in digits.enumerated() {
            let weighted = (digits.count - i) % 2 == 0 ? digit * 2 : digit
            sum += weighted > 9 ? weighted - 9 : weighted
        }
        return sum % 10 == 0
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try OrganisationNumber(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
