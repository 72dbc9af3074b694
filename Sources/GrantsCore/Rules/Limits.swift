/// Every limit on a text the library stores, in one place; the schema's CHECKs say the same.
///
/// ```swift
/// if let problem = Limits.text(reason, at: "reason") { problems.append(problem) }
/// ```
public enum Limits {
    /// Names, titles, reasons, payment references.
    public static let textLength = 1000
    /// A grant's or application's reference.
    public static let referenceLength = 200
    /// An actor's name.
    public static let actorLength = 200

    /// What exports join several values of one cell with (`partners`, `partner_countries`, `themes`), and
    /// what a CSV grant list separates them with.
    public static let joinSeparator: Character = "|"

    /// The problem with a name that exports join with others (an organisation's name, as a partner), if it
    /// holds the separator: the joined cell could not be split back.
    public static func joinable(_ value: String, at path: String) -> Problem? {
        // A byte scan, much cheaper than a Character search; it also finds a "|" that a combining mark follows,
        // which a split on "|" would cut just the same.
        guard value.utf8.contains(UInt8(ascii: "|")) else { return nil }
        return Problem(path, "cannot hold '\(joinSeparator)': exports join several names with it")
    }

    /// The problem with a text field, if any: a required text has 1 to ``textLength`` characters, not all
    /// blank; an optional one (nil) at most ``textLength``.
    public static func text(_ value: String?, at path: String, required: Bool = true) -> Problem? {
        guard let value else { return required ? Problem(path, "is required") : nil }
        // utf8.count bounds the character count from above: the exact (slower) count only near the limit.
        if value.utf8.count > textLength && value.count > textLength {
            return Problem(path, "must be at most \(textLength) characters")
        }
        if let problem = controlCharacterProblem(value, at: path) { return problem }
        if required && value.allSatisfy(\.isWhitespace) { return Problem(path, "must not be empty") }
        return nil
    }

    /// The problem with a text that holds a control character, if it does: C0 controls (tab, line feed, carriage
    /// return, escape …), DEL, C1 controls, the line and paragraph separators, and the bidirectional overrides and
    /// isolates (U+202A–U+202E, U+2066–U+2069), which make a name print as something else in a terminal or a
    /// spreadsheet. Every text the library takes passes here, whichever interface it came through.
    public static func controlCharacterProblem(_ value: String, at path: String) -> Problem? {
        // Most texts are ASCII without a control character: one byte scan settles them.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 >= 0x7F }) { return nil }
        guard let scalar = value.unicodeScalars.first(where: isControl) else { return nil }
        let code = String(scalar.value, radix: 16, uppercase: true)
        let name = controlNames[scalar.value].map { " (\($0))" } ?? ""
        return Problem(
            path, "holds a control character U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code)\(name); remove it")
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    private static let controlNames: [UInt32: String] = [
        0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return", 0x1B: "escape", 0x7F: "delete", 0x2028: "line separator",
        0x2029: "paragraph separator", 0x202A: "bidi embedding", 0x202B: "bidi embedding", 0x202C: "bidi pop",
        0x202D: "bidi override", 0x202E: "bidi override", 0x2066: "bidi isolate", 0x2067: "bidi isolate",
        0x2068: "bidi isolate", 0x2069: "bidi pop isolate",
    ]
}
