import GrantsCore

extension YearReport {
    /// The year as one self-contained HTML page for A4: the key figures and the money by quarter, then the
    /// money by theme and by partner country as bars, the partner countries' shares, and the views by round,
    /// kind and phase, the first-timers; each chart with its numbers in a table beside it. Every text from the
    /// database is escaped.
    ///
    /// ```swift
    /// try output.write(year.html(language: .english))
    /// ```
    public func html(language: ReportLanguage = .swedish) -> String {
        let l = language
        let who = programme ?? l.pick("alla program", "every programme")
        var page = HTMLPage(language: l, title: l.pick("\(who): året \(year)", "\(who): the year \(year)"))
        func m(_ amount: Money) -> String { HTMLText.escape(l.money(amount)) }
        let awarded = l.pick("Beviljat", "Awarded")
        let disbursedWord = l.pick("Utbetalt (netto)", "Disbursed (net)")

        page.append(
            "<h1>\(HTMLText.name(who)) – \(l.pick("året", "the year")) \(year)</h1>"
                + "<p class=\"lead\">\(l.pick("Affärsdagar 1 januari – 31 december", "Business dates 1 January – 31 December")) \(year). "
                + l.pick(
                    "Varje belopp under året är summan av utbetalningsrapportens rader för samma period.",
                    "Every amount of the year is the sum of the disbursement report's rows for the same period.") + "</p>")

        let figures: [(String, Money)] = [
            (l.pick("Budget för årets omgångar", "Budget of the year's rounds"), budget), (awarded, self.awarded),
            (l.pick("Ändringar", "Amendments"), amended), (l.pick("Utbetalt", "Paid"), paid),
            (l.pick("Återförda utbetalningar", "Reversed"), reversed), (l.pick("Återbetalt", "Repaid"), repaid),
            (disbursedWord, disbursed), (l.pick("Avskrivet", "Written off"), writtenOff),
            (l.pick("Frigjort vid avslut", "Released at closing"), reclaimed), (l.pick("Makulerat", "Cancelled"), cancelled),
            (l.pick("Förfallet under året, ej utbetalt", "Due in the year, not paid"), dueUnpaid),
            (l.pick("Öppna återkrav vid årets slut", "Claims open at the year's end"), claimsOpen),
            (l.pick("Åtaganden ej utbetalda vid årets slut", "Committed, not paid, at the year's end"), committedUnpaid),
        ]
        let counts: [(String, Int)] = [
            (l.pick("Omgångar beslutade", "Rounds decided"), rounds), (l.pick("Bidrag beviljade", "Grants decided"), grantCounts.decided),
            (l.pick("Bidrag som startade", "Grants started"), grantCounts.started),
            (l.pick("Bidrag som pågick", "Grants running"), grantCounts.running),
            (l.pick("Bidrag som slutade", "Grants ended"), grantCounts.ended),
            (l.pick("Bidrag avslutade", "Grants closed"), grantCounts.closed),
            (l.pick("Rapporter att lämna", "Reports due"), requirements.due),
            (l.pick("Rapporter mottagna", "Reports received"), requirements.received),
            (l.pick("Rapporter försenade vid årets slut", "Reports overdue at the year's end"), requirements.overdue),
            (l.pick("Nya kommuner och regioner", "Municipalities and regions new to the programme"), firstTimers.count),
        ]
        page.section(
            "<h2>\(l.pick("Året i siffror", "The year in figures"))</h2><div class=\"pair\"><div>"
                + HTMLPage.table(
                    header: [l.pick("Belopp", "Amount"), currency.rawValue], rows: figures.map { [HTMLText.escape($0.0), m($0.1)] },
                    numeric: [1])
                + "</div><div>"
                + HTMLPage.table(
                    header: [l.pick("Antal", "Count"), ""], rows: counts.map { [HTMLText.escape($0.0), String($0.1)] }, numeric: [1])
                + "</div></div>")

        let quarterNames = quarters.map { "Q\($0.quarter)" }
        let quarterChart = SVGChart.line(
            id: "quarters", title: l.pick("Beviljat och utbetalt per kvartal \(year)", "Awarded and disbursed per quarter, \(year)"),
            description: quarters.map {
                "Q\($0.quarter): \(awarded.lowercased()) \(l.money($0.awarded)), \(disbursedWord.lowercased()) \(l.money($0.disbursed))"
            }.joined(separator: "; "),
            categories: quarterNames,
            series: [
                (
                    SVGChart.Series(name: l.pick("Beviljat med ändringar", "Awarded with amendments"), colour: SVGChart.palette[0]),
                    quarters.map(\.awarded.minorUnits)
                ),
                (SVGChart.Series(name: disbursedWord, colour: SVGChart.palette[1]), quarters.map(\.disbursed.minorUnits)),
            ], format: { l.money(Money(minorUnits: $0, currency: currency)) })
        page.section(
            "<h2>\(l.pick("Per kvartal", "By quarter"))</h2>"
                + HTMLPage.pair(
                    chart: quarterChart,
                    table: HTMLPage.table(
                        header: [l.pick("Kvartal", "Quarter"), awarded, disbursedWord],
                        rows: quarters.map { ["Q\($0.quarter)", m($0.awarded), m($0.disbursed)] }, numeric: [1, 2],
                        footer: [l.pick("Summa", "Total"), (try? self.awarded + amended).map(m) ?? "", m(disbursed)])))

        page.section(viewSection(title: l.pick("Per tema", "By theme"), id: "themes", shares: byTheme, language: l), newPage: true)
        page.section(viewSection(title: l.pick("Per partnerland", "By partner country"), id: "countries", shares: byCountry, language: l))

        let countryParts = byCountry.map {
            SVGChart.Row(label: $0.key.isEmpty ? label($0, l) : $0.key, values: [$0.awarded.minorUnits &+ $0.amended.minorUnits])
        }
        let proportion = SVGChart.proportions(
            id: "country-shares",
            title: l.pick("Partnerländernas andel av det beviljade", "The partner countries' shares of the awards"),
            description: byCountry.map { "\(label($0, l)) \(l.money((try? $0.awarded + $0.amended) ?? $0.awarded))" }.joined(
                separator: "; "),
            parts: SVGChart.capped(countryParts, other: l.pick("Övriga", "Others")),
            empty: l.pick("Inget beviljat under året", "Nothing awarded in the year"))
        page.section(
            "<h2>\(l.pick("Partnerländernas andelar", "Partner countries' shares"))</h2>" + proportion
                + "<p class=\"note\">"
                + l.pick(
                    "Ett bidrag med flera teman eller partnerländer delas lika mellan dem på öret när (resten till det första); i kolumnen bidrag räknas det under vart och ett.",
                    "A grant with several themes or partner countries is split evenly between them to the öre (the remainder to the first); in the grants column it counts under each."
                )
                + "</p>", newPage: true)
        page.section(simpleView(title: l.pick("Per omgång", "By round"), shares: byRound, budget: true, language: l))
        page.section(
            simpleView(title: l.pick("Per typ av organisation", "By kind of organisation"), shares: byKind, budget: false, language: l))
        page.section(simpleView(title: l.pick("Per fas", "By phase"), shares: byPhase, budget: false, language: l))
        page.section(
            "<h2>\(l.pick("Nya kommuner och regioner", "Municipalities and regions new to the programme"))</h2>"
                + HTMLPage.table(
                    header: [
                        l.pick("Namn", "Name"), l.pick("Typ", "Kind"), l.pick("Organisationsnummer", "Organisation number"),
                        l.pick("Första beslut", "First decision"), l.pick("Bidrag", "Grants"),
                    ],
                    rows: firstTimers.map {
                        [
                            HTMLText.name($0.name), $0.kind == .region ? "Region" : l.pick("Kommun", "Municipality"),
                            HTMLText.escape($0.orgNumber ?? ""), $0.firstDecidedOn.iso, String($0.grants),
                        ]
                    }, numeric: [4]))
        return page.document
    }

    func label(_ share: Share, _ l: ReportLanguage) -> String { l == .swedish ? share.nameSv : share.nameEn }

    /// A view as bars (awarded with amendments, and disbursed) beside its table.
    func viewSection(title: String, id: String, shares: [Share], language l: ReportLanguage) -> String {
        let awarded = l.pick("Beviljat med ändringar", "Awarded with amendments")
        let disbursedWord = l.pick("Utbetalt (netto)", "Disbursed (net)")
        let rows = shares.map {
            SVGChart.Row(label: label($0, l), values: [$0.awarded.minorUnits &+ $0.amended.minorUnits, $0.disbursed.minorUnits])
        }
        let chart = SVGChart.bars(
            id: id, title: title,
            description: shares.map {
                "\(label($0, l)): \(awarded.lowercased()) \(l.money((try? $0.awarded + $0.amended) ?? $0.awarded)), \(disbursedWord.lowercased()) \(l.money($0.disbursed))"
            }.joined(separator: "; "),
            series: [
                SVGChart.Series(name: awarded, colour: SVGChart.palette[0]),
                SVGChart.Series(name: disbursedWord, colour: SVGChart.palette[1]),
            ],
            rows: SVGChart.capped(rows, other: l.pick("Övriga", "Others")), empty: l.pick("Inget under året", "Nothing in the year"),
            format: { l.money(Money(minorUnits: $0, currency: self.currency)) })
        let table = HTMLPage.table(
            header: [
                title.components(separatedBy: " ").last ?? "", l.pick("Bidrag", "Grants"), l.pick("Beviljat", "Awarded"),
                l.pick("Ändrat", "Amended"), l.pick("Utbetalt", "Disbursed"),
            ],
            rows: shares.map {
                [
                    HTMLText.name(label($0, l)), String($0.grants), HTMLText.escape(l.money($0.awarded)),
                    HTMLText.escape(l.money($0.amended)), HTMLText.escape(l.money($0.disbursed)),
                ]
            },
            numeric: [1, 2, 3, 4],
            footer: [
                l.pick("Summa", "Total"), "", HTMLText.escape(l.money(self.awarded)), HTMLText.escape(l.money(amended)),
                HTMLText.escape(l.money(disbursed)),
            ])
        return "<h2>\(HTMLText.escape(title))</h2>" + HTMLPage.pair(chart: chart, table: table)
    }

    /// A view as a table alone (rounds, kinds, phases: few rows, no chart needed).
    func simpleView(title: String, shares: [Share], budget withBudget: Bool, language l: ReportLanguage) -> String {
        var header = [
            "", l.pick("Bidrag", "Grants"), l.pick("Beviljat", "Awarded"), l.pick("Ändrat", "Amended"), l.pick("Utbetalt", "Disbursed"),
        ]
        if withBudget { header.append("Budget") }
        func money(_ amount: Money) -> String { HTMLText.escape(l.money(amount)) }
        var footer = [l.pick("Summa", "Total"), "", money(awarded), money(amended), money(disbursed)]
        if withBudget { footer.append(money(budget)) }
        return "<h2>\(HTMLText.escape(title))</h2>"
            + HTMLPage.table(
                header: header,
                rows: shares.map { share in
                    var cells = [
                        HTMLText.name(label(share, l)), String(share.grants), money(share.awarded), money(share.amended),
                        money(share.disbursed),
                    ]
                    if withBudget { cells.append(money(share.budget)) }
                    return cells
                }, numeric: Set(1..<header.count), footer: footer)
    }
}
