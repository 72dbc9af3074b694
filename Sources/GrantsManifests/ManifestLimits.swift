import GrantsCore
/// Limits on manifest input, each with a clear error past it.
///
/// ```swift
/// guard data.count <= ManifestLimits.maximumFileSize else { throw TooLarge() }   // parse(_:fileName:) checks this too
/// ```
public enum ManifestLimits {
    public static let maximumFileSize = 64 * 1024 * 1024
    public static let maximumGrants = 100_000
    public static let maximumFieldLength = Limits.textLength
    /// Deeper than any manifest needs; stops pathological nesting before it costs anything.
    public static let maximumDepth = 16
    public static let maximumPartnersPerGrant = 50
    public static let maximumThemesPerGrant = 50
    public static let maximumTranchesPerGrant = 120
}

extension ManifestLimits {
    /// Counts the `reference` keys of a YAML or JSON text without parsing it, so that a file with far more
    /// grants than the limit is refused in one pass over its bytes rather than after seconds of parsing. A key
    /// counts where it starts a line's content or follows `{`, `,` or `-` (block and flow YAML, JSON), with or
    /// without quotes. It can only overcount by text that looks like such a key inside a value, and a file that
    /// hides keys from it (escapes, complex keys) still meets the limit after parsing.
    static func countReferenceKeys(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { bytes in
            let key = Array("reference".utf8)
            var count = 0
            var i = 0
            let n = bytes.count
            while i + key.count <= n {
                guard bytes[i] == key[0] else {
                    i += 1
                    continue
                }
                // What comes before: an opening quote is allowed, then the structural character or line start.
                var before = i - 1
                if before >= 0, bytes[before] == UInt8(ascii: "\"") || bytes[before] == UInt8(ascii: "'") { before -= 1 }
                while before >= 0, bytes[before] == UInt8(ascii: " ") || bytes[before] == UInt8(ascii: "\t") { before -= 1 }
                let opens =
                    before < 0 || bytes[before] == 10 || bytes[before] == 13 || bytes[before] == UInt8(ascii: "{")
                    || bytes[before] == UInt8(ascii: ",") || bytes[before] == UInt8(ascii: "-")
                var matches = opens
                var k = 1
                while matches && k < key.count {
                    matches = bytes[i + k] == key[k]
                    k += 1
                }
                guard matches else {
                    i += 1
                    continue
                }
                // What comes after: an optional closing quote, spaces, then the colon of a key.
                var after = i + key.count
                if after < n, bytes[after] == UInt8(ascii: "\"") || bytes[after] == UInt8(ascii: "'") { after += 1 }
                while after < n, bytes[after] == UInt8(ascii: " ") || bytes[after] == UInt8(ascii: "\t") { after += 1 }
                if after < n, bytes[after] == UInt8(ascii: ":") { count += 1 }
                i += key.count
            }
            return count
        }
    }
}
