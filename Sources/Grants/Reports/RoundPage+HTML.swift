extension RoundPage {
    /// The round as one self-contained HTML page for A4: the announcement text, the key figures, the awards by
    /// theme and by partner country as bars, the partner countries' shares, awarded and disbursed per quarter,
    /// then every grant in a table. Each chart has its numbers in a table beside it; every text from the
    /// database is escaped.
    ///
    /// ```swift
    /// let html = try await service.reports.roundPage("2021:2").html(language: .english)
    /// ```
    public func html(language l: ReportLanguage = .swedish) -> String {
        let r = report
        var page = HTMLPage(
            language: l, title: l.pick("Omgång \(r.round) – \(r.programme)", "Round \(r.round) – \(r.programme)"))
        func m(_ amount: Money) -> String { HTMLText.escape(l.money(amount)) }
        func format(_ value: Int64) -> String { l.money(Money(minorUnits: value, currency: r.currency)) }
        let awardedWord = l.pick("Beviljat", "Awarded")
        let disbursedWord = l.pick("Utbetalt (netto)", "Disbursed (net)")

        page.append(
            "<h1>\(l.pick("Omgång", "Round")) \(HTMLText.name(r.round)) – \(HTMLText.name(r.programme))</h1>"
                + "<p class=\"lead\">\(HTMLText.escape(l == .swedish ? r.announcementSwedish : r.announcementEnglish))</p>")
        let figures: [(String, String)] = [
            (l.pick("Budget", "Budget"), m(r.budget)), (l.pick("Beslutat", "Decided"), m(r.decided)),
            (l.pick("Ändringar", "Amendments"), m(r.amended)), (l.pick("Beviljat med ändringar", "Awarded with amendments"), m(r.awarded)),
            (disbursedWord, m(r.disbursed)), (l.pick("Återbetalt", "Repaid"), m(r.repaid)),
            (l.pick("Öppna återkrav", "Claims open"), m(r.claimedOpen)), (l.pick("Kvar av budgeten", "Budget remaining"), m(r.remaining)),
            (l.pick("Bidrag", "Grants"), String(r.grants)),
            (l.pick("Beslutsdag", "Decided on"), r.decidedOn?.iso ?? "–"),
        ]
        page.section(
            "<h2>\(l.pick("Omgången i siffror", "The round in figures"))</h2>"
                + HTMLPage.table(header: ["", r.currency.rawValue], rows: figures.map { [HTMLText.escape($0.0), $0.1] }, numeric: [1]))

        let themeRows = r.byTheme.map { SVGChart.Row(label: l == .swedish ? $0.nameSv : $0.nameEn, values: [$0.awarded.minorUnits]) }
        let themeChart = SVGChart.bars(
            id: "themes", title: l.pick("Beviljat per tema", "Awarded by theme"),
            description: r.byTheme.map { "\(l == .swedish ? $0.nameSv : $0.nameEn): \(l.money($0.awarded))" }.joined(separator: "; "),
            series: [SVGChart.Series(name: awardedWord, colour: SVGChart.palette[0])],
            rows: SVGChart.capped(themeRows, other: l.pick("Övriga", "Others")), empty: l.pick("Inga bidrag", "No grants"), format: format)
        page.section(
            "<h2>\(l.pick("Per tema", "By theme"))</h2>"
                + HTMLPage.pair(
                    chart: themeChart,
                    table: HTMLPage.table(
                        header: [l.pick("Tema", "Theme"), l.pick("Bidrag", "Grants"), awardedWord],
                        rows: r.byTheme.map { [HTMLText.name(l == .swedish ? $0.nameSv : $0.nameEn), String($0.grants), m($0.awarded)] },
                        numeric: [1, 2], footer: [l.pick("Summa", "Total"), "", m(r.awarded)])))

        let countryRows = r.byCountry.map { SVGChart.Row(label: Self.countryName($0.country), values: [$0.awarded.minorUnits]) }
        let countryChart = SVGChart.bars(
            id: "countries", title: l.pick("Beviljat per partnerland", "Awarded by partner country"),
            description: r.byCountry.map { "\(Self.countryName($0.country)): \(l.money($0.awarded))" }.joined(separator: "; "),
            series: [SVGChart.Series(name: awardedWord, colour: SVGChart.palette[0])],
            rows: SVGChart.capped(countryRows, other: l.pick("Övriga", "Others")), empty: l.pick("Inga bidrag", "No grants"),
            format: format)
        page.section(
            "<h2>\(l.pick("Per partnerland", "By partner country"))</h2>"
                + HTMLPage.pair(
                    chart: countryChart,
                    table: HTMLPage.table(
                        header: [l.pick("Land", "Country"), l.pick("Bidrag", "Grants"), awardedWord],
                        rows: r.byCountry.map { [HTMLText.name(Self.countryName($0.country)), String($0.grants), m($0.awarded)] },
                        numeric: [1, 2], footer: [l.pick("Summa", "Total"), "", m(r.awarded)]))
                + "<p class=\"note\">"
                + l.pick(
                    "Ett bidrag med flera teman eller partnerländer delas lika mellan dem på öret när (resten till det första); i kolumnen bidrag räknas det under vart och ett.",
                    "A grant with several themes or partner countries is split evenly between them to the öre (the remainder to the first); in the grants column it counts under each."
                )
                + "</p>", newPage: true)

        let shares = SVGChart.proportions(
            id: "country-shares", title: l.pick("Partnerländernas andel av det beviljade", "The partner countries' shares of the awards"),
            description: r.byCountry.map {
                "\(Self.countryName($0.country)) \(SVGChart.percent($0.awarded.minorUnits, of: r.awarded.minorUnits))"
            }
            .joined(separator: "; "),
            parts: SVGChart.capped(countryRows, other: l.pick("Övriga", "Others")), empty: l.pick("Inga bidrag", "No grants"))
        page.section("<h2>\(l.pick("Partnerländernas andelar", "Partner countries' shares"))</h2>" + shares)

        let line = SVGChart.line(
            id: "quarters", title: l.pick("Beviljat och utbetalt per kvartal", "Awarded and disbursed per quarter"),
            description: quarters.map {
                "\($0.label): \(awardedWord.lowercased()) \(l.money($0.awarded)), \(disbursedWord.lowercased()) \(l.money($0.disbursed))"
            }
            .joined(separator: "; "),
            categories: quarters.map(\.label),
            series: [
                (
                    SVGChart.Series(name: l.pick("Beviljat med ändringar", "Awarded with amendments"), colour: SVGChart.palette[0]),
                    quarters.map(\.awarded.minorUnits)
                ),
                (SVGChart.Series(name: disbursedWord, colour: SVGChart.palette[1]), quarters.map(\.disbursed.minorUnits)),
            ], format: format)
        page.section(
            "<h2>\(l.pick("Per kvartal", "By quarter"))</h2>"
                + HTMLPage.pair(
                    chart: line,
                    table: HTMLPage.table(
                        header: [l.pick("Kvartal", "Quarter"), awardedWord, disbursedWord],
                        rows: quarters.map { [$0.label, m($0.awarded), m($0.disbursed)] }, numeric: [1, 2])))

        page.section(
            "<h2>\(l.pick("Bidragen", "The grants"))</h2>"
                + HTMLPage.table(
                    header: [
                        l.pick("Referens", "Reference"), l.pick("Mottagare", "Recipient"), l.pick("Partner", "Partners"),
                        l.pick("Teman", "Themes"), awardedWord, disbursedWord,
                    ],
                    rows: grants.map { g in
                        [
                            HTMLText.name(g.reference),
                            HTMLText.name(g.recipient) + (g.title.map { "<br><span class=\"note\">\(HTMLText.name($0))</span>" } ?? ""),
                            zip(g.partners, g.partnerCountries).map { "\(HTMLText.name($0.0)) (\(HTMLText.escape($0.1)))" }.joined(
                                separator: "<br>"),
                            g.themes.map(HTMLText.escape).joined(separator: "<br>"), m(g.awarded), m(g.disbursed),
                        ]
                    }, numeric: [4, 5], footer: [l.pick("Summa", "Total"), "", "", "", m(r.awarded), m(r.disbursed)]), newPage: true)
        return page.document
    }

    static func countryName(_ code: String) -> String { IATICodelist.country[code]?.name ?? code }
}
