import Foundation

/// An organisation's name in its one form (DESIGN §4): Unicode NFKC, white space of any width (no-break, thin,
/// ideographic …) one plain space, trimmed. Refused: control, invisible and bidirectional characters (zero-width
/// space and joiners, soft hyphen, BOM, fillers, variation selectors, private use), `|`, and Latin, Cyrillic and
/// Greek letters mixed in one name (`Kisumu Сounty` with a Cyrillic `С`). Two names are one organisation (in a
/// country) when their ``key``s, the lower-cased forms, are equal.
///
/// The database's `grants.organisation_name(text)` (Schema/0023) is the same function, character for character:
/// keep the two in step (OrganisationNameTests compares them).
///
/// ```swift
/// try OrganisationName("Kisumu\u{00A0} County ").value   // "Kisumu County"
/// try OrganisationName("Kisumu \u{0421}ounty")            // GrantsError.invalidInput: mixes Cyrillic and Latin letters
/// ```
public struct OrganisationName: Sendable, Hashable, CustomStringConvertible {
    /// The normalised name: what is stored.
    public let value: String

    /// Normalises `name`, or refuses it as ``GrantsError/invalidInput(_:)`` with one problem at `location`.
    public init(_ name: String, at location: String = "name") throws(GrantsError) {
        switch Self.normalise(name) {
        case .success(let value): self.value = value
        case .failure(let refusal): throw .invalidInput([Problem(location, refusal.message)])
        }
    }

    /// The form two names are compared by: the normalised name lower-cased as PostgreSQL's `lower()` does, one
    /// character for one (SQL: `lower(grants.organisation_name(x))`; `İstanbul` is `istanbul`, where Swift's
    /// `lowercased()` would give `i̇stanbul`).
    public var key: String { Self.lower(value) }

    /// Unicode's one-for-one lower case of each character (the first of its full mapping), as `lower()` gives it.
    public static func lower(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            out.append(scalar.properties.lowercaseMapping.unicodeScalars.first ?? scalar)
        }
        return String(out)
    }

    public var description: String { value }

    public struct Refusal: Error, Equatable {
        public let message: String

        public init(message: String) { self.message = message }
    }

    /// The normalised name, or why it is refused (the message `grants.organisation_name` raises).
    public static func normalise(_ name: String) -> Result<String, Refusal> {
        let scalars = name.precomposedStringWithCompatibilityMapping.unicodeScalars
        if let bad = scalars.first(where: isInvisible) {
            return .failure(Refusal(message: "holds an invisible or control character (\(ActorName.code(bad)))"))
        }
        var out = String.UnicodeScalarView()
        var space = false
        for scalar in scalars {
            if isSpace(scalar) {
                space = !out.isEmpty
                continue
            }
            if space { out.append(" ") }
            space = false
            out.append(scalar)
        }
        let value = String(out)
        if out.isEmpty { return .failure(Refusal(message: "must not be empty")) }
        if out.count > Limits.textLength { return .failure(Refusal(message: "must be at most \(Limits.textLength) characters")) }
        if out.contains("|") { return .failure(Refusal(message: "cannot hold '|': exports join several names with it")) }
        var scripts: [String] = []
        if out.contains(where: isCyrillic) { scripts.append("Cyrillic") }
        if out.contains(where: isGreek) { scripts.append("Greek") }
        if out.contains(where: isLatin) { scripts.append("Latin") }
        if scripts.count > 1 {
            return .failure(Refusal(message: "mixes \(scripts.joined(separator: " and ")) letters, as look-alike names do"))
        }
        return .success(value)
    }

    // The character classes of grants.organisation_name, range for range.

    static func isInvisible(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x01...0x1F, 0x7F...0x9F, 0xAD, 0x34F, 0x61C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180F, 0x200B...0x200F,
            0x2028...0x202E, 0x2060...0x206F, 0x2800, 0x3164, 0xE000...0xF8FF, 0xFDD0...0xFDEF, 0xFE00...0xFE0F, 0xFEFF, 0xFFA0,
            0xFFF0...0xFFFB, 0xFFFE, 0xFFFF, 0xE0000...0xE0FFF, 0xF0000...0x10FFFF:
            return true
        default:
            return s.value == 0
        }
    }

    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    static func isCyrillic(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x400...0x52F, 0x1C80...0x1C8F, 0x2DE0...0x2DFF, 0xA640...0xA69F: true
        default: false
        }
    }

    static func isGreek(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x370...0x3FF, 0x1F00...0x1FFF: true
        default: false
        }
    }

    static func isLatin(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x41...0x5A, 0x61...0x7A, 0xAA, 0xBA, 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x2AF, 0x1D00...0x1D25, 0x1E00...0x1EFF,
            0x2C60...0x2C7F, 0xA720...0xA7FF, 0xAB30...0xAB5A:
            true
        default: false
        }
    }
}
