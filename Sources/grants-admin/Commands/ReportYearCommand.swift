import ArgumentParser
import Foundation
import Grants

extension ReportCommand {
    struct Year: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The programme year for the funder: text, json, xlsx or html.",
            discussion: """
                The year on business dates, 1 January to 31 December: the budget of the rounds decided in it, \
                awarded, amended, paid, reversed, repaid, written off, reclaimed, cancelled, due and unpaid; at \
                its end the open claims and what is committed but not yet paid; by theme, partner country, round, \
                kind of organisation and phase; grants started, running and ended; the municipalities and regions \
                granted money for the first time; reports due, received and overdue.

                Every money figure of the year is a sum of the rows of report disbursements --from YYYY-01-01 --to \
                YYYY-12-31 (reversals and repayments shown as positive amounts here). A grant with several themes \
                or partner countries has its amounts split evenly between them to the öre (the remainder to the \
                first), so each view adds up to the totals; its grants count once under each.

                html: one file with charts (no network, no script), Swedish unless --lang en, for A4. xlsx: one \
                sheet per view.

                Examples:
                  grants-admin report year 2022
                  grants-admin report year 2022 --programme "Kommunala partnerskap" \\
                      --format json
                  grants-admin report year 2022 --format html --output year-2022.html
                  grants-admin report year 2022 --format html --lang en \\
                      --output year-2022-en.html
                  grants-admin report year 2022 --format xlsx --output year-2022.xlsx
                """)
        enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, xlsx, html }
        enum Language: String, ExpressibleByArgument, CaseIterable { case sv, en }

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The year (YYYY).", valueName: "YYYY")) var year: Int
        @Option(parsing: .unconditional, help: "Only this programme (else every programme, in one currency).") var programme: String?
        @Option(help: "text, json, xlsx or html.") var format: Format = .text
        @Option(help: "html: sv (default) or en.") var lang: Language = .sv
        @Option(
            parsing: .unconditional,
            help: ArgumentHelp("Write here instead of standard output (- is standard output).", valueName: "FILE"))
        var output: String?

        func validate() throws {
            guard Validation.isOn else { return }
            guard (1900...9998).contains(year) else { throw ValidationError("YYYY must be a year from 1900 to 9998, not \(year)") }
        }

        func run() async throws {
            // The file is checked and created before the database is touched.
            let sink: ReportOutput
            do {
                sink = try Output.destination(output)
            } catch {
                throw Failure.report(error)
            }
            let cleanup = Interruption.onForcedExit { sink.discard() }
            defer { Interruption.forget(cleanup) }
            do {
                try await Session.run(global) { service in
                    let report = try await service.reports.year(year, programme: programme)
                    switch format {
                    case .text: try sink.write(Self.text(report))
                    case .json: try sink.write(try Output.json(report))
                    case .xlsx: try report.writeXLSX(to: sink)
                    case .html: try sink.write(report.html(language: lang == .en ? .english : .swedish))
                    }
                    try Task.checkCancellation()
                    try sink.commit()
                }
            } catch {
                sink.discard()
                throw error
            }
        }

        static func text(_ r: YearReport) -> String {
            var text = """
                Year \(r.year) of \(r.programme ?? "every programme") (business dates \(r.year)-01-01 to \(r.year)-12-31)
                  budget           \(r.budget.display) (\(counted(r.rounds, "round")) decided)
                  awarded          \(r.awarded.display) in \(counted(r.grantCounts.decided, "grant"))
                  amended          \(r.amended.display)
                  paid             \(r.paid.display)
                  reversed         \(r.reversed.display)
                  repaid           \(r.repaid.display)
                  disbursed        \(r.disbursed.display) (paid net of reversals and repayments)
                  written off      \(r.writtenOff.display)
                  reclaimed        \(r.reclaimed.display) (awards released at closing)
                  cancelled        \(r.cancelled.display)
                  due, unpaid      \(r.dueUnpaid.display) (tranches due in the year, not paid)
                At the end of the year
                  claims open      \(r.claimsOpen.display)
                  committed unpaid \(r.committedUnpaid.display)
                Grants: \(r.grantCounts.started) started, \(r.grantCounts.running) running, \(r.grantCounts.ended) ended, \
                \(r.grantCounts.closed) closed
                Reports: \(r.requirements.due) due, \(r.requirements.received) received, \(r.requirements.overdue) overdue at the end of the year

                """
            text += "\nBy quarter\n"
            text += Output.table(
                ["quarter", "awarded", "disbursed"], r.quarters.map { ["Q\($0.quarter)", $0.awarded.display, $0.disbursed.display] },
                right: [1, 2])
            let titles = [
                "theme": "By theme", "country": "By partner country", "round": "By round", "kind": "By kind", "phase": "By phase",
            ]
            for view in r.views {
                text += "\n\(titles[view.name] ?? view.name)\n"
                var header = [view.name, "grants", "awarded", "amended", "disbursed"]
                if view.name == "round" { header.append("budget") }
                text += Output.table(
                    header,
                    view.shares.map { share in
                        let name = view.name == "country" || view.name == "round" ? share.key : share.nameEn
                        var cells = [name, String(share.grants), share.awarded.display, share.amended.display, share.disbursed.display]
                        if view.name == "round" { cells.append(share.budget.display) }
                        return cells
                    }, right: Set(1..<header.count))
            }
            text += "\nFirst-time municipalities and regions\n"
            text += Output.table(
                ["name", "kind", "org_number", "first_decided_on", "grants"],
                r.firstTimers.map { [$0.name, $0.kind.rawValue, $0.orgNumber ?? "", $0.firstDecidedOn.iso, String($0.grants)] },
                right: [4])
            return text
        }
    }
}
