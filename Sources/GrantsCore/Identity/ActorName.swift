import Foundation

/// Who did something, as the audit log stores it and the four-eyes and conflict-of-interest rules compare it.
///
/// A name is normalised: Unicode NFC, white space around it trimmed and inside it one plain space, lower-cased
/// (Unicode's full lower-case mapping, which PostgreSQL's `lower()` also applies, so the database compares the
/// same way). `Anna`, `anna ` and `ANNA` are one person. Names that could pass for someone else's are refused:
/// control and invisible characters (zero-width spaces and joiners, bidirectional controls, the soft hyphen,
/// fillers), compatibility forms (fullwidth letters, ligatures), and Latin mixed with Cyrillic or Greek letters
/// (`аnna` with a Cyrillic `а`).
///
/// ```swift
/// try ActorName(" Anna ").value                 // "anna"
/// try ActorName("anna") == ActorName("ANNA")    // true
/// try ActorName("\u{0430}nna")                  // GrantsError.invalidInput: mixes Cyrillic and Latin letters
/// ```
public struct ActorName: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The normalised name: what is stored and compared.
    public let value: String

    /// Normalises `name`, or refuses it as ``GrantsError/invalidInput(_:)`` with one problem at `location`.
    public init(_ name: String, at location: String = "actor") throws(GrantsError) {
        let normalised: String
        if let ascii = Self.printableASCIIKey(name) {
            normalised = ascii
        } else {
            if let refusal = Self.refusal(name) { throw .invalidInput([Problem(location, refusal)]) }
            normalised = Self.key(name)
        }
        guard !normalised.isEmpty else { throw .invalidInput([Problem(location, "must not be empty")]) }
        guard normalised.unicodeScalars.count <= Limits.actorLength else {
            throw .invalidInput([Problem(location, "must be at most \(Limits.actorLength) characters")])
        }
        value = normalised
    }

    /// The form a name is compared by, refusing nothing: for names recorded before they were normalised. For
    /// a name that ``init(_:at:)`` accepts it is that name's ``value``. The database's `grants.actor_name`
    /// does the same.
    public static func key(_ name: String) -> String {
        if let ascii = printableASCIIKey(name) { return ascii }
        var scalars = String.UnicodeScalarView()
        var space = false
        for scalar in name.precomposedStringWithCanonicalMapping.unicodeScalars {
            if scalar.properties.isWhitespace {
                space = !scalars.isEmpty
                continue
            }
            if space { scalars.append(" ") }
            space = false
            scalars.append(scalar)
        }
        return String(scalars).lowercased().precomposedStringWithCanonicalMapping
    }

    /// The key of a name written in printable ASCII (U+0020–U+007E), the common case, without Unicode's tables:
    /// such a name is already NFC and holds one script and nothing invisible or compatible, so only the trimming,
    /// the one space and the lower case apply. Nil for any other name. (A client's every write checks its actor,
    /// and the tables cost more than the rest of the library's work for the call.)
    static func printableASCIIKey(_ name: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        var space = false
        for byte in name.utf8 {
            guard byte >= 0x20 && byte < 0x7F else { return nil }
            if byte == 0x20 {
                space = !bytes.isEmpty
                continue
            }
            if space { bytes.append(0x20) }
            space = false
            bytes.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        value = try Self(try decoder.singleValueContainer().decode(String.self)).value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    // MARK: What is refused

    /// Why `name` is refused, or nil.
    static func refusal(_ name: String) -> String? {
        let scalars = Array(name.precomposedStringWithCanonicalMapping.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return nil }
        var scripts: Set<Script> = []
        for scalar in scalars[first...last] {
            if scalar.properties.isWhitespace {
                // Spaces of any width are one space; a line break or tab inside a name is not a name.
                if scalar.properties.generalCategory != .spaceSeparator { return "holds a control character (\(Self.code(scalar)))" }
            } else if Self.isInvisible(scalar) {
                return "holds an invisible or control character (\(Self.code(scalar)))"
            } else if let script = Script(scalar) {
                scripts.insert(script)
            }
        }
        if scripts.count > 1 {
            return "mixes \(scripts.sorted().map(\.rawValue).joined(separator: " and ")) letters, as look-alike names do"
        }
        let text = String(String.UnicodeScalarView(scalars[first...last].filter { !$0.properties.isWhitespace }))
        if let compatible = text.unicodeScalars.first(where: {
            String($0).precomposedStringWithCompatibilityMapping.unicodeScalars.elementsEqual(String($0).unicodeScalars) == false
        }) {
            return "holds a compatibility form (\(Self.code(compatible))) that looks like other letters; write the plain letters"
        }
        return nil
    }

    /// Characters that do not show, or show as something else: controls, format characters (zero-width
    /// space, joiners, bidirectional controls, soft hyphen), default-ignorable ones (fillers, variation
    /// selectors), private use, unassigned and noncharacters, line and paragraph separators.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse, .unassigned, .surrogate, .lineSeparator, .paragraphSeparator: return true
        default: break
        }
        // U+2800 BRAILLE PATTERN BLANK is a symbol that prints nothing.
        return scalar.properties.isDefaultIgnorableCodePoint || scalar.properties.isNoncharacterCodePoint || scalar.value == 0x2800
    }

    static func code(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// The scripts whose letters pass for one another.
    enum Script: String, Comparable {
        case cyrillic = "Cyrillic"
        case greek = "Greek"
        case latin = "Latin"

        init?(_ scalar: Unicode.Scalar) {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: break
            default: return nil
            }
            switch scalar.value {
            case 0x41...0x5A, 0x61...0x7A, 0xAA, 0xBA, 0xC0...0x2AF, 0x1D00...0x1D25, 0x1E00...0x1EFF, 0x2C60...0x2C7F,
                0xA720...0xA7FF, 0xAB30...0xAB5A, 0xFF21...0xFF3A, 0xFF41...0xFF5A:
                self = .latin
            case 0x370...0x3FF, 0x1F00...0x1FFF, 0xAB65:
                self = .greek
            case 0x400...0x52F, 0x1C80...0x1C8F, 0x2DE0...0x2DFF, 0xA640...0xA69F:
                self = .cyrillic
            default:
                return nil
            }
        }

        static func < (lhs: Script, rhs: Script) -> Bool { lhs.rawValue < rhs.rawValue }
    }
}
