/// A Swedish OCR reference (*OCR-nummer*): 2 to 25 digits, the last a Luhn check digit over the others; the
/// digit before it may be a length digit (the whole reference's length, mod 10). A payer quotes it so that the
/// payment is matched without anyone reading it.
///
/// ```swift
/// let ocr = OCRReference.make(base: "4711", lengthDigit: true)   // "471169": 4711, length 6, check digit 9
/// try OCRReference(ocr.digits).hasLengthDigit                    // true
/// ```
public struct OCRReference: Hashable, Sendable, Codable, CustomStringConvertible {
    public let digits: String

    /// Checks the Luhn digit (and, when `requireLengthDigit`, the length digit too).
    public init(_ text: String, requireLengthDigit: Bool = false) throws(GrantsError) {
        let compact = Luhn.compact(text)
        guard let numbers = Luhn.digits(compact), (2...25).contains(numbers.count) else {
            throw .bankNumber("OCR reference", text, "is not 2 to 25 digits")
        }
        guard Luhn.isValid(numbers) else { throw .bankNumber("OCR reference", text, "has a wrong check digit") }
        digits = compact
        if requireLengthDigit && !hasLengthDigit { throw .bankNumber("OCR reference", text, "has a wrong length digit") }
    }

    /// Whether the second digit from the right is the reference's length, mod 10.
    public var hasLengthDigit: Bool {
        let numbers = Luhn.digits(digits) ?? []
        return numbers.count >= 3 && numbers[numbers.count - 2] == numbers.count % 10
    }

    public static func isValid(_ text: String) -> Bool { (try? OCRReference(text)) != nil }

    /// `base` (digits) followed by the length digit when asked for, and the check digit. Nil when `base` is not
    /// 1 to 23 digits.
    public static func make(base: String, lengthDigit: Bool) -> OCRReference? {
        guard var numbers = Luhn.digits(base), (1...23).contains(numbers.count) else { return nil }
        if lengthDigit { numbers.append((numbers.count + 2) % 10) }
        numbers.append(Luhn.checkDigit(numbers))
        return try? OCRReference(numbers.map(String.init).joined())
    }

    public var description: String { digits }

    public init(from decoder: any Decoder) throws { self = try OCRReference(decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}
