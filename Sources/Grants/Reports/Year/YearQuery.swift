import PGClient

/// The statements behind ``Reports/year(_:programme:)``: the year's money (totals, quarters and every view) in
/// one statement over the disbursement export's own rows, the figures at the year's end in a second, and the
/// first-timers in a third.
struct YearQuery {
    let programme: String?
    let first: CalendarDate
    let last: CalendarDate

    /// The export's selection for the year: the same rows `report disbursements --from --to` writes.
    var filter: ReportFilter { ReportFilter(programme: programme, from: first, to: last) }

    /// An amount `x` of a grant spread over its `n` rows (themes or countries): each takes `x / n`, the first
    /// (`i = 1`) the remainder too, so the shares add up to `x` exactly, negative amounts included (PostgreSQL's
    /// division truncates and `%` keeps the dividend's sign).
    static func share(_ column: String) -> PGQuery {
        "(\(unsafeRaw: column) / s.n + CASE WHEN s.i = 1 THEN \(unsafeRaw: column) % s.n ELSE 0 END)"
    }

    /// Rows of (view, key, name_sv, name_en, grants, awarded, amended, disbursed, budget). View `total` has one
    /// row per kind of money (the export's statuses, `awarded`, `amended`, and `budget` for the year's rounds,
    /// with their number as `grants`), its sum as `awarded`; view `quarter` one row per quarter with money.
    var money: PGQuery {
        let filter = filter
        let amendedOn = ReportFilter.businessDate("m.amended_on", recorded: "m.amended_at")
        let views: [(name: String, source: String)] = [("theme", "themed"), ("country", "countried")]
        let split: [PGQuery] = views.map { view in
            """
            SELECT \(view.name)::text, coalesce(s.key, ''), coalesce(\(unsafeRaw: view.name == "theme" ? "th.name_sv" : "''"), ''),
                   coalesce(\(unsafeRaw: view.name == "theme" ? "th.name_en" : "''"), ''),
                   (count(*) FILTER (WHERE s.counted))::int8, sum(\(Self.share("s.awarded")))::int8,
                   sum(\(Self.share("s.amended")))::int8, sum(\(Self.share("s.disbursed")))::int8, 0::int8
            FROM \(unsafeRaw: view.source) s \(unsafeRaw: view.name == "theme" ? "LEFT JOIN grants.theme th ON th.code = s.key" : "")
            GROUP BY 1, 2, 3, 4 HAVING bool_or(s.counted)
            """
        }
        return """
            WITH scope AS MATERIALIZED (
                SELECT d.grant_id, st.status AS kind, d.amount, \(DisbursementRow.businessDate) AS on_date
                \(DisbursementRow.entries)
                CROSS JOIN LATERAL (SELECT \(DisbursementRow.status(filter)) AS status) st
                WHERE \(filter.condition)
                UNION ALL
                SELECT g.id, 'awarded', g.original_amount, ap.decided_on
                FROM grants.grant g JOIN grants.approval ap ON ap.application_id = g.application_id
                JOIN grants.allocation_round r ON r.id = g.round_id JOIN grants.programme p ON p.id = g.programme_id
                WHERE \(filter.grantCondition) AND ap.decided_on BETWEEN \(first) AND \(last)
                UNION ALL
                SELECT g.id, 'amended', m.amount_change, \(amendedOn)
                FROM grants.grant_amendment m JOIN grants.grant g ON g.id = m.grant_id
                JOIN grants.allocation_round r ON r.id = g.round_id JOIN grants.programme p ON p.id = g.programme_id
                WHERE \(filter.grantCondition) AND m.amount_change <> 0
                  AND \(amendedOn) BETWEEN \(first) AND \(last)
            ),
            per_grant AS MATERIALIZED (
                SELECT s.grant_id, g.application_id, g.round_id, a.phase, o.kind,
                       coalesce(sum(s.amount) FILTER (WHERE s.kind = 'awarded'), 0)::int8 AS awarded,
                       coalesce(sum(s.amount) FILTER (WHERE s.kind = 'amended'), 0)::int8 AS amended,
                       coalesce(sum(s.amount) FILTER (WHERE s.kind IN ('paid', 'reversal', 'repayment')), 0)::int8 AS disbursed,
                       bool_or(s.kind IN ('awarded', 'amended', 'paid', 'reversal', 'repayment')) AS counted
                FROM scope s JOIN grants.grant g ON g.id = s.grant_id JOIN grants.application a ON a.id = g.application_id
                JOIN grants.organisation o ON o.id = a.applicant_id
                GROUP BY s.grant_id, g.application_id, g.round_id, a.phase, o.kind
            ),
            themed AS (
                SELECT t.theme_code AS key, pg.counted, pg.awarded, pg.amended, pg.disbursed,
                       count(*) OVER w AS n, row_number() OVER w AS i
                FROM per_grant pg LEFT JOIN grants.application_theme t ON t.application_id = pg.application_id
                WINDOW w AS (PARTITION BY pg.grant_id ORDER BY t.position, t.theme_code
                             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            ),
            countries AS (
                SELECT x.application_id, o.country, min(x.position) AS first
                FROM grants.application_partner x JOIN grants.organisation o ON o.id = x.organisation_id
                WHERE x.application_id IN (SELECT application_id FROM per_grant)
                GROUP BY x.application_id, o.country
            ),
            countried AS (
                SELECT c.country AS key, pg.counted, pg.awarded, pg.amended, pg.disbursed,
                       count(*) OVER w AS n, row_number() OVER w AS i
                FROM per_grant pg LEFT JOIN countries c ON c.application_id = pg.application_id
                WINDOW w AS (PARTITION BY pg.grant_id ORDER BY c.first, c.country
                             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            ),
            year_rounds AS (
                SELECT r.id, r.budget FROM grants.allocation_round r JOIN grants.programme p ON p.id = r.programme_id
                WHERE (\(programme)::text IS NULL OR p.name = \(programme))
                  AND coalesce(r.decided_on, (SELECT min(ap.decided_on) FROM grants.grant g
                                              JOIN grants.approval ap ON ap.application_id = g.application_id
                                              WHERE g.round_id = r.id)) BETWEEN \(first) AND \(last)
            )
            \(split[0])
            UNION ALL
            \(split[1])
            UNION ALL
            SELECT 'round', r.name, r.name, r.name, (count(*) FILTER (WHERE x.counted))::int8, sum(x.awarded)::int8,
                   sum(x.amended)::int8, sum(x.disbursed)::int8, sum(x.budget)::int8
            FROM (
                SELECT round_id, counted, awarded, amended, disbursed, 0::int8 AS budget FROM per_grant
                UNION ALL SELECT id, false, 0, 0, 0, budget FROM year_rounds
            ) x JOIN grants.allocation_round r ON r.id = x.round_id
            GROUP BY r.id, r.name HAVING bool_or(x.counted) OR sum(x.budget) > 0
            UNION ALL
            SELECT 'kind', kind, kind, kind, (count(*) FILTER (WHERE counted))::int8, sum(awarded)::int8, sum(amended)::int8,
                   sum(disbursed)::int8, 0::int8
            FROM per_grant GROUP BY kind HAVING bool_or(counted)
            UNION ALL
            SELECT 'phase', phase, phase, phase, (count(*) FILTER (WHERE counted))::int8, sum(awarded)::int8,
                   sum(amended)::int8, sum(disbursed)::int8, 0::int8
            FROM per_grant GROUP BY phase HAVING bool_or(counted)
            UNION ALL
            SELECT 'quarter', extract(quarter FROM on_date)::int::text, '', '', 0::int8,
                   coalesce(sum(amount) FILTER (WHERE kind IN ('awarded', 'amended')), 0)::int8, 0::int8,
                   coalesce(sum(amount) FILTER (WHERE kind IN ('paid', 'reversal', 'repayment')), 0)::int8, 0::int8
            FROM scope GROUP BY 2
            UNION ALL
            SELECT 'total', kind, '', '', count(*)::int8, sum(amount)::int8, 0::int8, 0::int8, 0::int8 FROM scope GROUP BY kind
            UNION ALL
            SELECT 'total', 'budget', '', '', count(*)::int8, coalesce(sum(budget), 0)::int8, 0::int8, 0::int8, 0::int8
            FROM year_rounds
            """
    }

    /// One row: two unused columns (0), claims open and commitments unpaid at the year's end; grants
    /// decided, started, running, ended, closed; requirements due, received, overdue.
    var stocks: PGQuery {
        let end = ReportFilter(asOf: last)
        let amendedOn = ReportFilter.businessDate("m.amended_on", recorded: "m.amended_at")
        let amended = end.holds(amendedOn, recorded: "m.amended_at")
        return """
            WITH gr AS MATERIALIZED (
                SELECT g.id, g.starts_on, g.original_amount, g.status, g.closed_on, g.reclaimed, ap.decided_on,
                       coalesce(e.new_ends_on, g.original_ends_on) AS ends_on,
                       coalesce(am.change, 0) AS amended, coalesce(pd.paid, 0) AS paid
                FROM grants.grant g JOIN grants.approval ap ON ap.application_id = g.application_id
                JOIN grants.allocation_round r ON r.id = g.round_id JOIN grants.programme p ON p.id = g.programme_id
                LEFT JOIN (
                    SELECT DISTINCT ON (m.grant_id) m.grant_id, m.new_ends_on FROM grants.grant_amendment m
                    WHERE m.new_ends_on IS NOT NULL AND \(amended)
                    ORDER BY m.grant_id, \(amendedOn) DESC, m.id DESC
                ) e ON e.grant_id = g.id
                LEFT JOIN (
                    SELECT m.grant_id, sum(m.amount_change) AS change FROM grants.grant_amendment m
                    WHERE \(amended) GROUP BY m.grant_id
                ) am ON am.grant_id = g.id
                LEFT JOIN (
                    SELECT d.grant_id, sum(d.amount) AS paid FROM grants.disbursement d
                    WHERE d.status IN ('paid', 'reversal') AND d.paid_on <= \(last) GROUP BY d.grant_id
                ) pd ON pd.grant_id = g.id
                WHERE \(filter.grantCondition) AND ap.decided_on <= \(last)
            )
            SELECT 0::int8, 0::int8,
                   coalesce((SELECT sum(s.claimed - coalesce(rp.repaid, 0)
                                        - CASE WHEN gr.status = 'closed' AND gr.closed_on <= \(last) THEN s.written_off ELSE 0 END)
                             FROM grants.settlement s JOIN gr ON gr.id = s.grant_id
                             LEFT JOIN (SELECT grant_id, sum(amount) AS repaid FROM grants.repayment
                                        WHERE received_on <= \(last) GROUP BY grant_id) rp ON rp.grant_id = s.grant_id
                             WHERE s.settled_on <= \(last)), 0)::int8,
                   coalesce((SELECT sum(gr.original_amount + gr.amended - gr.paid
                                        - CASE WHEN gr.status = 'closed' AND gr.closed_on <= \(last) THEN gr.reclaimed ELSE 0 END)
                             FROM gr), 0)::int8,
                   c.decided, c.started, c.running, c.ended, c.closed, q.due, q.received, q.overdue
            FROM (
                SELECT (count(*) FILTER (WHERE decided_on >= \(first)))::int8 AS decided,
                       (count(*) FILTER (WHERE starts_on BETWEEN \(first) AND \(last)))::int8 AS started,
                       (count(*) FILTER (WHERE starts_on <= \(last) AND ends_on >= \(first)))::int8 AS running,
                       (count(*) FILTER (WHERE ends_on BETWEEN \(first) AND \(last)))::int8 AS ended,
                       (count(*) FILTER (WHERE status = 'closed' AND closed_on BETWEEN \(first) AND \(last)))::int8 AS closed
                FROM gr
            ) c, (
                SELECT (count(*) FILTER (WHERE q.due_on BETWEEN \(first) AND \(last)))::int8 AS due,
                       (count(*) FILTER (WHERE q.received_on BETWEEN \(first) AND \(last)))::int8 AS received,
                       (count(*) FILTER (WHERE q.due_on <= \(last)
                                           AND NOT (q.status = 'approved' AND q.approved_on <= \(last))
                                           AND NOT (q.status = 'waived'
                                                    AND \(ReportFilter.businessDate("NULL::date", recorded: "q.changed_at")) <= \(last))))::int8
                           AS overdue
                FROM grants.reporting_requirement q JOIN gr ON gr.id = q.grant_id
            ) q
            """
    }

    /// The Swedish municipalities and regions whose first grant in scope (ever, not only in the year) was
    /// decided in the year: name, kind, organisationsnummer, first decision, grants decided in the year.
    var firstTimers: PGQuery {
        """
        SELECT o.name, o.kind, o.org_number, f.first, f.grants
        FROM (
            SELECT a.applicant_id, min(ap.decided_on) AS first,
                   (count(*) FILTER (WHERE ap.decided_on BETWEEN \(first) AND \(last)))::int8 AS grants
            FROM grants.grant g JOIN grants.application a ON a.id = g.application_id
            JOIN grants.approval ap ON ap.application_id = a.id
            JOIN grants.allocation_round r ON r.id = g.round_id JOIN grants.programme p ON p.id = g.programme_id
            WHERE \(filter.grantCondition)
            GROUP BY a.applicant_id
        ) f JOIN grants.organisation o ON o.id = f.applicant_id
        WHERE f.first BETWEEN \(first) AND \(last) AND o.kind IN ('municipality', 'region')
        ORDER BY o.name, o.id
        """
    }
}

extension YearQuery {
    /// The rows of ``YearQuery/money``, decoded: totals by kind, quarters, and the views named and ordered.
    struct Money {
        struct Line {
            let view: String
            let key: String
            let nameSv: String
            let nameEn: String
            let grants: Int
            let awarded: Int64
            let amended: Int64
            let disbursed: Int64
            let budget: Int64
        }
        let lines: [Line]
        let currency: Currency

        init(rows: PGResult, currency: Currency) throws {
            lines = try rows.map { row in
                Line(
                    view: try row.decode(column: 0), key: try row.decode(column: 1), nameSv: try row.decode(column: 2),
                    nameEn: try row.decode(column: 3), grants: try row.decode(column: 4), awarded: try row.decode(column: 5),
                    amended: try row.decode(column: 6), disbursed: try row.decode(column: 7), budget: try row.decode(column: 8))
            }
            self.currency = currency
        }

        func amount(_ minorUnits: Int64) -> GrantsCore.Money { GrantsCore.Money(minorUnits: minorUnits, currency: currency) }

        /// The sum of one kind of money (an export status, `awarded`, `amended`, `budget`), zero when absent.
        func total(_ kind: String) -> GrantsCore.Money {
            amount(lines.first { $0.view == "total" && $0.key == kind }?.awarded ?? 0)
        }

        /// How many rows (or rounds, for `budget`) one kind of money has.
        func count(_ kind: String) -> Int { lines.first { $0.view == "total" && $0.key == kind }?.grants ?? 0 }

        var quarters: [YearReport.Quarter] {
            (1...4).map { q in
                let line = lines.first { $0.view == "quarter" && $0.key == String(q) }
                return YearReport.Quarter(quarter: q, awarded: amount(line?.awarded ?? 0), disbursed: amount(line?.disbursed ?? 0))
            }
        }

        func view(_ name: String) -> [YearReport.Share] {
            let shares = lines.filter { $0.view == name }.map { line in
                let (sv, en) = YearQuery.names(view: name, line: line)
                return YearReport.Share(
                    key: line.key, nameSv: sv, nameEn: en, grants: line.grants, awarded: amount(line.awarded),
                    amended: amount(line.amended), disbursed: amount(line.disbursed), budget: amount(line.budget))
            }
            switch name {
            case "round": return shares.sorted { $0.key < $1.key }
            case "kind":
                let order = OrganisationKind.allCases.map(\.rawValue)
                return shares.sorted { (order.firstIndex(of: $0.key) ?? order.count) < (order.firstIndex(of: $1.key) ?? order.count) }
            case "phase":
                let order = Phase.allCases.map(\.rawValue)
                return shares.sorted { (order.firstIndex(of: $0.key) ?? order.count) < (order.firstIndex(of: $1.key) ?? order.count) }
            default:
                // Most money first; the empty key ("none") last.
                return shares.sorted {
                    if $0.key.isEmpty != $1.key.isEmpty { return !$0.key.isEmpty }
                    let a = $0.awarded.minorUnits &+ $0.amended.minorUnits
                    let b = $1.awarded.minorUnits &+ $1.amended.minorUnits
                    if a != b { return a > b }
                    if $0.disbursed != $1.disbursed { return $0.disbursed.minorUnits > $1.disbursed.minorUnits }
                    return $0.key < $1.key
                }
            }
        }
    }

    /// A line's names in Swedish and English: a theme's own; a country's from the ISO list (English); the kinds
    /// and phases in words; the empty key as "none".
    static func names(view: String, line: Money.Line) -> (String, String) {
        switch (view, line.key) {
        case ("theme", ""): return ("(inget tema)", "(no theme)")
        case ("country", ""): return ("(inget land)", "(no country)")
        case ("country", let code):
            let name = IATICodelist.country[code]?.name ?? code
            return (name, name)
        case ("kind", "municipality"): return ("Kommun", "Municipality")
        case ("kind", "region"): return ("Region", "Region")
        case ("kind", _): return ("Annan", "Other")
        case ("phase", "inception"): return ("Förstudie", "Inception")
        case ("phase", "project"): return ("Projekt", "Project")
        default: return (line.nameSv, line.nameEn)
        }
    }
}
