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
        if required && value.allSatisfy(\.isWhitespace) { return Problem(path, "must not be empty") }
        return nil
    }
}
