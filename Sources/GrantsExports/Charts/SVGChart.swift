import GrantsCore

/// Small inline SVG charts for the HTML reports: horizontal bars (one or more series per row), a line per
/// series over a few categories, and one proportional bar. Each is a self-contained `<svg role="img">` whose
/// `<title>` and `<desc>` (named by `aria-labelledby`) say what it shows; the numbers themselves go in a table
/// beside it, which is the text alternative a screen reader or a printed copy relies on.
///
/// Pixel geometry is computed in `Double` (it is drawing, not money); values stay `Int64` minor units. Every
/// chart has a bounded size: at most ``maxRows`` rows or parts (the rest summed as one "other" row) and
/// ``maxCategories`` categories.
///
/// ```swift
/// let svg = SVGChart.bars(
///     id: "themes", title: "Awarded by theme", description: "Citizen dialogue 950 000 kr",
///     series: [.init(name: "Awarded", colour: SVGChart.palette[0])],
///     rows: [.init(label: "Citizen dialogue", values: [95_000_000])], format: { "\($0 / 100)" })
/// ```
package enum SVGChart {
    package struct Series: Sendable {
        package let name: String
        package let colour: String
        package init(name: String, colour: String) {
            self.name = name
            self.colour = colour
        }
    }

    package struct Row: Sendable, Equatable {
        package let label: String
        package let values: [Int64]
        package init(label: String, values: [Int64]) {
            self.label = label
            self.values = values
        }
    }

    /// Colours that stay apart in print and for the common kinds of colour blindness (Okabe–Ito).
    package static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
    package static let maxRows = 12
    package static let maxCategories = 40
    static let width = 460.0

    /// The first `maxRows − 1` rows and the rest summed as one row labelled `other` (only when there are more).
    package static func capped(_ rows: [Row], other: String) -> [Row] {
        guard rows.count > maxRows else { return rows }
        let kept = Array(rows.prefix(maxRows - 1))
        let rest = rows.dropFirst(maxRows - 1)
        let width = rows.map(\.values.count).max() ?? 0
        let sums = (0..<width).map { i in rest.reduce(Int64(0)) { $0 &+ ($1.values.count > i ? $1.values[i] : 0) } }
        return kept + [Row(label: other, values: sums)]
    }

    static func header(id: String, title: String, description: String, height: Double) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" class="chart" id="\(HTMLText.escape(id))" role="img" \
        aria-labelledby="\(HTMLText.escape(id))-title \(HTMLText.escape(id))-desc" viewBox="0 0 \(fmt(width)) \(fmt(height))" \
        width="\(fmt(width))" height="\(fmt(height))"><title id="\(HTMLText.escape(id))-title">\(HTMLText.escape(title))</title>\
        <desc id="\(HTMLText.escape(id))-desc">\(HTMLText.escape(description))</desc>
        """
    }

    static func fmt(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    static func text(_ x: Double, _ y: Double, _ content: String, anchor: String = "start", className: String = "label") -> String {
        "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"\(anchor)\" class=\"\(className)\">\(HTMLText.escape(content))</text>"
    }

    static func legend(_ series: [Series], y: Double) -> String {
        var out = ""
        var x = 0.0
        for s in series {
            out += "<rect x=\"\(fmt(x))\" y=\"\(fmt(y - 9))\" width=\"10\" height=\"10\" fill=\"\(s.colour)\"/>"
            out += text(x + 14, y, s.name, className: "legend")
            x += 24 + Double(s.name.count) * 6.5
        }
        return out
    }

    /// Horizontal bars: one row per label, one bar per series in each row, the value written after each bar.
    /// Negative values draw no bar (their value is still written).
    package static func bars(
        id: String, title: String, description: String, series: [Series], rows: [Row], empty: String = "—",
        format: (Int64) -> String
    ) -> String {
        let labelWidth = 130.0
        let valueWidth = 100.0
        let barHeight = 10.0
        let gap = 8.0
        let area = width - labelWidth - valueWidth
        let rowHeight = Double(max(series.count, 1)) * (barHeight + 2) + gap
        let top = series.count > 1 ? 20.0 : 4.0
        let height = top + Double(max(rows.count, 1)) * rowHeight + 4
        let largest = rows.flatMap(\.values).max() ?? 0
        var out = header(id: id, title: title, description: description, height: height)
        if series.count > 1 { out += legend(series, y: 12) }
        if rows.isEmpty { out += text(labelWidth, top + rowHeight / 2 + 4, empty) }
        for (r, row) in rows.enumerated() {
            let y = top + Double(r) * rowHeight
            out += text(labelWidth - 6, y + rowHeight / 2, HTMLText.shortened(row.label, to: 20), anchor: "end")
            for (s, value) in row.values.enumerated() where s < series.count {
                let barY = y + Double(s) * (barHeight + 2)
                let length = largest > 0 && value > 0 ? max(area * Double(value) / Double(largest), 1) : 0
                out +=
                    "<rect x=\"\(fmt(labelWidth))\" y=\"\(fmt(barY))\" width=\"\(fmt(length))\" height=\"\(fmt(barHeight))\" fill=\"\(series[s].colour)\"/>"
                out += text(labelWidth + length + 4, barY + barHeight - 1, format(value), className: "value")
            }
        }
        return out + "</svg>"
    }

    /// One line per series over the categories (quarters), with a zero line, the largest value marked on the
    /// axis, and a dot per point.
    package static func line(
        id: String, title: String, description: String, categories: [String], series: [(Series, [Int64])], format: (Int64) -> String
    ) -> String {
        let categories = Array(categories.prefix(maxCategories))
        let left = 90.0
        let right = 16.0
        let top = 24.0
        let bottom = 24.0
        let height = 220.0
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let values = series.flatMap { $0.1.prefix(categories.count) }
        let high = max(values.max() ?? 0, 0)
        let low = min(values.min() ?? 0, 0)
        let span = Double(high - low == 0 ? 1 : high - low)
        func y(_ value: Int64) -> Double { top + plotHeight * (1 - Double(value - low) / span) }
        func x(_ i: Int) -> Double {
            categories.count <= 1 ? left + plotWidth / 2 : left + plotWidth * Double(i) / Double(categories.count - 1)
        }
        var out = header(id: id, title: title, description: description, height: height)
        out += legend(series.map(\.0), y: 12)
        out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(0)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(y(0)))\" class=\"axis\"/>"
        out += text(left - 6, y(0) + 4, format(0), anchor: "end", className: "value")
        if high > 0 {
            out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(high)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(y(high)))\" class=\"grid\"/>"
            out += text(left - 6, y(high) + 4, format(high), anchor: "end", className: "value")
        }
        if low < 0 { out += text(left - 6, y(low) + 4, format(low), anchor: "end", className: "value") }
        for (i, category) in categories.enumerated() {
            out += text(x(i), height - 6, category, anchor: "middle")
        }
        for (s, points) in series {
            let coordinates = points.prefix(categories.count).enumerated().map { "\(fmt(x($0.offset))),\(fmt(y($0.element)))" }
            out +=
                "<polyline points=\"\(coordinates.joined(separator: " "))\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"2\"/>"
            for (i, value) in points.prefix(categories.count).enumerated() {
                out += "<circle cx=\"\(fmt(x(i)))\" cy=\"\(fmt(y(value)))\" r=\"3\" fill=\"\(s.colour)\"/>"
            }
        }
        return out + "</svg>"
    }

    /// One bar split in proportion to the parts' (positive) values, with a legend giving each part's share in
    /// per cent, one decimal. Parts with nothing positive are left out; none at all draws `empty`.
    package static func proportions(id: String, title: String, description: String, parts: [Row], empty: String = "—") -> String {
        let parts = parts.filter { ($0.values.first ?? 0) > 0 }
        let total = parts.reduce(Int64(0)) { $0 &+ ($1.values.first ?? 0) }
        let columns = 2
        let legendRow = 18.0
        let height = 48.0 + Double((parts.count + columns - 1) / columns) * legendRow
        var out = header(id: id, title: title, description: description, height: height)
        guard total > 0 else { return out + text(0, 24, empty) + "</svg>" }
        var x = 0.0
        for (i, part) in parts.enumerated() {
            let w = width * Double(part.values.first ?? 0) / Double(total)
            out +=
                "<rect x=\"\(fmt(x))\" y=\"4\" width=\"\(fmt(w))\" height=\"28\" fill=\"\(palette[i % palette.count])\" stroke=\"#fff\" stroke-width=\"1\"/>"
            x += w
        }
        for (i, part) in parts.enumerated() {
            let column = Double(i % columns)
            let row = Double(i / columns)
            let lx = column * (width / Double(columns))
            let ly = 54.0 + row * legendRow
            out += "<rect x=\"\(fmt(lx))\" y=\"\(fmt(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(palette[i % palette.count])\"/>"
            out += text(
                lx + 14, ly, "\(HTMLText.shortened(part.label, to: 22)) \(percent(part.values.first ?? 0, of: total))", className: "legend")
        }
        return out + "</svg>"
    }

    /// `12.5 %` (one decimal, rounded half up), computed in integers.
    package static func percent(_ part: Int64, of total: Int64) -> String {
        guard total > 0 else { return "0.0 %" }
        let tenths = (part.multipliedReportingOverflow(by: 1000).overflow ? Int64.max : part * 1000 + total / 2) / total
        return "\(tenths / 10).\(tenths % 10) %"
    }
}
