import ArgumentParser
import Foundation
import Grants

extension DisbursementFormat: ExpressibleByArgument {}
extension ReportFilter.DateField: ExpressibleByArgument {}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Finance exports and round summaries.", subcommands: [Disbursements.self, Round.self])

    struct Disbursements: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export disbursements: csv, csv-excel, json, sie, iati or 360giving.",
            discussion: """
                csv: RFC 4180, UTF-8, CRLF, the fixed columns. csv-excel: the same with ';', decimal comma and a BOM. \
                json: an array of rows. sie: SIE 4I vouchers for paid disbursements and reversals (CP437). iati: IATI \
                2.03 activities, one per grant. 360giving: 360Giving JSON. Rows stream from the database: memory stays \
                flat. --output writes a temporary file in the same folder and renames it into place only when the export \
                is complete: a new file follows the umask, an existing one keeps its mode and owner, and a symbolic link, \
                device, FIFO or folder is refused and left untouched (exit 73, as when the file cannot be written).

                Examples:
                  grants-admin report disbursements --round 2021:2 --format csv-excel --output utbetalningar.csv
                  grants-admin report disbursements --from 2022-01-01 --to 2022-12-31 --date-field paid --format sie --output bidrag-2022.si
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this programme.") var programme: String?
        @Option(help: "Only this round.") var round: String?
        @Option(help: "From this date (inclusive).") var from: CalendarDate?
        @Option(help: "To this date (inclusive).") var to: CalendarDate?
        @Option(name: .customLong("date-field"), help: "Which date --from/--to filter: due or paid.") var dateField:
            ReportFilter.DateField = .due
        @Option(help: "Only this status.") var status: DisbursementStatus?
        @Option(help: "csv, csv-excel, json, sie, iati or 360giving.") var format: DisbursementFormat
        @Option(
            help: ArgumentHelp(
                "Write here instead of standard output (- is standard output). The file is replaced only when the export is complete, keeps its mode and owner, and must be a regular file.",
                valueName: "FILE"))
        var output: String?
        @Option(name: .customLong("expense-account"), help: "SIE: the account debited.") var expenseAccount: String = "4980"
        @Option(name: .customLong("bank-account"), help: "SIE: the account credited.") var bankAccount: String = "1930"
        @Option(help: "SIE: the voucher series (empty: the accounting system numbers vouchers).") var series: String = ""
        @Option(help: "SIE: the object dimension for the grant reference.") var dimension: Int = 6
        @Option(name: .customLong("funder-name"), help: "The funder's name (SIE #FNAMN, IATI reporting org).") var funderName: String =
            "ICLD"
        @Option(name: .customLong("funder-org-number"), help: "The funder's organisationsnummer (SIE #ORGNR).") var funderOrgNumber: String?
        @Option(
            name: .customLong("reporting-org-ref"),
            help: "IATI: the reporting organisation (default: the funder when --funder-org-number is given, else SE-0).")
        var reportingOrgRef: String?
        @Option(name: .customLong("reporting-org-type"), help: "IATI: the reporting organisation's type code.") var reportingOrgType:
            String?

        func validate() throws {
            guard Validation.isOn else { return }
            if let from, let to, to < from { throw ValidationError("--to \(to) is before --from \(from)") }
            if let funderOrgNumber, !OrganisationNumber.isValid(funderOrgNumber) {
                throw ValidationError("--funder-org-number \(funderOrgNumber) is not a valid organisationsnummer")
            }
            for (flag, account) in [("--expense-account", expenseAccount), ("--bank-account", bankAccount)]
            where account.wholeMatch(of: /[0-9]{4,6}/) == nil {
                throw ValidationError("\(flag) must be an account number (4 to 6 digits)")
            }
        }

        func run() async throws {
            var options = ExportOptions()
            options.expenseAccount = expenseAccount
            options.bankAccount = bankAccount
            options.series = series
            options.dimension = dimension
            options.funderName = funderName
            options.funderOrgNumber = funderOrgNumber
            options.reportingOrgRefOverride = reportingOrgRef
            options.reportingOrgType = reportingOrgType
            let filter = ReportFilter(programme: programme, round: round, from: from, to: to, dateField: dateField, status: status)
            let options2 = options
            // The file is checked and created before the database is touched: a path that cannot be written
            // fails at once (73), whatever the database's state.
            let sink: ReportOutput
            do {
                sink = try Output.destination(output)
            } catch {
                throw Failure.report(error)
            }
            do {
                try await Session.run(global) { service in
                    try await service.reports.disbursements(filter, format: format, options: options2, to: sink)
                    try sink.commit()
                }
            } catch {
                sink.discard()
                throw error
            }
        }
    }

    struct Round: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise a round: text, json, or the announcement a funder publishes.",
            discussion: """
                Examples:
                  grants-admin report round 2021:2
                  grants-admin report round 2021:2 --format announcement-sv
                """)
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json
            case announcementSv = "announcement-sv"
            case announcementEn = "announcement-en"
        }
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The round's name.") var round: String
        @Option(help: "The programme, where two share the round's name.") var programme: String?
        @Option(help: "text, json, announcement-sv or announcement-en.") var format: Format = .text

        func run() async throws {
            let report = try await Session.run(global) { try await $0.reports.round(round, programme: programme) }
            switch format {
            case .json: Terminal.print(try Output.json(report))
            case .announcementSv: Terminal.print(report.announcementSwedish)
            case .announcementEn: Terminal.print(report.announcementEnglish)
            case .text: Terminal.print(Self.text(report))
            }
        }

        static func text(_ r: RoundReport) -> String {
            var text = """
                Round \(r.round) of \(r.programme) (\(r.status.rawValue)\(r.decidedOn.map { ", decided \($0)" } ?? ""))
                  budget     \(r.budget.display)
                  awarded    \(r.awarded.display) in \(r.grants) grants
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
