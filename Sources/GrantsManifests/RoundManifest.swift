import Foundation
import GrantsCore

/// A decided round with its approved partnerships: what `grants-admin round record FILE` records.
/// Built by ``RoundManifest/parse(_:format:csvRound:source:)`` from YAML, JSON or CSV, with every problem located.
///
/// ```swift
/// let manifest = try RoundManifest.parse(data, format: .yaml)
/// let summary = try await service.rounds.record(manifest, actor: "anna")
/// ```
public struct RoundManifest: Sendable, Equatable {
    public var programme: String { didSet { isChecked = false } }
    public var round: NewRound { didSet { isChecked = false } }
    public var themes: [Theme] { didSet { isChecked = false } }
    public var grants: [ManifestGrant] { didSet { isChecked = false } }
    /// The round's decision reference (`round.decision_ref`): the default of every grant that names none.
    public var decisionRef: String? { didSet { isChecked = false } }
    /// True while the manifest is exactly as ``problems()`` found it without a problem (set by
    /// ``RoundManifest/parse(_:format:csvRound:source:)``; any change clears it), so recording it need not check it again.
    package private(set) var isChecked = false

    public init(programme: String, round: NewRound, themes: [Theme] = [], grants: [ManifestGrant], decisionRef: String? = nil) {
        self.programme = programme
        self.round = round
        self.themes = themes
        self.grants = grants
        self.decisionRef = decisionRef
    }

    /// The problems ``problems()`` finds; none marks the manifest as checked.
    package mutating func check() -> [Problem] {
        let found = problems()
        isChecked = found.isEmpty
        return found
    }

    /// Equal when the contents are: whether a manifest has been checked is not part of what it says.
    public static func == (a: RoundManifest, b: RoundManifest) -> Bool {
        a.programme == b.programme && a.round == b.round && a.themes == b.themes && a.grants == b.grants
            && a.decisionRef == b.decisionRef
    }
}

/// One approved partnership in a manifest.
///
/// ```swift
/// let manifest = try RoundManifest.parse(data, fileName: "round.yaml")
/// let total = try Money.sum(manifest.grants.map(\.amount), currency: .sek)
/// ```
public struct ManifestGrant: Sendable, Equatable {
    public var reference: String
    public var title: String?
    public var applicant: NewOrganisation
    public var partners: [NewOrganisation]
    public var themes: [String]
    public var phase: Phase
    public var requested: Money
    public var amount: Money
    public var startsOn: CalendarDate
    public var endsOn: CalendarDate
    public var tranches: [Tranche]
    /// What the grantee owes (`reports:`); one may hold a tranche back.
    public var reports: [PlannedReport]
    /// The reference of the earlier grant (same applicant) whose partnership this one continues.
    public var continues: String?
    /// The decision's reference, stored on the approval; the round's `decision_ref` when the grant names none.
    public var decisionRef: String?
    /// Where the grant is in its file: `grants[3]` or `line 12`.
    public var location: ManifestLocation

    public init(
        reference: String, title: String? = nil, applicant: NewOrganisation, partners: [NewOrganisation], themes: [String],
        phase: Phase = .project, requested: Money? = nil, amount: Money, startsOn: CalendarDate, endsOn: CalendarDate,
        tranches: [Tranche] = [], reports: [PlannedReport] = [], continues: String? = nil, decisionRef: String? = nil,
        location: ManifestLocation
    ) {
        self.reference = reference
        self.title = title
        self.applicant = applicant
        self.partners = partners
        self.themes = themes
        self.phase = phase
        self.requested = requested ?? amount
        self.amount = amount
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.tranches = tranches.isEmpty ? [Tranche(dueOn: startsOn, amount: amount)] : tranches
        self.reports = reports
        self.continues = continues
        self.decisionRef = decisionRef
        self.location = location
    }
}

/// A report a grantee owes, as a manifest plans it: recording the round adds it as a reporting requirement.
/// With `beforeTranche`, that tranche (1 is the first) is held back until the report is approved or waived.
///
/// ```swift
/// let reports = [
///     PlannedReport(kind: .interim, dueOn: try CalendarDate("2022-12-31"), beforeTranche: 2),
///     PlannedReport(kind: .final, dueOn: try CalendarDate("2024-03-31")),
/// ]
/// ```
public struct PlannedReport: Sendable, Equatable, Hashable {
    public var kind: ReportKind
    public var dueOn: CalendarDate
    public var beforeTranche: Int?
    public init(kind: ReportKind, dueOn: CalendarDate, beforeTranche: Int? = nil) {
        self.kind = kind
        self.dueOn = dueOn
        self.beforeTranche = beforeTranche
    }
}

/// One planned payment of a grant in a manifest; a grant's tranches add up to its award, each due
/// within its period. Recording the round schedules one disbursement per tranche.
///
/// ```swift
/// let tranches = [
///     Tranche(dueOn: try CalendarDate("2022-01-31"), amount: try Money(parsing: "494 000", currency: .sek)),
///     Tranche(dueOn: try CalendarDate("2023-01-31"), amount: try Money(parsing: "494 000", currency: .sek)),
/// ]
/// ```
public struct Tranche: Sendable, Equatable, Hashable {
    public var dueOn: CalendarDate
    public var amount: Money
    public init(dueOn: CalendarDate, amount: Money) {
        self.dueOn = dueOn
        self.amount = amount
    }
}

/// A place in a manifest file, rendered the way its format counts: `grants[3].amount` or `line 12, column amount`.
///
/// ```swift
/// let location = ManifestLocation(base: "grants[3]", style: .path)
/// location.field("amount")     // "grants[3].amount"
/// ManifestLocation(base: "line 12", style: .csvLine).field("amount")   // "line 12, column amount"
/// ```
public struct ManifestLocation: Sendable, Equatable, Hashable {
    /// `path` for YAML and JSON (`grants[3]`), `csvLine` for CSV (`line 12`).
    ///
    /// ```swift
    /// ManifestLocation(base: "line 4", style: .csvLine)
    /// ```
    public enum Style: Sendable, Equatable, Hashable { case path, csvLine }
    public let base: String
    public let style: Style
    /// The line the grant starts on in a YAML or JSON file, when known (a CSV base names its line already).
    public let line: Int?

    public init(base: String, style: Style, line: Int? = nil) {
        self.base = base
        self.style = style
        self.line = line
    }

    public func field(_ name: String) -> String {
        switch style {
        case .path: "\(base).\(name)"
        case .csvLine: "\(base), column \(name)"
        }
    }
}

/// The format of a manifest file. JSON is read by the same reader as YAML (JSON is YAML), but a file given as
/// JSON must be one JSON object.
///
/// ```swift
/// let manifest = try RoundManifest.parse(data, format: .json)
/// let format = ManifestFormat(fileName: "round-2021-2.yml")   // .yaml
/// ```
public enum ManifestFormat: String, Sendable, CaseIterable, Codable {
    case yaml, json, csv

    /// The format a file name's suffix names (`.yaml`/`.yml`, `.json`, `.csv`, any case); nil for another.
    public init?(fileName: String) {
        let name = fileName.lowercased()
        if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            self = .yaml
        } else if name.hasSuffix(".json") {
            self = .json
        } else if name.hasSuffix(".csv") {
            self = .csv
        } else {
            return nil
        }
    }
}

extension RoundManifest {
    /// Reads a manifest in the given format: a CSV grant list needs the round from ``CSVRoundParameters``.
    /// Checks the size limit and UTF-8 first; then reports every problem at once. `source` names the file in
    /// messages about the file as a whole.
    public static func parse(
        _ data: Data, format: ManifestFormat, csvRound: CSVRoundParameters? = nil, source: String = "the manifest"
    ) throws(GrantsError) -> RoundManifest {
        try parse(data, format: format, source: source, csvRound: csvRound, themeUses: nil)
    }

    /// Reads a manifest file in the format its name's suffix names (``ManifestFormat/init(fileName:)``); a
    /// name with another suffix is read as YAML, which takes JSON too.
    public static func parse(_ data: Data, fileName: String, csvRound: CSVRoundParameters? = nil) throws(GrantsError) -> RoundManifest {
        try parse(data, format: ManifestFormat(fileName: fileName) ?? .yaml, source: fileName, csvRound: csvRound, themeUses: nil)
    }

    /// ``parse(_:format:csvRound:source:)``, and when the file has problems, the theme codes its grants name,
    /// in `themeUses`: whether they exist is for the database to say, in the same report.
    package static func parse(
        _ data: Data, format: ManifestFormat, source fileName: String, csvRound: CSVRoundParameters?, themeUses: ManifestThemeUses?
    ) throws(GrantsError) -> RoundManifest {
        guard data.count <= ManifestLimits.maximumFileSize else {
            throw .invalidInput([
                Problem(fileName, "the file is \(data.count) bytes; the limit is \(ManifestLimits.maximumFileSize) (64 MiB)")
            ])
        }
        guard var text = String(validating: data, as: UTF8.self) else {
            let offset = firstInvalidUTF8(data)
            let line = data.prefix(offset).reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
            // Excel's "CSV (semicolon/comma delimited)" is Windows-1252: å, ä, ö are single bytes UTF-8 does not allow.
            let hint =
                format == .csv
                ? "; in Excel, save it as \"CSV UTF-8 (comma delimited)\" (Excel's plain CSV is Windows-1252)"
                : "; save it as UTF-8"
            throw .invalidInput([Problem("line \(line)", "\(fileName) is not valid UTF-8 (byte \(offset))\(hint)")])
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        if format == .csv {
            guard let csvRound else {
                throw .invalidInput([
                    Problem(fileName, "a CSV grant list needs its round given apart: programme, round name, budget and decision date")
                ])
            }
            return try CSVManifestReader.read(text, round: csvRound, themeUses: themeUses)
        }
        if let nul = text.utf8.firstIndex(of: 0) {
            let line = text.utf8[..<nul].reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
            throw .invalidInput([Problem("line \(line)", "the file holds a NUL character")])
        }
        if format == .json, let first = text.unicodeScalars.first(where: { !" \t\r\n".unicodeScalars.contains($0) }), first != "{" {
            throw .invalidInput([Problem("line 1", "\(fileName) is not a JSON object: a JSON manifest is one object, { \"round\": …, \"grants\": […] }")])
        }
        let references = ManifestLimits.countReferenceKeys(text)
        if references > ManifestLimits.maximumGrants {
            throw .invalidInput([
                Problem(
                    "grants", "\(references) grant references; the limit is \(ManifestLimits.maximumGrants) grants (nothing was parsed)")
            ])
        }
        // A large file's grants are decoded on another core while the parser reads on (GrantPipeline).
        let pipeline = text.utf8.count > 1 << 20 ? GrantPipeline() : nil
        let tree = try ManifestNode.parse(text, observer: pipeline.map { p in { p.take($0, $1, $2) } })
        return try ManifestDecoder.decode(tree, predecoded: pipeline?.finish(), themeUses: themeUses)
    }

    /// The offset of the first byte that does not start a valid UTF-8 sequence (only on the error path).
    static func firstInvalidUTF8(_ data: Data) -> Int {
        let bytes = [UInt8](data)
        var i = 0
        scan: while i < bytes.count {
            for length in 1...4 where i + length <= bytes.count {
                if String(validating: bytes[i..<(i + length)], as: UTF8.self) != nil {
                    i += length
                    continue scan
                }
            }
            return i
        }
        return bytes.count
    }

    /// Every rule that can be checked without the database, each problem with its location.
    public func problems() -> [Problem] {
        let (roundProblems, themeProblems) = Self.roundProblems(round, themes: themes)
        return roundProblems + themeProblems
            + Self.grantProblems(grants, skipped: [], currency: round.budget.currency, budget: round.budget)
    }

    /// The round's own problems (its check covers the programme's name), and the themes'.
    static func roundProblems(_ round: NewRound, themes: [Theme]) -> (round: [Problem], themes: [Problem]) {
        var themeProblems: [Problem] = []
        var themeCodes = Set<String>()
        for (i, theme) in themes.enumerated() {
            themeProblems += theme.problems(at: "themes[\(i)].")
            if !themeCodes.insert(theme.code).inserted {
                themeProblems.append(Problem("themes[\(i)].code", "theme \(theme.code) is listed twice"))
            }
        }
        return (round.problems(at: "round."), themeProblems)
    }

    /// Each grant's own problems, and those across grants: a reference given twice, the total against the budget
    /// (when the round's budget could be read). `skipped` are grants that did not decode: they count for both.
    static func grantProblems(
        _ grants: [ManifestGrant], skipped: [SkippedGrant], currency: Currency, budget: Money?, budgetLine: Int? = nil
    ) -> [Problem] {
        var problems: [Problem] = []
        if grants.count + skipped.count > ManifestLimits.maximumGrants {
            problems.append(Problem("grants", "\(grants.count + skipped.count) grants; the limit is \(ManifestLimits.maximumGrants)"))
        }
        var seen: [String: ManifestLocation] = [:]
        var total: Int64 = 0
        var overflow = false
        func count(reference: String?, amount: Money?, at: ManifestLocation) {
            if let reference {
                if let first = seen[reference] {
                    problems.append(
                        Problem(
                            at.field("reference"), "\(reference) appears twice (also at \(first.base))", line: at.line,
                            reference: at.style == .path ? reference : nil))
                } else {
                    seen[reference] = at
                }
            }
            if let amount {
                let (sum, o) = total.addingReportingOverflow(amount.minorUnits)
                total = sum
                overflow = overflow || o
            }
        }
        // Each grant's own checks, in chunks at once for a large list; then in order with what spans grants.
        let own = inChunks(grants.count) { range in range.map { grants[$0].problems(currency: currency) } }.joined()
        for (grant, found) in zip(grants, own) {
            count(reference: grant.reference, amount: grant.amount, at: grant.location)
            problems += found
        }
        for grant in skipped { count(reference: grant.reference, amount: grant.amount, at: grant.location) }
        if let budget, overflow || total > budget.minorUnits {
            let over =
                overflow
                ? "more than can be represented"
                : Money(minorUnits: total - budget.minorUnits, currency: budget.currency).swedish
            let sum = overflow ? "too much" : Money(minorUnits: total, currency: budget.currency).swedish
            let counted = skipped.isEmpty ? "" : " (counting \(skipped.count == 1 ? "a grant" : "grants") with other problems)"
            problems.append(
                Problem(
                    "grants", "the awards add up to \(sum), over the budget of \(budget.swedish) by \(over)\(counted)",
                    line: budgetLine))
        }
        return problems
    }

    /// Problems in the order of the file's lines (a CSV problem's line is in its location, `line 12, column
    /// amount`); those without a line (the budget, the limits) keep their order after the rest.
    package static func inFileOrder(_ problems: [Problem]) -> [Problem] {
        func line(_ problem: Problem) -> Int {
            if let line = problem.line { return line }
            guard problem.location.hasPrefix("line ") else { return Int.max }
            return Int(problem.location.dropFirst(5).prefix(while: \.isNumber)) ?? Int.max
        }
        return problems.enumerated().sorted { a, b in
            (line(a.element), a.offset) < (line(b.element), b.offset)
        }.map(\.element)
    }

    /// Every theme code the grants name that is neither in `known` nor declared under `themes:`, as a problem
    /// at the grant's `themes`, with its line and reference.
    package static func unknownThemes(_ uses: [ManifestThemeUses.Use], declared: Set<String>, known: Set<String>) -> [Problem] {
        var problems: [Problem] = []
        for use in uses where !known.contains(use.code) && !declared.contains(use.code) {
            let fix = use.location.style == .path ? "record it first or list it under themes" : "record it first (theme add)"
            problems.append(
                Problem(
                    use.location.field("themes"), "unknown theme \(use.code): \(fix)", line: use.location.line,
                    reference: use.location.style == .path ? use.reference : nil))
        }
        return problems
    }
}

extension ManifestGrant {
    func problems(currency: Currency) -> [Problem] {
        let found = ownProblems(currency: currency)
        guard !found.isEmpty, location.style == .path else { return found }
        return found.map { $0.placed(line: location.line, reference: reference) }
    }

    private func ownProblems(currency: Currency) -> [Problem] {
        var problems: [Problem] = []
        let at = location
        // Locations are written only for a problem found: checks run with an empty location and the problem is
        // moved to its place, since building eight paths per grant was most of the cost of a valid manifest.
        func placed(_ problem: Problem?, _ field: String) {
            if let problem { problems.append(problem.relocated(to: at.field(field))) }
        }
        func placed(_ found: [Problem], under field: String) {
            for problem in found { problems.append(problem.relocated(to: at.field(field) + "." + problem.location)) }
        }
        placed(referenceProblem(reference, at: ""), "reference")
        if title != nil { placed(Limits.text(title, at: "", required: false), "title") }
        placed(applicant.problems(at: ""), under: "applicant")
        if applicant.country != "SE" {
            problems.append(Problem(at.field("applicant"), "the applicant is a Swedish municipality or region (country SE)"))
        }
        if partners.isEmpty { problems.append(Problem(at.field("partners"), "at least one partner is required")) }
        var partnerKeys = Set<String>(minimumCapacity: partners.count)
        for (i, partner) in partners.enumerated() {
            placed(partner.problems(at: ""), under: "partners[\(i)]")
            let key = partner.orgNumber?.value ?? "\(partner.name.lowercased())|\(partner.country)"
            if !partnerKeys.insert(key).inserted {
                problems.append(Problem(at.field("partners") + "[\(i)]", "\(partner.name) is listed twice"))
            }
        }
        if themes.isEmpty { problems.append(Problem(at.field("themes"), "at least one theme is required")) }
        // A grant has a handful of themes: pairwise comparison is cheaper than hashing them into a set.
        if themes.indices.contains(where: { i in themes[(i + 1)...].contains(themes[i]) }) {
            problems.append(Problem(at.field("themes"), "a theme is listed twice"))
        }
        if amount.currency != currency || requested.currency != currency {
            problems.append(Problem(at.field("amount"), "the round is in \(currency)"))
        } else if requested.minorUnits < amount.minorUnits {
            // A manifest has no way to confirm an award above the request (the CLI's --above-requested, the
            // library's aboveRequested): `requested` defaults to the amount, and one below it is a mistake.
            problems.append(
                Problem(
                    at.field("requested"),
                    "\(requested.swedish) is below the amount \(amount.swedish): an award is at most what was requested"))
        }
        if endsOn < startsOn {
            problems.append(Problem(at.field("period.end"), "\(endsOn) is before the start \(startsOn)"))
        }
        var sum: Int64 = 0
        var overflow = false
        for (i, tranche) in tranches.enumerated() {
            let (s, o) = sum.addingReportingOverflow(tranche.amount.minorUnits)
            sum = s
            overflow = overflow || o
            if tranche.dueOn < startsOn || tranche.dueOn > endsOn {
                problems.append(
                    Problem(at.field("tranches") + "[\(i)].due", "\(tranche.dueOn) is outside the period \(startsOn) to \(endsOn)"))
            }
        }
        var planned = Set<String>()
        for (i, report) in reports.enumerated() {
            let place = at.field("reports") + "[\(i)]"
            if let tranche = report.beforeTranche, tranche < 1 || tranche > tranches.count {
                problems.append(Problem(place + ".before_tranche", "there is no tranche \(tranche) (the grant has \(tranches.count))"))
            }
            if !planned.insert("\(report.kind.rawValue) \(report.dueOn)").inserted {
                problems.append(Problem(place, "a \(report.kind.rawValue) report due \(report.dueOn) is listed twice"))
            }
        }
        if let continues {
            if let problem = referenceProblem(continues, at: at.field("continues")) { problems.append(problem) }
            if continues == reference { problems.append(Problem(at.field("continues"), "a grant cannot continue itself")) }
        }
        if decisionRef != nil { placed(Limits.text(decisionRef, at: "", required: false), "decision_ref") }
        if overflow || sum != amount.minorUnits {
            problems.append(
                Problem(
                    at.field("tranches"),
                    "the tranches add up to \(overflow ? "too much" : Money(minorUnits: sum, currency: currency).swedish), not the amount \(amount.swedish)"
                ))
        }
        return problems
    }
}

/// The theme codes a manifest with problems names, gathered while it is read, so that the themes that do not
/// exist are reported in the same run as the file's own problems (only the database knows which exist).
package final class ManifestThemeUses: @unchecked Sendable {
    // @unchecked: filled by the one thread that reads the manifest, read afterwards by the same caller.
    package struct Use: Sendable {
        package let code: String
        package let reference: String?
        package let location: ManifestLocation
    }
    package var uses: [Use] = []
    /// Codes the manifest declares under `themes:` (also those with problems of their own).
    package var declared: Set<String> = []

    package init() {}

    /// Uses from grants as given (a manifest built in code).
    package convenience init(_ manifest: RoundManifest) {
        self.init()
        add(manifest.grants, skipped: [])
        declared = Set(manifest.themes.map(\.code))
    }

    package var codes: [String] { Array(Set(uses.map(\.code))) }

    func add(_ grants: [ManifestGrant], skipped: [SkippedGrant]) {
        for grant in grants {
            for code in grant.themes { uses.append(Use(code: code, reference: grant.reference, location: grant.location)) }
        }
        for grant in skipped {
            for code in grant.themes { uses.append(Use(code: code, reference: grant.reference, location: grant.location)) }
        }
    }
}
