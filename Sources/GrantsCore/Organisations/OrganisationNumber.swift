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
    public init(_ text: String) throws(OrganisationNumberError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.unicodeScalars.filter { $0 != "-" }
        let hyphens = trimmed.unicodeScalars.filter { $0 == "-" }.count
        guard digits.count == 10, digits.allSatisfy({ $0.value >= 48 && $0.value <= 57 }),
            hyphens == 0 || (hyphens == 1 && Array(trimmed.unicodeScalars)[6] == "-")
        else { throw .init(text, "is not of the form NNNNNN-NNNN") }
        let numbers = digits.map { Int($0.value - 48) }
        guard numbers[2] * 10 + numbers[3] >= 20 else {
            throw .init(text, "is not an organisationsnummer (digits 3-4 must be 20 or more)")
        }
        guard Self.luhnValid(numbers) else { throw .init(text, "has a wrong check digit") }
        let canonical = numbers.map(String.init).joined()
        value = String(canonical.prefix(6)) + "-" + String(canonical.suffix(4))
    }

    public static func isValid(_ text: String) -> Bool { (try? OrganisationNumber(text)) != nil }

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

/// Why a text is not a valid organisationsnummer (format, or the Luhn check digit).
///
/// ```swift
/// do { _ = try OrganisationNumber("212000-0663") }
/// catch let error as OrganisationNumberError { print(error) }   // the check digit does not match
/// ```
public struct OrganisationNumberError: Error, Sendable, Equatable, CustomStringConvertible {
    public let input: String
    public let reason: String
    package init(_ input: String, _ reason: String) {
        self.input = String(input.prefix(40))
        self.reason = reason
    }
    public var description: String { "organisationsnummer \"\(input)\" \(reason)" }
}
