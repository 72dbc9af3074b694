import Foundation
import Testing

@testable import GrantsCore
@testable import GrantsExports

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The inline SVG charts: well-formed XML with a title and a description, bars and shares in proportion, text
/// escaped, sizes bounded.
@Suite("SVG charts")
struct ChartTests {
    /// Whether `text` parses as XML (an SVG document on its own).
    static func wellFormed(_ text: String) -> Bool { XMLParser(data: Data(text.utf8)).parse() }

    static func widths(_ svg: String, fill: String) -> [Double] {
        svg.matches(of: /<rect x="[0-9.]+" y="[0-9.]+" width="([0-9.]+)" height="[0-9.]+" fill="(#[0-9A-F]+)"/)
            .filter { String($0.2) == fill }.map { Double($0.1) ?? -1 }
    }

    @Test func barsAreInProportionAndTheirTextIsEscaped() {
        let svg = SVGChart.bars(
            id: "t", title: "Awarded & disbursed", description: "<b>", series: [.init(name: "A", colour: SVGChart.palette[0])],
            rows: [.init(label: "<script>x</script>", values: [400]), .init(label: "B", values: [100]), .init(label: "C", values: [-5])],
            format: { "\($0)" })
        #expect(Self.wellFormed(svg), "\(svg)")
        #expect(
            svg.contains("<title id=\"t-title\">Awarded &amp; disbursed</title>") && svg.contains("<desc id=\"t-desc\">&lt;b&gt;</desc>"))
        #expect(svg.contains("aria-labelledby=\"t-title t-desc\"") && svg.contains("role=\"img\""))
        #expect(!svg.contains("<script>") && svg.contains("&lt;script&gt;"))
        let bars = Self.widths(svg, fill: SVGChart.palette[0])
        #expect(bars.count == 3 && bars[0] == 4 * bars[1] && bars[2] == 0, "\(bars)")
    }

    @Test func sharesFillTheBarAndSayTheirPercent() {
        let parts = [SVGChart.Row(label: "KE", values: [1]), .init(label: "ZM", values: [2]), .init(label: "UA", values: [0])]
        let svg = SVGChart.proportions(id: "p", title: "Shares", description: "KE 33.3 %, ZM 66.7 %", parts: parts)
        #expect(Self.wellFormed(svg))
        #expect(svg.contains(">KE 33.3 %</text>") && svg.contains(">ZM 66.7 %</text>") && !svg.contains(">UA"))
        let segments = svg.matches(of: /<rect x="[0-9.]+" y="4" width="([0-9.]+)" height="28"/).map { Double($0.1) ?? 0 }
        #expect(abs(segments.reduce(0, +) - 460) < 0.5, "\(segments)")
        #expect(SVGChart.percent(1, of: 3) == "33.3 %" && SVGChart.percent(2, of: 3) == "66.7 %" && SVGChart.percent(1, of: 0) == "0.0 %")
        #expect(Self.wellFormed(SVGChart.proportions(id: "e", title: "None", description: "", parts: [], empty: "Nothing")))
    }

    @Test func aLineHasAPointPerCategoryAndNegativeValuesStayInside() {
        let svg = SVGChart.line(
            id: "q", title: "Per quarter", description: "",
            categories: ["Q1", "Q2", "Q3", "Q4"],
            series: [
                (.init(name: "Awarded", colour: "#0072B2"), [0, 100, -50, 25]), (.init(name: "Paid", colour: "#E69F00"), [0, 0, 0, 0]),
            ],
            format: { "\($0)" })
        #expect(Self.wellFormed(svg))
        #expect(svg.matches(of: #/<circle /#).count == 8)
        let ys = svg.matches(of: /<circle cx="[0-9.]+" cy="([0-9.-]+)"/).compactMap { Double($0.1) }
        #expect(ys.allSatisfy { $0 >= 0 && $0 <= 220 }, "\(ys)")
    }

    @Test func manyRowsAreCappedWithTheRestSummed() {
        let rows = (1...20).map { SVGChart.Row(label: "R\($0)", values: [Int64($0)]) }
        let capped = SVGChart.capped(rows, other: "Others")
        #expect(capped.count == SVGChart.maxRows && capped.last?.label == "Others")
        #expect(capped.flatMap(\.values).reduce(0, +) == 210)
        #expect(HTMLText.escape("a\u{1B}b<&>\"'") == "a\u{FFFD}b&lt;&amp;&gt;&quot;&#39;")
    }
}
