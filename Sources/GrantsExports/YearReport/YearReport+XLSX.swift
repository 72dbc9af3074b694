import Foundation
import GrantsCore

extension YearReport {
    /// The year as a workbook: a summary sheet, the quarters, one sheet per view (theme, country, round, kind,
    /// phase) with a total row, and the first-timers. Amounts are numbers with two decimals, counts whole numbers,
    /// dates dates; the totals are values computed here, never formulas.
    ///
    /// ```swift
    /// let output = try ReportOutput.file(at: "year-2023.xlsx")
    /// try year.writeXLSX(to: output)
    /// try output.commit()
    /// ```
    public func writeXLSX(to output: ReportOutput, generatedAt: Date = ExportOptions.defaultGenerationTime()) throws(GrantsError) {
        let summaryRows: [(String, Money?, Int?)] = [
            ("budget", budget, rounds), ("awarded", awarded, grantCounts.decided), ("amended", amended, nil), ("paid", paid, nil),
            ("reversed", reversed, nil), ("repaid", repaid, nil), ("disbursed", disbursed, nil), ("written_off", writtenOff, nil),
            ("reclaimed", reclaimed, nil), ("cancelled", cancelled, nil), ("due_unpaid", dueUnpaid, nil),
            ("claims_open_at_year_end", claimsOpen, nil), ("committed_unpaid_at_year_end", committedUnpaid, nil),
            ("grants_started", nil, grantCounts.started), ("grants_running", nil, grantCounts.running),
            ("grants_ended", nil, grantCounts.ended), ("grants_closed", nil, grantCounts.closed),
            ("reports_due", nil, requirements.due), ("reports_received", nil, requirements.received),
            ("reports_overdue_at_year_end", nil, requirements.overdue), ("first_time_municipalities_and_regions", nil, firstTimers.count),
        ]
        let summary = XLSXSheet(
            name: "Summary", columns: [("figure", 36), ("amount", 16), ("count", 10), ("currency", 9), ("year", 8)],
            rows: summaryRows.map { row in
                [.text(row.0), .amount(row.1), .integer(row.2.map(Int64.init)), .text(currency.rawValue), .integer(Int64(year))]
            })
        let quarterSheet = XLSXSheet(
            name: "Quarters", columns: [("quarter", 10), ("awarded", 16), ("disbursed", 16)],
            rows: quarters.map { [.text("Q\($0.quarter)"), .amount($0.awarded), .amount($0.disbursed)] }
                + [[.text("total"), .amount(try? amended + awarded), .amount(disbursed)]])
        let sheetNames = ["theme": "By theme", "country": "By country", "round": "By round", "kind": "By kind", "phase": "By phase"]
        let viewSheets = views.map { view in
            var columns: [(name: String, width: Double)] = [
                (view.name, 28), ("name_sv", 30), ("name_en", 30), ("grants", 8), ("awarded", 16), ("amended", 16), ("disbursed", 16),
            ]
            if view.name == "round" { columns.append(("budget", 16)) }
            var rows: [[XLSXCell]] = view.shares.map { share in
                var cells: [XLSXCell] = [
                    .text(share.key), .text(share.nameSv), .text(share.nameEn), .integer(Int64(share.grants)), .amount(share.awarded),
                    .amount(share.amended), .amount(share.disbursed),
                ]
                if view.name == "round" { cells.append(.amount(share.budget)) }
                return cells
            }
            // The year's totals, which each view adds up to (grants: the year's own count, not the sum of the
            // view's, which counts a grant under each of its themes or countries).
            var total: [XLSXCell] = [
                .text("total"), .text(nil), .text(nil), .integer(nil), .amount(awarded), .amount(amended), .amount(disbursed),
            ]
            if view.name == "round" { total.append(.amount(budget)) }
            rows.append(total)
            return XLSXSheet(name: sheetNames[view.name] ?? view.name, columns: columns, rows: rows)
        }
        let newcomers = XLSXSheet(
            name: "First-timers", columns: [("name", 32), ("kind", 14), ("org_number", 14), ("first_decided_on", 16), ("grants", 8)],
            rows: firstTimers.map {
                [.text($0.name), .text($0.kind.rawValue), .text($0.orgNumber), .date($0.firstDecidedOn), .integer(Int64($0.grants))]
            })
        try XLSXWriter(generatedAt: generatedAt).write(
            title: "Year \(year)", sheets: [summary, quarterSheet] + viewSheets + [newcomers], to: output)
    }
}
