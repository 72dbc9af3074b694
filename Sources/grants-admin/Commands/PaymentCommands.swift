import ArgumentParser
import Foundation
import Grants

/// `payment`: payment batches for the bank (DESIGN §11).
struct PaymentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payment", abstract: "Payments through the bank: ISO 20022 payment files.",
        subcommands: [Batch.self, Import.self, Reconcile.self])

    struct Batch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Payment batches: one pain.001 file of attested tranches.",
            subcommands: [Create.self, List.self, Show.self, Export.self, Withdraw.self])

        static func describe(_ b: PaymentBatch) -> String {
            "Payment batch \(b.id) (\(b.messageID)) of \(b.programme): \(b.transactions) payments, "
                + "\(Money(minorUnits: b.controlSum, currency: .sek).plain) in total, to be executed \(b.executionDate), \(b.status)"
                + (b.withdrawReason.map { " (\($0))" } ?? "")
        }

        static func items(_ b: PaymentBatch) -> String {
            Output.table(
                ["disbursement", "grant", "tranche", "amount", "creditor", "account", "end_to_end_id", "status"],
                b.items.map {
                    [
                        String($0.disbursementID), $0.grantReference, String($0.tranche), $0.amount.display, $0.creditorName,
                        $0.creditorAccount.description, $0.endToEndID, $0.status,
                    ]
                }, right: [0, 2, 3])
        }

        /// Writes the batch's file to `output` (atomically; `-` is standard output).
        static func write(_ bytes: [UInt8], to output: String) throws {
            let sink: ReportOutput
            do {
                sink = try Output.destination(output)
            } catch {
                throw Failure.report(error)
            }
            do {
                try sink.write(bytes)
                try sink.commit()
            } catch {
                sink.discard()
                throw Failure.report(error)
            }
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Batch every attested tranche due by a date whose payee has a verified account.",
                discussion: """
                    Takes every attested tranche of the programme due by --due-by (default: the execution date) that \
                    is in no live batch, whose grant's applicant has a verified payee account, that you did not attest \
                    yourself (four-eyes: whoever attests a tranche does not also send it to the bank) and that no \
                    declared conflict of interest, report or settlement holds back. Lists those left out and why. \
                    --output writes the pain.001.001.03 file (the same as `payment batch export`). Nothing is created \
                    when no tranche can go.

                    Example:
                      grants-admin payment batch create --programme "Kommunala partnerskap" \\
                          --due-by 2024-12-31 --execution-date "$(date -u -d tomorrow +%F)" \\
                          --output batch.xml --actor cecilia
                    """)
            @OptionGroup var global: GlobalOptions
            @Option(parsing: .unconditional, help: "The programme (needed when there are several).") var programme: String?
            @Option(name: .customLong("due-by"), help: "Take tranches due on or before this date (default: the execution date).")
            var dueBy: CalendarDate?
            @Option(name: .customLong("execution-date"), help: "The day the bank is to pay.") var executionDate: CalendarDate
            @Option(help: "Write the payment file here (- is standard output).") var output: String?
            @Option(help: "text or json") var format: ListFormat = .text

            func run() async throws {
                let (batch, considered, bytes) = try await Session.run(global) { service in
                    let (batch, considered) = try await service.paymentBatches.create(
                        programme: programme, dueBy: dueBy, executionDate: executionDate, actor: global.resolvedActor)
                    var bytes: [UInt8]?
                    if let batch { bytes = try await service.paymentBatches.export(batch.id) }
                    return (batch, considered, bytes)
                }
                if let output, let bytes { try Batch.write(bytes, to: output) }
                let text = Self.text(batch, considered)
                if output == "-" {
                    Terminal.note(text)
                } else {
                    try Output.print(Created(batch: batch, considered: considered), format: format) { text }
                }
            }

            struct Created: Encodable {
                let batch: PaymentBatch?
                let considered: [BatchCandidate]
            }

            static func text(_ batch: PaymentBatch?, _ considered: [BatchCandidate]) -> String {
                let leftOut = considered.filter { $0.leftOut != nil }
                var text = batch.map(Batch.describe) ?? "No batch: no tranche can go"
                guard !leftOut.isEmpty else { return text }
                let rows: [[String]] = leftOut.map {
                    [String($0.disbursementID), $0.grantReference, String($0.tranche), $0.amount.display, $0.leftOut ?? ""]
                }
                text += "\nLeft out:\n" + Output.table(["disbursement", "grant", "tranche", "amount", "why"], rows, right: [0, 2, 3])
                return text
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List payment batches.",
                discussion: """
                    --format ids prints only their ids, one a line, for scripts.

                    Examples:
                      grants-admin payment batch list
                      grants-admin payment batch list --format ids
                    """)
            @OptionGroup var global: GlobalOptions
            @Option(help: "text, json or ids") var format: IDListFormat = .text

            func run() async throws {
                let batches = try await Session.run(global) { try await $0.paymentBatches.list() }
                try Output.print(batches, format: format, ids: batches.map(\.id)) {
                    Output.table(
                        ["id", "message_id", "programme", "execution", "payments", "total", "status", "created_by"],
                        batches.map {
                            [
                                String($0.id), $0.messageID, $0.programme, $0.executionDate.iso, String($0.transactions),
                                Money(minorUnits: $0.controlSum, currency: .sek).plain, $0.status, $0.createdBy,
                            ]
                        }, right: [0, 4, 5])
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show a payment batch and its tranches.",
                discussion: """
                    Example:
                      ID=$(grants-admin payment batch list --format ids | head -n 1)
                      grants-admin payment batch show "$ID"
                    """)
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The batch's id.") var id: Int64
            @Option(help: "text or json") var format: ListFormat = .text

            func run() async throws {
                let batch = try await Session.run(global) { try await $0.paymentBatches.get(id) }
                try Output.print(batch, format: format) { Batch.describe(batch) + "\n" + Batch.items(batch) }
            }
        }

        struct Export: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a batch's pain.001.001.03 file: the same bytes every time.",
                discussion: """
                    Example:
                      ID=$(grants-admin payment batch list --format ids | head -n 1)
                      grants-admin payment batch export "$ID" --output "batch-$ID.xml"
                    """)
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The batch's id.") var id: Int64
            @Option(help: "Write the payment file here (- is standard output).") var output: String

            func run() async throws {
                let bytes = try await Session.run(global) { try await $0.paymentBatches.export(id) }
                try Batch.write(bytes, to: output)
            }
        }

        struct Withdraw: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Withdraw a batch the bank has booked nothing of; its tranches can go in the next batch.",
                discussion: """
                    Example:
                      ID=$(grants-admin payment batch list --format ids | head -n 1)
                      grants-admin payment batch withdraw "$ID" --reason "Wrong execution date"
                    """)
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The batch's id.") var id: Int64
            @Option(parsing: .unconditional, help: "Why.") var reason: String
            @Option(help: "text or json") var format: ListFormat = .text

            func run() async throws {
                let batch = try await Session.run(global) {
                    try await $0.paymentBatches.withdraw(id, reason: reason, actor: global.resolvedActor)
                }
                try Output.print(batch, format: format) { Batch.describe(batch) }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the bank's answer: a pain.002 status report or a camt.054 notification.",
            discussion: """
                Recognised by the document's namespace. A rejected payment leaves its batch (the tranche stays \
                attested, with the bank's reason code); a booked debit whose EndToEndId and amount match pays its \
                tranche (booking date, bank reference); a booked credit quoting a claim's OCR reference is a \
                repayment. Mismatches are listed, never guessed. The same file again changes nothing. A file that is \
                not well-formed or not of these kinds is refused whole (exit 65). Only a finance login \
                (grants_finance) or the owner imports: a staff or service login is refused (exit 1).

                Example:
                  grants-admin payment import camt054-2024-02-02.xml --actor cecilia
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The file (XML).") var file: String
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Failure.report(GrantsError.invalidInput([Problem("file", "\(file) cannot be read")]))
            }
            let outcomes = try await Session.run(global) {
                try await $0.bankMessages.import(Array(data), actor: global.resolvedActor)
            }
            try Output.print(outcomes, format: format) {
                Output.table(["item", "outcome", "detail"], outcomes.map { [String($0.item), $0.outcome, $0.detail] }, right: [0])
            }
        }
    }

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What the bank did with the payment files, and what it sent that matched nothing.",
            discussion: """
                Per batch and tranche: sent (with the bank, not answered yet), booked (paid through a camt.054 \
                debit), rejected (pain.002, with the reason code) or withdrawn, and the tranches still open \
                (rejected or withdrawn and not yet paid, cancelled or in another batch). Then the bank's entries \
                that matched nothing: credits that matched no claim, mismatched debits, payments a rule refused. \
                Batches by execution date, findings by booking date, within --from/--to. json amounts are strings; \
                xlsx has a sheet of payments and one of findings (needs --output).

                Examples:
                  grants-admin payment reconcile --programme "Kommunala partnerskap"
                  grants-admin payment reconcile --from 2024-01-01 --to 2024-12-31 \\
                      --format xlsx --output avstamning.xlsx
                """)
        enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, xlsx }

        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only batches of this programme.") var programme: String?
        @Option(help: "From this date (batches by execution date, findings by booking date).") var from: CalendarDate?
        @Option(help: "To this date, inclusive.") var to: CalendarDate?
        @Option(help: "text, json or xlsx") var format: Format = .text
        @Option(help: "Write here instead of standard output (- is standard output).") var output: String?

        func validate() throws {
            if format == .xlsx && output == nil { throw ValidationError("--format xlsx needs --output FILE") }
            if let from, let to, to < from { throw ValidationError("--to \(to) is before --from \(from)") }
        }

        func run() async throws {
            let reconciliation = try await Session.run(global) {
                try await $0.paymentBatches.reconcile(programme: programme, from: from, to: to)
            }
            let sink: ReportOutput
            do {
                sink = try Output.destination(output)
            } catch {
                throw Failure.report(error)
            }
            do {
                switch format {
                case .xlsx: try reconciliation.writeXLSX(to: sink)
                case .json: try sink.write(try Output.json(reconciliation))
                case .text: try sink.write(Self.text(reconciliation))
                }
                try sink.commit()
            } catch {
                sink.discard()
                throw Failure.report(error)
            }
        }

        static func text(_ r: Reconciliation) -> String {
            var text = "Payments:\n"
            text += Output.table(
                ["batch", "disbursement", "grant", "tranche", "amount", "creditor", "state", "paid_on", "payment_reference", "open"],
                r.payments.map {
                    [
                        String($0.batchID), String($0.disbursementID), $0.grantReference, String($0.tranche), $0.amount.display,
                        $0.creditorName, $0.state + ($0.reason.map { " (\($0))" } ?? ""), $0.paidOn?.iso ?? "",
                        $0.paymentReference ?? "", $0.stillOpen ? "still open" : "",
                    ]
                }, right: [0, 1, 3, 4])
            var totals: [String] = []
            for state in ["sent", "booked", "rejected", "withdrawn"] {
                let rows = r.payments.filter { $0.state == state }
                totals.append("\(state) \(rows.count)" + Self.sums(rows.map(\.amount)))
            }
            let open = r.payments.filter(\.stillOpen)
            totals.append("still open \(open.count)" + Self.sums(open.map(\.amount)))
            text += (text.hasSuffix("\n") ? "" : "\n") + totals.joined(separator: "; ") + "\n"
            text += "Bank entries that matched nothing:\n"
            text += Output.table(
                ["message", "item", "outcome", "amount", "booked_on", "reference", "detail"],
                r.findings.map {
                    [
                        "\($0.kind) \($0.messageID)", String($0.item), $0.outcome, $0.amount?.display ?? "", $0.bookedOn?.iso ?? "",
                        $0.reference ?? "", $0.detail,
                    ]
                }, right: [1, 3])
            return text.hasSuffix("\n") ? text : text + "\n"
        }

        /// " (1 000,00 SEK)": the sum per currency, when there is any.
        static func sums(_ amounts: [Money]) -> String {
            guard !amounts.isEmpty else { return "" }
            var byCurrency: [Currency: Int64] = [:]
            for a in amounts { byCurrency[a.currency, default: 0] += a.minorUnits }
            let parts = byCurrency.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                Money(minorUnits: $0.value, currency: $0.key).display
            }
            return " (" + parts.joined(separator: ", ") + ")"
        }
    }
}
