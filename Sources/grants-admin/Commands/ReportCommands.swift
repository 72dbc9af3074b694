import ArgumentParser
import Foundation
import Grants

extension DisbursementFormat: ExpressibleByArgument {}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Finance exports, round summaries and the programme year.",
        subcommands: [Disbursements.self, Round.self, Year.self])

    struct Disbursements: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export disbursements: csv, csv-excel, xlsx, json, sie, iati or 360giving.",
            discussion: """
                csv: RFC 4180, UTF-8, CRLF, the fixed columns. csv-excel: the same with ';', decimal comma and a BOM. \
                xlsx: an Excel workbook with the same columns (numbers, dates and text typed; header frozen with a filter). \
                json: an array of rows (a closing adds a write-off row for the claim given up and a reclaim row for the \
                award never paid out). sie: SIE 4I vouchers (CP437) for payments, reversals and repayments, and with \
                accrual on for decisions, amendments, claims, write-offs and reclaims too, each on its business date. \
                iati: IATI 2.03 activities, one per grant. 360giving: 360Giving \
                JSON. Rows stream from the database: memory stays flat. --output writes a temporary file in the same folder \
                and renames it into place only when the export is complete: a new file follows the umask, an existing \
                one keeps its mode and owner, and a symbolic link, device, FIFO or folder is refused and left untouched \
                (exit 73, as when the file cannot be written).

                sie, iati and 360giving use the programme's settings (grants-admin programme show NAME); the setting \
                flags below override them for this run. An export that needs a setting that is not set refuses and \
                names it (exit 65).

                Time in the books: every row and voucher has a business date (a payment's paid-on day, a reversal's, \
                a repayment's received-on day, a cancellation's and a closing's day; a tranche not yet paid, its due \
                date). --from/--to select by it, in every format alike; iati and 360giving, which describe whole grants, \
                take the grants with an event dated in the period, each written whole. --as-of DATE is the books as they stood at \
                the end of that business date: an event dated later is left out whenever it was recorded. \
                --known-at TIMESTAMP keeps only what was recorded by then (a date alone: by the end of that day, UTC); \
                the same command with --known-at gives the same bytes however much is recorded later, and writes \
                that moment as its generation time. Otherwise SOURCE_DATE_EPOCH fixes the generation time.

                sie is in SEK: for a programme in another currency, --rate FILE gives kronor per unit for each \
                business date (CSV lines DATE,RATE); each voucher is converted at its date's rate. sie books every \
                event of its period and takes no --status.

                Examples:
                  grants-admin report disbursements --round 2021:2 --format xlsx \\
                      --output utbetalningar.xlsx
                  grants-admin report disbursements --programme "Kommunala partnerskap" \\
                      --from 2023-01-01 --to 2023-12-31 --format sie --output bidrag-2023.si
                  grants-admin report disbursements --programme "Kommunala partnerskap" \\
                      --as-of 2023-12-31 --format iati --output iati.xml
                  grants-admin report disbursements --from 2023-01-01 --to 2023-12-31 \\
                      --as-of 2023-12-31 --known-at 2024-01-31 --format sie
                """)
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this programme.") var programme: String?
        @Option(parsing: .unconditional, help: "Only this round.") var round: String?
        @Option(help: "Rows and vouchers with a business date on or after this date.") var from: CalendarDate?
        @Option(help: "Rows and vouchers with a business date on or before this date.") var to: CalendarDate?
        @Option(name: .customLong("date-field"), help: .hidden) var dateField: String?
        @Option(help: "Only this status (csv, csv-excel, xlsx, json).") var status: DisbursementStatus?
        @Option(name: .customLong("as-of"), help: "The books as they stood at the end of this business date (YYYY-MM-DD).")
        var asOf: CalendarDate?
        @Option(name: .customLong("known-at"), help: "Only what was recorded by this moment (RFC 3339, or a date: its end, UTC).")
        var knownAt: TimestampArgument?
        @Option(help: "csv, csv-excel, xlsx, json, sie, iati or 360giving.") var format: DisbursementFormat
        @Option(
            parsing: .unconditional,
            help: ArgumentHelp(
                "Write here instead of standard output (- is standard output). The file is replaced only when the export is complete, keeps its mode and owner, and must be a regular file.",
                valueName: "FILE"))
        var output: String?
        @Option(help: "SIE: the object dimension for the grant reference.") var dimension: Int = 6
        @Option(
            name: .customLong("rate"), parsing: .unconditional,
            help: ArgumentHelp(
                "SIE for a programme not in SEK: kronor per unit by business date, a CSV of DATE,RATE lines.", valueName: "FILE"))
        var rate: String?
        @OptionGroup(title: "Settings for this run (over the programme's)") var settings: SettingFlags

        func validate() throws {
            guard Validation.isOn else { return }
            if let from, let to, to < from { throw ValidationError("--to \(to) is before --from \(from)") }
            if dateField != nil {
                throw ValidationError(
                    "--date-field is withdrawn: --from/--to select by business date in every format (a payment by its paid-on day, a tranche not yet paid by its due date); for tranches by due date use disbursement list --due-before"
                )
            }
        }

        func run() async throws {
            var options = ExportOptions(overrides: settings.settings)
            options.dimension = dimension
            if let rate { options.rates = try ReportCommand.rates(rate) }
            let filter = ReportFilter(
                programme: programme, round: round, from: from, to: to, status: status, asOf: asOf, knownAt: knownAt?.date)
            let options2 = options
            // The file is checked and created before the database is touched: a path that cannot be written
            // fails at once (73), whatever the database's state.
            let sink: ReportOutput
            do {
                sink = try Output.destination(output)
            } catch {
                throw Failure.report(error)
            }
            // A second SIGINT or SIGTERM ends the process at once: the temporary file goes with it.
            let cleanup = Interruption.onForcedExit { sink.discard() }
            defer { Interruption.forget(cleanup) }
            do {
                try await Session.run(global) { service in
                    try await service.reports.disbursements(filter, format: format, options: options2, to: sink)
                    // Interrupted after the last row: the file is not put in place.
                    try Task.checkCancellation()
                    try sink.commit()
                }
            } catch {
                sink.discard()
                throw error
            }
        }
    }

    /// The rates of `--rate FILE`; a file that cannot be read or a bad line is input (65), named by the flag.
    static func rates(_ path: String) throws -> ExchangeRates {
        func refuse(_ problems: [Problem]) -> ExitCode {
            Failure.report(GrantsError.invalidInput(problems.map { Problem("--rate \(path): \($0.location)", $0.message) }))
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw refuse([Problem("file", "cannot be read as UTF-8 text")])
        }
        do {
            return try ExchangeRates(csv: text)
        } catch {
            guard error.code == .invalidInput else { throw Failure.report(error) }
            throw refuse(error.problems)
        }
    }

    struct Round: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise a round: text, json, html, or the announcement a funder publishes.",
            discussion: """
                Examples:
                  grants-admin report round 2021:2
                  grants-admin report round 2021:2 --format announcement-sv
                  grants-admin report round 2021:2 --format html --output 2021-2.html
                  grants-admin report round 2021:2 --format html --lang en \\
                      --output 2021-2-en.html
                  grants-admin report round 2021:2 --as-of 2022-12-31 --format json
                  grants-admin report round 2022:1 --as-of 2022-12-31 \\
                      --known-at 2023-01-31T12:00:00Z

                --as-of DATE: the round as it stood in the books at the end of that business date (grants decided, \
                amendments, payments, repayments, settlements and closings dated later left out, whenever they were \
                recorded). --known-at TIMESTAMP: only what was recorded by then (a date alone: its end, UTC).

                html: one self-contained file for A4 (no network, no script): the announcement text, the key \
                figures, charts by theme, by partner country and per quarter with their numbers beside them, and \
                every grant in a table; Swedish unless --lang en.
                """)
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json, html
            case announcementSv = "announcement-sv"
            case announcementEn = "announcement-en"
        }
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The round's name.") var round: String
        @Option(parsing: .unconditional, help: "The programme, where two share the round's name.") var programme: String?
        @Option(help: "text, json, html, announcement-sv or announcement-en.") var format: Format = .text
        @Option(help: "html: sv (default) or en.") var lang: Year.Language = .sv
        @Option(
            parsing: .unconditional,
            help: ArgumentHelp("Write here instead of standard output (- is standard output).", valueName: "FILE"))
        var output: String?
        @Option(name: .customLong("as-of"), help: "The round as it stood at the end of this business date (YYYY-MM-DD).")
        var asOf: CalendarDate?
        @Option(name: .customLong("known-at"), help: "Only what was recorded by this moment (RFC 3339, or a date: its end, UTC).")
        var knownAt: TimestampArgument?

        func run() async throws {
            let knownAt = knownAt?.date
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
                    if format == .html {
                        let page = try await service.reports.roundPage(round, programme: programme, asOf: asOf, knownAt: knownAt)
                        try sink.write(page.html(language: lang == .en ? .english : .swedish))
                    } else {
                        let report = try await service.reports.round(round, programme: programme, asOf: asOf, knownAt: knownAt)
                        switch format {
                        case .json: try sink.write(try Output.json(report))
                        case .announcementSv: try sink.write(report.announcementSwedish + "\n")
                        case .announcementEn: try sink.write(report.announcementEnglish + "\n")
                        case .text, .html: try sink.write(Self.text(report))
                        }
                    }
                    try Task.checkCancellation()
                    try sink.commit()
                }
            } catch {
                sink.discard()
                throw error
            }
        }

        static func text(_ r: RoundReport) -> String {
            var text = """
                Round \(r.round) of \(r.programme) (\(r.status.rawValue)\(r.decidedOn.map { ", decided \($0)" } ?? ""))
                  budget     \(r.budget.display)
                  awarded    \(r.awarded.display) in \(counted(r.grants, "grant"))
                  disbursed  \(r.disbursed.display) (net of reversals and repayments)
                  repaid     \(r.repaid.display); claims open \(r.claimedOpen.display)
                  remaining  \(r.remaining.display)

                """
            text +=
                "\nBy theme\n"
                + Output.table(
                    ["theme", "grants", "awarded"], r.byTheme.map { [$0.nameEn, String($0.grants), $0.awarded.display] }, right: [1, 2])
            text +=
                "\nBy partner country\n"
                + Output.table(
                    ["country", "grants", "awarded"], r.byCountry.map { [$0.country, String($0.grants), $0.awarded.display] },
                    right: [1, 2])
            text +=
                "\nRecipients\n"
                + Output.table(
                    ["recipient", "kind", "grants", "awarded"],
                    r.recipients.map { [$0.name, $0.kind.rawValue, String($0.grants), $0.awarded.display] }, right: [2, 3])
            return text
        }
    }
}
