import GrantsCore

/// Text from the database made safe inside HTML and SVG: the five characters that mean markup become
/// references, and control characters (which XML cannot carry) become U+FFFD. Direction marks are left as they
/// are but names are shown inside `<bdi>` (HTML) so a right-to-left name cannot reorder the text around it.
///
/// ```swift
/// HTMLText.escape("<script>&\"'") // "&lt;script&gt;&amp;&quot;&#39;"
/// ```
package enum HTMLText {
    package static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            case "\t", "\n": out.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out.append("\u{FFFD}")
                } else {
                    out.append(scalar)
                }
            }
        }
        return String(out)
    }

    /// A name from the database for running text and table cells: escaped and isolated in `<bdi>`.
    package static func name(_ text: String) -> String { "<bdi>\(escape(text))</bdi>" }

    /// At most `limit` characters, with an ellipsis when cut (chart labels; the tables keep the whole name).
    package static func shortened(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(max(limit - 1, 1))) + "…"
    }
}
