import GrantsCore

/// The language of an HTML report: Swedish by default, or English.
public enum ReportLanguage: String, Sendable, CaseIterable {
    case swedish = "sv"
    case english = "en"

    /// The Swedish or the English of a phrase.
    package func pick(_ sv: String, _ en: String) -> String { self == .swedish ? sv : en }

    /// An amount as people read it in this language: `10 641 000 kr` or `SEK 10,641,000`.
    package func money(_ amount: Money) -> String { self == .swedish ? amount.swedish : amount.english }
}

/// One self-contained HTML document for the reports: inline CSS, inline SVG, no script, no link to anything
/// outside the file; laid out for A4 (`@page`), each `section` kept whole on a page where it fits and a
/// `.page` starting a new sheet.
///
/// ```swift
/// var page = HTMLPage(language: .english, title: "Year 2023")
/// page.section("<h2>Totals</h2>…", newPage: false)
/// let html = page.document
/// ```
package struct HTMLPage {
    package let language: ReportLanguage
    package let title: String
    private var body = ""

    package init(language: ReportLanguage, title: String) {
        self.language = language
        self.title = title
    }

    static let style = """
        @page { size: A4; margin: 14mm 14mm 16mm 14mm; }
        html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
        body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9.5pt; color: #1a1a1a;
               margin: 0 auto; max-width: 182mm; line-height: 1.35; }
        h1 { font-size: 17pt; margin: 0 0 2mm 0; }
        h2 { font-size: 12pt; margin: 5mm 0 2mm 0; break-after: avoid; }
        p.lead { font-size: 10.5pt; }
        section { break-inside: avoid; margin-bottom: 4mm; }
        section.page { break-before: page; }
        .pair { display: grid; grid-template-columns: 11fr 9fr; gap: 5mm; align-items: start; }
        table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
        caption { text-align: left; font-weight: bold; padding-bottom: 1mm; }
        th, td { border-bottom: 1px solid #c8c8c8; padding: 1.2mm 1.5mm; text-align: left; vertical-align: top; }
        thead th { border-bottom: 1.5px solid #555; }
        tfoot td { border-top: 1.5px solid #555; font-weight: bold; }
        .n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        tr { break-inside: avoid; }
        thead { display: table-header-group; }
        svg.chart { width: 100%; height: auto; }
        svg .label, svg .legend, svg .value { font-family: inherit; font-size: 11px; fill: #1a1a1a; }
        svg .value { font-size: 10px; fill: #444; }
        svg .axis { stroke: #555; stroke-width: 1; }
        svg .grid { stroke: #bbb; stroke-width: 1; stroke-dasharray: 3 3; }
        .note { color: #555; font-size: 8pt; }
        footer { margin-top: 6mm; color: #555; font-size: 8pt; }
        """

    /// Adds a section; `newPage` starts it on a new sheet.
    package mutating func section(_ html: String, newPage: Bool = false) {
        body += newPage ? "<section class=\"page\">\n" : "<section>\n"
        body += html
        body += "\n</section>\n"
    }

    /// Adds markup outside any section (a heading, a lead paragraph).
    package mutating func append(_ html: String) { body += html + "\n" }

    package var document: String {
        """
        <!DOCTYPE html>
        <html lang="\(language.rawValue)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <title>\(HTMLText.escape(title))</title>
        <style>
        \(Self.style)
        </style>
        </head>
        <body>
        \(body)</body>
        </html>

        """
    }

    /// A table: header cells, rows of cells (already HTML), the columns in `numeric` right-aligned, an optional
    /// footer row.
    package static func table(caption: String? = nil, header: [String], rows: [[String]], numeric: Set<Int>, footer: [String]? = nil)
        -> String
    {
        func cells(_ values: [String], tag: String) -> String {
            values.enumerated().map { "<\(tag)\(numeric.contains($0.offset) ? " class=\"n\"" : "")>\($0.element)</\(tag)>" }.joined()
        }
        var out = "<table>"
        if let caption { out += "<caption>\(caption)</caption>" }
        out += "<thead><tr>\(cells(header.map(HTMLText.escape), tag: "th"))</tr></thead><tbody>"
        for row in rows { out += "<tr>\(cells(row, tag: "td"))</tr>" }
        out += "</tbody>"
        if let footer { out += "<tfoot><tr>\(cells(footer, tag: "td"))</tr></tfoot>" }
        return out + "</table>"
    }

    /// A chart and its numbers side by side.
    package static func pair(chart: String, table: String) -> String {
        "<div class=\"pair\"><div>\(chart)</div><div>\(table)</div></div>"
    }
}
