import ArgumentParser
import Foundation
import Grants

struct RoundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "round", abstract: "Allocation rounds: create, record a decided round, list, show, close.",
        subcommands: [Create.self, Record.self, List.self, Show.self, Close.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open an allocation round with a budget.",
            discussion: """
                The programme is created with the round's currency when it is new. Creating the same round again \
                changes nothing; another budget or dates for a recorded round are refused (exit 1).

                Example:
                  grants-admin round create --programme "Kommunala partnerskap" --name 2023:1 \\
                      --budget "12 000 000" --opens 2023-02-01 --closes 2023-03-15
                """)
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "The programme, e.g. \"Kommunala partnerskap\".") var programme: String
        @Option(parsing: .unconditional, help: "The round's name, e.g. 2021:2.") var name: String
        @Option(parsing: .unconditional, help: "The budget, e.g. \"10 641 000\".") var budget: String
        @Option(parsing: .unconditional, help: "ISO 4217 currency.") var currency: String = "SEK"
        @Option(help: "When applications open (YYYY-MM-DD).") var opens: CalendarDate?
        @Option(help: "When applications close (YYYY-MM-DD).") var closes: CalendarDate?

        func validate() throws {
            guard Validation.isOn else { return }
            try validateAmount(budget, flag: "--budget")
            guard Currency(activeCode: currency) != nil else { throw ValidationError("--currency: \(Currency.problem(currency))") }
        }

        func run() async throws {
            let round = try await Session.run(global) { service in
                try await service.rounds.create(
                    NewRound(
                        programme: programme, name: name,
                        budget: try Money(parsing: budget, currency: Currency(rawValue: currency) ?? .sek),
                        opensOn: opens, closesOn: closes),
                    actor: global.resolvedActor)
            }
            Terminal.print("Round \(round.name) of \(round.programme): budget \(round.budget.display), \(round.status.rawValue)")
        }
    }

    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a decided round with its approved partnerships from one manifest file (the main job).",
            discussion: """
                FILE is YAML or JSON (the keys of the manifest format), or a CSV grant list (columns reference, title, \
                applicant, applicant_org_number, partners, partner_countries, themes, phase, amount, start, end; several \
                values in a cell separated by |) with the round given by --programme, --round, --budget and --decided-on.

                The whole file is checked first and every problem is reported with its place (exit 65); then it is \
                written in one transaction, all or nothing. Recording the same manifest again changes nothing (exit 0); \
                new references are added to a recorded round; if anything recorded would change, nothing is written and \
                the differences are listed (exit 1). Limits: 64 MiB, 100 000 grants, 1 000 characters a field. \
                The format, its rules and how problems are reported: docs/manifest-format.md in the source tree.

                Examples:
                  grants-admin round record Examples/kommunala-partnerskap-2021-2.yaml
                  grants-admin round record Examples/kommunala-partnerskap-2020-1.csv \\
                      --programme "Kommunala partnerskap" --round 2020:1 \\
                      --budget "8 000 000" --decided-on 2020-06-10
                  grants-admin round record Examples/kommunala-partnerskap-2022-1.yaml --dry-run
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The manifest: .yaml, .yml, .json or .csv.") var file: String
        @Flag(name: .customLong("dry-run"), help: "Check and show what would be recorded; write nothing.") var dryRun = false
        @Option(parsing: .unconditional, help: "CSV only: the programme.") var programme: String?
        @Option(parsing: .unconditional, help: "CSV only: the round's name.") var round: String?
        @Option(parsing: .unconditional, help: "CSV only: the round's budget.") var budget: String?
        @Option(parsing: .unconditional, help: "CSV only: the currency.") var currency: String = "SEK"
        @Option(name: .customLong("decided-on"), help: "CSV only: the decision date.") var decidedOn: CalendarDate?
        @Option(help: "CSV only: when applications opened.") var opens: CalendarDate?
        @Option(help: "CSV only: when applications closed.") var closes: CalendarDate?
        @Option(help: "text or json") var format: ListFormat = .text

        func validate() throws {
            guard Validation.isOn else { return }
            if file.lowercased().hasSuffix(".csv") {
                var missing: [String] = []
                if programme == nil { missing.append("--programme") }
                if round == nil { missing.append("--round") }
                if budget == nil { missing.append("--budget") }
                if decidedOn == nil { missing.append("--decided-on") }
                if !missing.isEmpty { throw ValidationError("a CSV grant list needs the round from \(missing.joined(separator: ", "))") }
                if let budget { try validateAmount(budget, flag: "--budget") }
                guard Currency(activeCode: currency) != nil else { throw ValidationError("--currency: \(Currency.problem(currency))") }
            } else if programme != nil || round != nil || budget != nil || decidedOn != nil {
                throw ValidationError(
                    "--programme, --round, --budget and --decided-on are for CSV files; a YAML or JSON manifest names its round itself")
            }
        }

        func run() async throws {
            // The file is read and checked before any database is touched: bad input never waits on one.
            let flags: FlagNames = file.lowercased().hasSuffix(".csv") ? .csvRound : .none
            let manifest: RoundManifest
            let uses = ManifestThemeUses()
            do {
                manifest = try readManifest(themeUses: uses)
            } catch let error as GrantsError where error.code == .invalidInput {
                // The file's own problems and the themes it names that do not exist, in one report.
                throw Failure.report(GrantsError.invalidInput(await withUnknownThemes(error.problems, uses)), flags: flags)
            } catch {
                throw Failure.report(error, flags: flags)
            }
            if Terminal.stderrIsTerminal && manifest.grants.count >= 1000 {
                Terminal.note("recording \(counted(manifest.grants.count, "grant")) of round \(manifest.round.name)…")
            }
            let summary = try await Session.run(global, flags: flags) {
                try await $0.rounds.record(manifest, actor: global.resolvedActor, dryRun: dryRun)
            }
            // A grant given without tranches got one of its whole amount on its start date: the summary says so.
            let defaulted = manifest.grants.filter { grant in
                grant.tranches == [Tranche(dueOn: grant.startsOn, amount: grant.amount)]
                    && summary.created.contains(grant.reference)
            }.count
            try Output.print(summary, format: format) { Self.describe(summary, defaultTranches: defaulted) }
        }

        /// The themes only the database can check, added to the file's problems; when the database cannot
        /// answer, the file's problems are still reported, with a line saying the themes were not checked.
        func withUnknownThemes(_ problems: [Problem], _ uses: ManifestThemeUses) async -> [Problem] {
            guard uses.codes.contains(where: { !uses.declared.contains($0) }) else { return problems }
            do {
                return try await Session.withService(global) { try await $0.rounds.adding(unknownThemesOf: uses, to: problems) }
            } catch {
                let reason = "\(error)".split(separator: "\n").first.map(String.init) ?? "the database cannot be used"
                return problems + [Problem(file, "its themes were not checked against the database (\(reason))")]
            }
        }

        func readManifest(themeUses: ManifestThemeUses) throws -> RoundManifest {
            let url = URL(fileURLWithPath: file)
            let attributes: [FileAttributeKey: Any]
            do {
                attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            } catch {
                throw InputFileError(description: "\(file): cannot read the file")
            }
            if let size = attributes[.size] as? Int, size > ManifestLimits.maximumFileSize {
                throw GrantsError.invalidInput([
                    Problem(file, "the file is \(size) bytes; the limit is \(ManifestLimits.maximumFileSize) (64 MiB)")
                ])
            }
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw InputFileError(description: "\(file): cannot read the file")
            }
            var csvRound: CSVRoundParameters?
            if let programme, let round, let budget, let decidedOn {
                let money = try Money(parsing: budget, currency: Currency(rawValue: currency) ?? .sek)
                csvRound = CSVRoundParameters(
                    programme: programme, round: round, budget: money, decidedOn: decidedOn, opensOn: opens, closesOn: closes)
            }
            return try RoundManifest.parse(
                data, format: ManifestFormat(fileName: url.lastPathComponent) ?? .yaml, source: url.lastPathComponent, csvRound: csvRound,
                themeUses: themeUses)
        }

        static func describe(_ summary: RecordSummary, defaultTranches: Int = 0) -> String {
            let round = summary.round
            let head: String
            if summary.dryRun {
                head = "Dry run: nothing was written. Recording would give round \(round.name) of \(round.programme):"
            } else if !summary.changed {
                head = "Round \(round.name) of \(round.programme) is already recorded as the file says: nothing changed."
            } else {
                head = "Recorded round \(round.name) of \(round.programme)\(summary.roundCreated ? " (new round)" : ""):"
            }
            var lines = [head]
            lines.append(
                "  grants:    \(summary.created.count) new, \(summary.unchanged.count) already recorded, \(round.grants) in the round")
            if defaultTranches > 0 {
                lines.append(
                    "  tranches:  \(counted(defaultTranches, "grant")) got one tranche of \(defaultTranches == 1 ? "its" : "their") whole amount"
                        + " on \(defaultTranches == 1 ? "its" : "their") start date")
            }
            lines.append(
                "  awarded:   \(round.awarded.display) of the \(round.budget.display) budget (\(round.remaining.display) remaining)")
            if !summary.created.isEmpty {
                lines.append("  this file: \(summary.awardedNow.display) in \(counted(summary.created.count, "new grant"))")
            }
            if !summary.themesCreated.isEmpty || summary.organisationsCreated > 0 {
                lines.append(
                    "  also new:  \(counted(summary.themesCreated.count, "theme")), \(counted(summary.organisationsCreated, "organisation"))"
                )
            }
            return lines.joined(separator: "\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List rounds.", discussion: "Example:\n  grants-admin round list --programme \"Kommunala partnerskap\"")
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Only this programme.") var programme: String?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            let rounds = try await Session.run(global) { try await $0.rounds.list(programme: programme) }
            try Output.print(rounds, format: format) {
                Output.table(
                    ["programme", "round", "status", "decided", "grants", "budget", "awarded", "remaining"],
                    rounds.map {
                        [
                            $0.programme, $0.name, $0.status.rawValue, $0.decidedOn?.iso ?? "", String($0.grants), $0.budget.display,
                            $0.awarded.display, $0.remaining.display,
                        ]
                    }, right: [4, 5, 6, 7])
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a round and its grants.", discussion: "Example:\n  grants-admin round show 2021:2")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The round's name.") var round: String
        @Option(parsing: .unconditional, help: "The programme, where two share the round's name.") var programme: String?
        @Option(help: "text or json") var format: ListFormat = .text

        func run() async throws {
            struct Shown: Encodable {
                let round: AllocationRound
                let grants: [Grant]
            }
            let shown = try await Session.run(global) { service in
                let found = try await service.rounds.get(round, programme: programme)
                return Shown(round: found, grants: try await service.grants.list(round: found.name, programme: found.programme))
            }
            try Output.print(shown, format: format) {
                let r = shown.round
                var text = """
                    Round \(r.name) of \(r.programme) (\(r.status.rawValue))
                      budget     \(r.budget.display)
                      awarded    \(r.awarded.display) in \(counted(r.grants, "grant"))
                      remaining  \(r.remaining.display)
                    """
                if let decided = r.decidedOn { text += "\n  decided    \(decided)" }
                text += "\n\n" + GrantCommand.table(shown.grants)
                return text
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a round: no more awards.", discussion: "Example:\n  grants-admin round close 2021:2")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The round's name.") var round: String
        @Option(parsing: .unconditional, help: "The programme, where two share the round's name.") var programme: String?

        func run() async throws {
            let closed = try await Session.run(global) {
                try await $0.rounds.close(round, programme: programme, actor: global.resolvedActor)
            }
            Terminal.print(
                "Round \(closed.name) of \(closed.programme) is closed: \(closed.awarded.display) awarded of \(closed.budget.display).")
        }
    }
}

/// Refuses an amount flag with the parser's own reason.
func validateAmount(_ text: String, flag: String) throws {
    do {
        _ = try AmountParser.parse(text)
    } catch {
        throw ValidationError("\(flag) \(error)")
    }
}
