import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// The funder's year (`service.reports.year`): every figure against the disbursement export of the same
/// period read back independently (its CSV and its JSON), the figures at the year's end against sums worked out
/// by hand, views that add up, first-timers right across years, and the HTML with hostile names escaped.
@Suite("Year report")
struct YearReportTests {
    static let programme = "Kommunala partnerskap"
    static let equality = Theme(code: "gender-equality", nameSv: "Jämställdhet", nameEn: "Gender equality", dacSector: "15170")
    /// A municipality whose name is markup: it must come out of every HTML report as text.
    static let hostile = "Kommun <script>alert(\"x\")</script> & 'Co'"

    /// Three rounds over three years, with every kind of money event:
    /// - 2021:2 (decided 2021-12-01): KP-1, KP-2, KP-3, 500 000 each (Kommun 1–3; partners in KE and ZM).
    /// - 2022:1 (decided 2022-06-15): N-1 (Kommun 1 again) 400 000; N-2 (Region Halland, new) 400 000,01 over
    ///   three themes.
    /// - 2023:1 (decided 2023-03-01): M-1 (Region Halland again) and M-2 (a new municipality with a hostile
    ///   name), 300 000 each.
    /// In 2022: KP-1 paid 250 000 and amended +50 000; KP-2 paid and reversed; KP-3 paid 250 000, its second
    /// tranche cancelled, amended −100 000, settled (claim 50 000), 20 000 repaid, closed with 30 000 written off
    /// (150 000 released); N-1 paid 200 000; an interim report of N-1 due 2022-11-30 never comes. In 2023: KP-1's
    /// second tranche paid; its final report due, received and approved.
    static func threeYears(_ service: GrantsService) async throws {
        try await service.rounds.record(sampleManifest(count: 3), actor: "anna")
        var second = sampleManifest(round: "2022:1", budget: "5 000 000", count: 2, amount: "400 000", prefix: "N")
        second.round.decidedOn = day("2022-06-15")
        second.themes.append(equality)
        second.grants[0].applicant = NewOrganisation(name: "Kommun 1", country: "SE", kind: .municipality)
        second.grants[1].applicant = NewOrganisation(name: "Region Halland", country: "SE", kind: .region)
        second.grants[1].themes = [equality.code, dialogue.code, youth.code]
        second.grants[1].amount = sek("400 000,01")
        second.grants[1].requested = sek("400 000,01")
        for i in second.grants.indices {
            second.grants[i].tranches = [
                Tranche(dueOn: day("2022-09-30"), amount: sek("200 000")),
                Tranche(dueOn: day("2023-03-31"), amount: i == 1 ? sek("200 000,01") : sek("200 000")),
            ]
        }
        try await service.rounds.record(second, actor: "anna")
        var third = sampleManifest(round: "2023:1", budget: "2 000 000", count: 2, amount: "300 000", prefix: "M")
        third.round.decidedOn = day("2023-03-01")
        third.grants[0].applicant = NewOrganisation(name: "Region Halland", country: "SE", kind: .region)
        third.grants[1].applicant = NewOrganisation(name: hostile, country: "SE", kind: .municipality)
        for i in third.grants.indices {
            third.grants[i].startsOn = day("2023-04-01")
            third.grants[i].endsOn = day("2024-12-31")
            third.grants[i].tranches = [Tranche(dueOn: day("2023-06-30"), amount: sek("300 000"))]
        }
        try await service.rounds.record(third, actor: "anna")

        let ids = Dictionary(
            uniqueKeysWithValues: try await service.disbursements.list().map { ("\($0.grantReference)/\($0.tranche ?? 0)", $0.id) })
        struct NoTranche: Error { let key: String }
        func id(_ key: String) throws -> Int64 {
            guard let id = ids[key] else { throw NoTranche(key: key) }
            return id
        }
        for key in ["KP-1/1", "KP-2/1", "KP-3/1", "N-1/1", "KP-1/2"] {
            try await service.disbursements.attest(try id(key), actor: "bertil")
        }
        try await service.disbursements.pay(try id("KP-1/1"), paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
        try await service.disbursements.pay(try id("KP-2/1"), paidOn: day("2022-02-03"), paymentReference: "P-2", actor: "bertil")
        try await service.disbursements.reverse(try id("KP-2/1"), on: day("2022-02-10"), reason: "Wrong account", actor: "cecilia")
        try await service.disbursements.pay(try id("KP-3/1"), paidOn: day("2022-02-15"), paymentReference: "P-3", actor: "bertil")
        try await service.grants.amend("KP-1", amountChange: sek("50 000"), reason: "Extra visit", on: day("2022-03-15"), actor: "anna")
        try await service.disbursements.cancel(try id("KP-3/2"), on: day("2022-04-20"), reason: "Ends early", actor: "anna")
        try await service.grants.amend(
            "KP-3", amountChange: try sek("100 000").negated, reason: "Smaller", on: day("2022-05-01"), actor: "anna")
        try await service.disbursements.pay(try id("N-1/1"), paidOn: day("2022-10-03"), paymentReference: "P-N1", actor: "bertil")
        try await service.grants.settle("KP-3", spent: sek("200 000"), on: day("2022-11-15"), actor: "anna")
        try await service.repayments.receive(
            "KP-3", amount: sek("20 000"), on: day("2022-12-10"), paymentReference: "BG 1", actor: "bertil")
        try await service.grants.close("KP-3", on: day("2022-12-20"), writeOff: "The project account is closed", actor: "anna")
        _ = try await service.requirements.add("N-1", kind: .interim, dueOn: day("2022-11-30"), actor: "anna")
        try await service.disbursements.pay(try id("KP-1/2"), paidOn: day("2023-02-01"), paymentReference: "P-12", actor: "bertil")
        let final = try await service.requirements.add("KP-1", kind: .final, dueOn: day("2023-06-30"), actor: "anna")
        _ = try await service.requirements.receive(final.id, on: day("2023-06-20"), actor: "anna")
        _ = try await service.requirements.approve(final.id, on: day("2023-06-25"), actor: "anna")
    }

    /// Öre from the export's `1234.50` / `-250000.00`, parsed here rather than by the library.
    static func ore(_ text: String) -> Int64 {
        let negative = text.hasPrefix("-")
        let parts = text.drop { $0 == "-" }.split(separator: ".")
        let whole = Int64(parts[0]) ?? 0
        let cents = parts.count > 1 ? Int64(parts[1]) ?? 0 : 0
        return (negative ? -1 : 1) * (whole * 100 + cents)
    }

    /// Σ amount by status of the export of `year`, from its CSV and from its JSON (which must agree).
    static func exportSums(_ service: GrantsService, year: Int) async throws -> [String: Int64] {
        let filter = ReportFilter(programme: programme, from: day("\(year)-01-01"), to: day("\(year)-12-31"))
        let csv = String(decoding: try await export(service, .csv, filter: filter), as: UTF8.self)
        var fromCSV: [String: Int64] = [:]
        for line in csv.components(separatedBy: "\r\n").dropFirst() where !line.isEmpty {
            let cells = line.components(separatedBy: ",")
            fromCSV[cells[11], default: 0] += ore(cells[12])
        }
        let json = try #require(
            try JSONSerialization.jsonObject(with: try await export(service, .json, filter: filter)) as? [[String: Any]])
        var fromJSON: [String: Int64] = [:]
        for row in json { fromJSON[row["status"] as? String ?? "?", default: 0] += ore(row["amount"] as? String ?? "") }
        #expect(fromCSV == fromJSON, "the csv and json exports of \(year) disagree")
        return fromCSV
    }

    @Test func everyFigureReconcilesWithTheDisbursementExportOfTheYear() async throws {
        try await TestGrants.withService { service, _ in
            try await Self.threeYears(service)
            for year in [2021, 2022, 2023, 2024] {
                let report = try await service.reports.year(year, programme: Self.programme)
                let rows = try await Self.exportSums(service, year: year)
                func sum(_ statuses: String...) -> Int64 { statuses.reduce(0) { $0 + (rows[$1] ?? 0) } }
                #expect(report.paid.minorUnits == sum("paid"), "\(year) paid")
                #expect(report.reversed.minorUnits == -sum("reversal"), "\(year) reversed")
                #expect(report.repaid.minorUnits == -sum("repayment"), "\(year) repaid")
                #expect(report.disbursed.minorUnits == sum("paid", "reversal", "repayment"), "\(year) disbursed")
                #expect(report.writtenOff.minorUnits == sum("write-off"), "\(year) written off")
                #expect(report.reclaimed.minorUnits == -sum("reclaim"), "\(year) reclaimed")
                #expect(report.cancelled.minorUnits == sum("cancelled"), "\(year) cancelled")
                #expect(report.dueUnpaid.minorUnits == sum("scheduled", "attested"), "\(year) due and unpaid")
                #expect(report.viewsThatDoNotAddUp.isEmpty, "\(year)")
                #expect(report.quarters.map(\.disbursed.minorUnits).reduce(0, +) == report.disbursed.minorUnits)
                #expect(
                    report.quarters.map(\.awarded.minorUnits).reduce(0, +) == report.awarded.minorUnits + report.amended.minorUnits)
            }
            // 2022, worked out by hand.
            let year = try await service.reports.year(2022, programme: Self.programme)
            #expect(year.budget == sek("5 000 000") && year.rounds == 1)
            let minus = try sek("50 000").negated
            #expect(year.awarded == sek("800 000,01") && year.amended == minus)
            #expect(year.paid == sek("950 000") && year.reversed == sek("250 000") && year.repaid == sek("20 000"))
            #expect(year.disbursed == sek("680 000"))
            #expect(year.writtenOff == sek("30 000") && year.reclaimed == sek("150 000") && year.cancelled == sek("250 000"))
            // N-2's first tranche, due 2022-09-30, is not paid.
            #expect(year.dueUnpaid == sek("200 000"))
            // KP-1 550 000 − 250 000, KP-2 500 000 − 0 (reversed), KP-3 closed (0), N-1 400 000 − 200 000, N-2 400 000,01.
            #expect(year.committedUnpaid == sek("1 400 000,01"))
            #expect(year.claimsOpen == Money.zero(.sek), "50 000 claimed, 20 000 repaid, 30 000 written off")
            #expect(year.grantCounts == YearReport.GrantCounts(decided: 2, started: 5, running: 5, ended: 0, closed: 1))
            #expect(year.requirements == YearReport.RequirementCounts(due: 1, received: 0, overdue: 1))
            // N-2 splits 400 000,01 over three themes: gender equality (its first) takes the odd öre.
            #expect(year.byTheme.first { $0.key == Self.equality.code }?.awarded == sek("133 333,35"))
            #expect(year.byRound.map(\.key) == ["2021:2", "2022:1"])
            #expect(year.byRound.first { $0.key == "2022:1" }?.budget == sek("5 000 000"))
            #expect(year.byKind.map(\.key) == ["municipality", "region"])

            let end2021 = try await service.reports.year(2021, programme: Self.programme)
            #expect(end2021.committedUnpaid == sek("1 500 000") && end2021.budget == sek("10 641 000"))
            let end2023 = try await service.reports.year(2023, programme: Self.programme)
            // KP-1 550 000 − 500 000, KP-2 500 000, N-1 200 000, N-2 400 000,01, M-1 and M-2 300 000 each.
            #expect(end2023.committedUnpaid == sek("1 750 000,01"))
            #expect(end2023.requirements == YearReport.RequirementCounts(due: 1, received: 1, overdue: 1))
            #expect(end2023.grantCounts.ended == 5 && end2023.grantCounts.started == 2)
        }
    }

    @Test func firstTimersAreRightAcrossYears() async throws {
        try await TestGrants.withService { service, _ in
            try await Self.threeYears(service)
            func names(_ year: Int) async throws -> [String] {
                try await service.reports.year(year, programme: Self.programme).firstTimers.map(\.name)
            }
            #expect(try await names(2021) == ["Kommun 1", "Kommun 2", "Kommun 3"])
            // Kommun 1 came back in 2022: not new; Region Halland was.
            #expect(try await names(2022) == ["Region Halland"])
            #expect(try await names(2023) == [Self.hostile])
            #expect(try await names(2024).isEmpty)
            let halland = try #require(try await service.reports.year(2022, programme: Self.programme).firstTimers.first)
            #expect(halland.kind == .region && halland.firstDecidedOn == day("2022-06-15") && halland.grants == 1)
        }
    }

    @Test func anUnknownProgrammeOrAYearOutOfRangeIsRefused() async throws {
        try await TestGrants.withService { service, _ in
            let unknown = await libraryError { _ = try await service.reports.year(2022, programme: "Nope") }
            #expect(unknown == GrantsError.invalidInput([Problem("programme", "no programme Nope is recorded")]))
            let outOfRange = await libraryError { _ = try await service.reports.year(12_022) }
            #expect(outOfRange == GrantsError.invalidInput([Problem("year", "12022 is not a year this report covers (1900 to 9998)")]))
            // An empty database: a year with nothing in it is zeros, not an error.
            let empty = try await service.reports.year(2022)
            #expect(empty.awarded == Money.zero(.sek) && empty.byTheme.isEmpty && empty.firstTimers.isEmpty)
        }
    }

    @Test func theHTMLEscapesWhatComesFromTheDatabase() async throws {
        try await TestGrants.withService { service, _ in
            try await Self.threeYears(service)
            let year = try await service.reports.year(2023, programme: Self.programme)
            for language in ReportLanguage.allCases {
                let html = year.html(language: language)
                #expect(!html.contains("<script"), "\(language)")
                #expect(html.contains("Kommun &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;"), "\(language)")
                #expect(html.contains("<html lang=\"\(language.rawValue)\">"))
                let links = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
                #expect(!links.contains("http:") && !links.contains("https:") && !links.contains("<script"), "self-contained")
            }
            #expect(
                year.html(language: .swedish).contains("Per partnerland") && year.html(language: .english).contains("By partner country"))
        }
    }

    /// The workbook read back by openpyxl: a sheet per view, typed cells, each view's rows adding up to its total
    /// row, which is a number (never a formula) equal to the year's figure; the summary's figures.
    static let xlsxReader = #"""
        import sys
        import openpyxl
        book = openpyxl.load_workbook(sys.argv[1])
        problems = []
        expected = ["Summary", "Quarters", "By theme", "By country", "By round", "By kind", "By phase", "First-timers"]
        if book.sheetnames != expected:
            problems.append("sheets %r" % book.sheetnames)
        for name in ["By theme", "By country", "By round", "By kind", "By phase"]:
            rows = list(book[name].iter_rows(min_row=2, values_only=True))
            total, body = rows[-1], rows[:-1]
            if total[0] != "total":
                problems.append("%s: last row %r" % (name, total))
            for column in (4, 5, 6):
                cells = [row[column] for row in body] + [total[column]]
                if any(not isinstance(c, (int, float)) for c in cells):
                    problems.append("%s: column %d not numbers: %r" % (name, column, cells))
                elif round(sum(cells[:-1]) * 100) != round(cells[-1] * 100):
                    problems.append("%s: column %d adds up to %r, total %r" % (name, column, sum(cells[:-1]), cells[-1]))
            for row in body:
                if not isinstance(row[3], int):
                    problems.append("%s: grants %r" % (name, row[3]))
        summary = {row[0]: row for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
        print("awarded=%.2f disbursed=%.2f committed=%.2f" % (summary["awarded"][1], summary["disbursed"][1],
                                                             summary["committed_unpaid_at_year_end"][1]))
        for problem in problems:
            print(problem)
        sys.exit(1 if problems else 0)
        """#

    @Test func theWorkbookHasASheetPerViewWithTypedCellsAndTotalsAsNumbers() async throws {
        try await TestGrants.withService { service, _ in
            try await Self.threeYears(service)
            let year = try await service.reports.year(2022, programme: Self.programme)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("year-\(UUID().uuidString).xlsx").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let output = try ReportOutput.file(at: path)
            try year.writeXLSX(to: output)
            try output.commit()
            let result = try runTool(["/usr/bin/python3", "-c", Self.xlsxReader, path])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.hasPrefix("awarded=800000.01 disbursed=680000.00 committed=1400000.01"), "\(result.output)")
        }
    }
}
