import Foundation
import TestSupport
import Testing

/// Every help page's examples, as a reader copies them: every line within 80 columns, and every example run as
/// written against a database holding the example rounds (the README tour's people and programme settings, and
/// every round in Examples/). The commands are found by walking `grants-admin --help`, so a new command's
/// examples are run too. An example meant to show a refusal ends in `# refused: exit N`.
@Suite("grants-admin help examples")
struct HelpExampleTests {
    /// One help page: the command's path and its help text.
    struct Page {
        let path: [String]
        let help: String
        var name: String { (["grants-admin"] + path).joined(separator: " ") }
    }

    /// One logical command of an example (continuation lines joined) and the exit status it is meant to have.
    struct Step {
        let text: String
        let expected: Int32
    }

    /// Every help page of the command tree, parents before their subcommands.
    static func pages() throws -> [Page] {
        let cli = CLI(configuration: nil)
        var pages: [Page] = []
        var queue: [[String]] = [[]]
        while !queue.isEmpty {
            let path = queue.removeFirst()
            let result = try cli.run(path + ["--help"])
            pages.append(Page(path: path, help: result.stdout))
            queue += subcommands(result.stdout).map { path + [$0] }
        }
        return pages
    }

    /// The names under SUBCOMMANDS:, as ArgumentParser lists them (two spaces in, `(default)` after some).
    static func subcommands(_ help: String) -> [String] {
        var names: [String] = []
        var inside = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "SUBCOMMANDS:" {
                inside = true
            } else if inside && (line.isEmpty || !line.hasPrefix(" ")) {
                inside = false
            } else if inside && line.hasPrefix("  ") && !line.hasPrefix("   ") {
                names.append(String(line.dropFirst(2).prefix { $0 != " " }))
            }
        }
        return names
    }

    /// The examples of a help page: the indented lines after "Example:" or "Examples:", continuation lines
    /// (ending in ` \`) joined to the next, one block per page.
    static func steps(_ help: String) -> [Step] {
        var steps: [Step] = []
        var inside = false
        var pending = ""
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Example") && line.hasSuffix(":") {
                inside = true
                continue
            }
            guard inside else { continue }
            guard line.hasPrefix("  ") else {
                inside = false
                continue
            }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasSuffix(" \\") {
                pending += text.dropLast(2) + " "
                continue
            }
            let command = pending + text
            pending = ""
            steps.append(Step(text: command, expected: expectedStatus(command)))
        }
        return steps
    }

    /// 0, or N for a command that ends in `# refused: exit N`.
    static func expectedStatus(_ command: String) -> Int32 {
        guard let marker = command.range(of: "# refused: exit ") else { return 0 }
        return Int32(command[marker.upperBound...].prefix { $0.isNumber }) ?? -1
    }

    /// The order the examples run in: each builds on what those before it recorded. Commands not named here
    /// (new ones) run after these and before `last`, in the order the help tree lists them.
    static let first = [
        "person add", "person list", "programme set", "programme show", "programme list", "theme add", "theme list", "org add",
        "org list", "org account set", "org account verify", "org account show", "org account history", "contact", "contact add",
        "contact list", "contact erase", "round record", "round create", "round list", "round show", "application submit",
        "application list", "application approve", "application reject", "application withdraw", "grant list", "grant show",
        "grant amend", "partnership show", "conflict declare", "conflict list", "disbursement schedule", "disbursement list",
        "disbursement attest", "disbursement pay", "disbursement cancel", "payment batch create", "payment batch list",
        "payment batch show", "payment batch export", "payment batch withdraw", "disbursement reverse", "requirement",
        "requirement add", "requirement list", "requirement receive", "requirement approve", "requirement return",
        "requirement waive", "grant settle", "repayment", "repayment receive", "repayment list", "grant close", "payment import",
        "report disbursements", "report round", "audit list",
    ]
    static let last = ["", "round close", "person retire"]

    /// Not run, only checked for width: `db` and `local` manage a server (the schema, roles, an embedded cluster,
    /// on hosts of their own), not the records; `payment import` reads a file only the bank writes.
    static func isRun(_ page: Page) -> Bool {
        !["db", "local"].contains(page.path.first ?? "") && page.path != ["payment", "import"]
    }

    /// Within 80 columns, and no example wrapped by ArgumentParser (a wrapped line starts in column 1).
    @Test func everyHelpLineFitsIn80Columns() throws {
        let pages = try Self.pages()
        #expect(pages.count > 60, "\(pages.map(\.name))")
        for page in pages {
            // The USAGE line is ArgumentParser's synopsis of every option: it is not wrapped.
            let wide = page.help.split(separator: "\n").filter { $0.count > 80 && !$0.hasPrefix("USAGE: ") }
            #expect(wide.isEmpty, "\(page.name) --help: \(wide.joined(separator: "\n"))")
            #expect(Self.wrapped(page.help).isEmpty, "\(page.name) --help: \(Self.wrapped(page.help))")
        }
    }

    /// Lines of an example block that do not start indented: the rest of an example line ArgumentParser wrapped.
    static func wrapped(_ help: String) -> [String] {
        var inside = false
        var found: [String] = []
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Example") && line.hasSuffix(":") {
                inside = true
            } else if line.isEmpty {
                inside = false
            } else if inside && !line.hasPrefix("  ") {
                found.append(String(line))
            }
        }
        return found
    }

    @Test func everyExampleRunsAsWrittenOnTheExampleData() async throws {
        let pages = try Self.pages()
        func rank(_ page: Page) -> Int {
            let name = page.path.joined(separator: " ")
            if let index = Self.first.firstIndex(of: name) { return index }
            if let index = Self.last.firstIndex(of: name) { return Self.first.count + 1 + index }
            return Self.first.count
        }
        let ordered = pages.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
        try await TestGrants.withService { _, configuration in
            var cli = CLI(configuration: configuration)
            cli.environment["GRANTS_ACTOR"] = "anna"
            cli.environment["PATH"] =
                CLI.binary.deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")
            let folder = try temporaryFolder("grants-help-examples")
            defer { try? FileManager.default.removeItem(at: folder) }
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent("Examples"), withDestinationURL: repositoryRoot.appendingPathComponent("Examples"))
            let setup = try cli.shell("set -e\n" + Self.exampleData, in: folder)
            try #require(setup.status == 0, "the example data: \(setup.stderr)")

            var seen: Set<String> = []
            var run = 0
            for page in ordered where Self.isRun(page) {
                let steps = Self.steps(page.help)
                let key = steps.map(\.text).joined(separator: "\n")
                guard !steps.isEmpty, seen.insert(key).inserted else { continue }
                // One shell per page, so a step can use what an earlier step of the same example set.
                var script = "check() { [ \"$1\" = \"$2\" ] || { echo \"@@step $3 exited $1\" >&2; exit 100; }; }\n"
                for (index, step) in steps.enumerated() { script += "\(step.text)\ncheck $? \(step.expected) \(index)\n" }
                let result = try cli.shell(script, in: folder)
                run += steps.count
                if result.status != 0 {
                    let failed = result.stderr.range(of: "@@step ").flatMap { Int(result.stderr[$0.upperBound...].prefix { $0.isNumber }) }
                    let step = failed.map { steps[$0] }
                    Issue.record(
                        """
                        \(page.name) --help: the example \(step?.text ?? key)
                        should exit \(step?.expected ?? 0): \(result.stderr)
                        """)
                }
            }
            #expect(run > 40, "\(run) examples run")
        }
    }

    /// The database the README's tour starts from: its programme settings (and the bank section's debtor
    /// account), then every example round. The tour's people are registered in every test database.
    static let exampleData = """
        grants-admin programme set "Kommunala partnerskap" --iati-publisher-ref SE-ON-4020000008 \\
            --iati-publisher-name ICLD --iati-publisher-type 22 --funder-ref SE-0 --funder-name Sida --funder-type 10 \\
            --funder-activity-id SE-0-SE-6-EXAMPLE-1 --giving360-prefix 360G-icld --default-sector 15150 \\
            --flow-type 10 --finance-type 110 --aid-type C01 --collaboration-type 1 --accrual on --sie-liability-account 2890 \\
            --debtor-name ICLD --debtor-iban "SE45 5000 0000 0583 9825 7466" --debtor-bic ESSESESS
        grants-admin round record Examples/kommunala-partnerskap-2021-2.yaml
        grants-admin theme add inclusion --name-sv Inkludering --name-en Inclusion --dac-sector 15112
        grants-admin round record Examples/kommunala-partnerskap-2020-1.csv \\
            --programme "Kommunala partnerskap" --round 2020:1 --budget "8 000 000" --decided-on 2020-06-10
        grants-admin round record Examples/kommunala-partnerskap-2020-2.json
        grants-admin round record Examples/kommunala-partnerskap-2021-1.yaml
        grants-admin round record Examples/kommunala-partnerskap-2022-1.yaml
        """
}
