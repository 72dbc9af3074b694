import GrantsCore
/// Collects every problem while a manifest is read, so one pass reports them all.
final class ProblemLog {
    private(set) var problems: [Problem] = []
    /// Grants that did not decode, with what could be read of them, so the checks that span grants (a reference
    /// given twice, the budget) still count them in the same run.
    private(set) var skipped: [SkippedGrant] = []
    func add(_ location: String, _ message: String, line: Int? = nil) { problems.append(Problem(location, message, line: line)) }
    func skip(_ grant: SkippedGrant) { skipped.append(grant) }

    /// Gives the problems from `start` on the grant's reference, and its line where they have none.
    func place(from start: Int, line: Int?, reference: String?) {
        guard start < problems.count else { return }
        for i in start..<problems.count { problems[i] = problems[i].placed(line: line, reference: reference) }
    }
}

/// What could be read of a grant that has problems of its own: enough for the checks across grants.
struct SkippedGrant: Sendable {
    var reference: String?
    var amount: Money?
    var location: ManifestLocation
    /// The theme codes it names: whether they exist is for the database to say, in the same run.
    var themes: [String] = []
}

/// Reads one mapping of a manifest: typed fields by key, every unknown key reported (a typo is never ignored).
struct MappingReader {
    let path: String
    let pairs: [(key: String, value: ManifestNode)]
    let log: ProblemLog
    let line: Int?

    init?(_ node: ManifestNode, path: String, log: ProblemLog) {
        guard case .mapping(let pairs, let line) = node else {
            log.add(path, "must be a mapping (key: value), not \(node.kindName)", line: node.line)
            return nil
        }
        self.path = path
        self.pairs = pairs
        self.log = log
        self.line = line
    }

    func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func node(_ key: String) -> ManifestNode? {
        guard let value = pairs.first(where: { $0.key == key })?.value else { return nil }
        if case .null = value { return nil }
        return value
    }

    /// The line of the value under `key`, else of the mapping itself (where a missing key would go).
    func line(_ key: String) -> Int? { pairs.first(where: { $0.key == key })?.value.line ?? line }

    /// Reports keys outside `allowed`.
    func checkKeys(_ allowed: Set<String>) {
        for (key, value) in pairs where !allowed.contains(key) {
            log.add(at(key), "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))", line: value.line ?? line)
        }
    }

    func text(_ key: String, required: Bool = true, maxLength: Int = ManifestLimits.maximumFieldLength) -> String? {
        guard let value = node(key) else {
            if required { log.add(at(key), "is required", line: line) }
            return nil
        }
        guard case .scalar(let text, let textLine) = value else {
            log.add(at(key), "must be a text, not \(value.kindName)", line: value.line)
            return nil
        }
        return checkText(text, at: at(key), line: textLine, maxLength: maxLength)
    }

    func amount(_ key: String, currency: Currency, required: Bool = true) -> Money? {
        guard let text = text(key, required: required, maxLength: 64) else { return nil }
        do {
            return try Money(parsing: text, currency: currency)
        } catch {
            log.add(at(key), "\(error)", line: line(key))
            return nil
        }
    }

    func date(_ key: String, required: Bool = true) -> CalendarDate? {
        guard let text = text(key, required: required, maxLength: 64) else { return nil }
        do {
            return try CalendarDate(text)
        } catch {
            log.add(at(key), "\(error)", line: line(key))
            return nil
        }
    }

    func list(_ key: String, required: Bool = true) -> [(node: ManifestNode, path: String)]? {
        guard let value = node(key) else {
            if required { log.add(at(key), "is required", line: line) }
            return nil
        }
        guard case .sequence(let items, _) = value else {
            log.add(at(key), "must be a list, not \(value.kindName)", line: value.line)
            return nil
        }
        return items.enumerated().map { ($0.element, "\(at(key))[\($0.offset)]") }
    }

    func mapping(_ key: String, required: Bool = true) -> MappingReader? {
        guard let value = node(key) else {
            if required { log.add(at(key), "is required", line: line) }
            return nil
        }
        return MappingReader(value, path: at(key), log: log)
    }

    func enumeration<E: RawRepresentable<String> & CaseIterable>(_ key: String, _ type: E.Type) -> E? {
        guard let text = text(key, required: false) else { return nil }
        guard let value = E(rawValue: text) else {
            log.add(
                at(key), "must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(text.prefix(40))\"",
                line: line(key))
            return nil
        }
        return value
    }

    func checkText(_ text: String, at location: @autoclosure () -> String, line: Int?, maxLength: Int) -> String? {
        // utf8.count bounds the character count from above, so the exact count is only taken near the limit.
        if text.utf8.count > maxLength, text.count > maxLength {
            log.add(location(), "is \(text.count) characters; the limit is \(maxLength)", line: line)
            return nil
        }
        if let problem = Limits.controlCharacterProblem(text, at: "") {
            log.add(location(), problem.message, line: line)
            return nil
        }
        return text
    }
}

/// Turns a parsed YAML/JSON document into a ``RoundManifest``, collecting every problem.
enum ManifestDecoder {
    /// The keys each mapping allows, built once (a set literal per mapping read was a visible cost).
    enum Keys {
        static let top: Set<String> = ["programme", "round", "themes", "grants"]
        static let round: Set<String> = ["name", "budget", "currency", "opens_on", "closes_on", "decided_on", "decision_ref"]
        static let theme: Set<String> = ["code", "name_sv", "name_en", "dac_sector"]
        static let grant: Set<String> = [
            "reference", "title", "applicant", "partners", "themes", "phase", "requested", "amount", "period", "tranches", "reports",
            "continues", "decision_ref",
        ]
        static let period: Set<String> = ["start", "end"]
        static let tranche: Set<String> = ["due", "amount"]
        static let report: Set<String> = ["kind", "due", "before_tranche"]
        static let organisation: Set<String> = ["name", "org_number", "country", "kind", "municipality_code"]
    }

    /// The manifest in `root`; `predecoded` is what a ``GrantPipeline`` decoded while the file was parsed, used when
    /// it covers every grant with the currency decided here.
    static func decode(
        _ root: ManifestNode, predecoded: GrantPipeline.Decoded? = nil, themeUses: ManifestThemeUses? = nil
    ) throws(GrantsError) -> RoundManifest {
        let log = ProblemLog()
        guard let top = MappingReader(root, path: "", log: log) else { throw .invalidInput(log.problems) }
        top.checkKeys(Keys.top)
        let programme = top.text("programme")
        var round: NewRound?
        var roundDecisionRef: String?
        var currency = Currency.sek
        var roundReader: MappingReader?
        if let r = top.mapping("round") {
            roundReader = r
            r.checkKeys(Keys.round)
            roundDecisionRef = r.text("decision_ref", required: false)
            if let code = r.text("currency", required: false) {
                if let parsed = Currency(activeCode: code) {
                    currency = parsed
                } else {
                    log.add(r.at("currency"), Currency.problem(code), line: r.line("currency"))
                }
            }
            let name = r.text("name")
            let budget = r.amount("budget", currency: currency)
            let opens = r.date("opens_on", required: false)
            let closes = r.date("closes_on", required: false)
            let decided = r.date("decided_on")
            if let name, let budget, let programme {
                round = NewRound(programme: programme, name: name, budget: budget, opensOn: opens, closesOn: closes, decidedOn: decided)
            }
        }
        var themes: [Theme] = []
        var themeSources: [(path: String, line: Int?)] = []
        for (node, path) in top.list("themes", required: false) ?? [] {
            guard let t = MappingReader(node, path: path, log: log) else { continue }
            t.checkKeys(Keys.theme)
            let code = t.text("code", maxLength: 64)
            let sv = t.text("name_sv")
            let en = t.text("name_en")
            let dac = t.text("dac_sector", required: false)
            if let code { themeUses?.declared.insert(code) }
            if let code, let sv, let en {
                themes.append(Theme(code: code, nameSv: sv, nameEn: en, dacSector: dac))
                themeSources.append((path, node.line))
            }
        }
        var grants: [ManifestGrant] = []
        let grantNodes = top.list("grants") ?? []
        if grantNodes.count > ManifestLimits.maximumGrants {
            throw .invalidInput([Problem("grants", "\(grantNodes.count) grants; the limit is \(ManifestLimits.maximumGrants)")])
        }
        // Each grant stands alone: decoded already while the file was parsed, or else in chunks at once, each with
        // its own log, joined in order.
        let chunks: [(grants: [ManifestGrant], problems: [Problem], skipped: [SkippedGrant])]
        if let predecoded, predecoded.currency == currency, predecoded.count == grantNodes.count {
            chunks = [(predecoded.grants, predecoded.problems, predecoded.skipped)]
        } else {
            let grantCurrency = currency
            chunks = inChunks(grantNodes.count) { range in decodeGrants(grantNodes[range], currency: grantCurrency) }
        }
        grants.reserveCapacity(grantNodes.count)
        var found = log.problems
        var skipped: [SkippedGrant] = []
        for chunk in chunks {
            for var grant in chunk.grants {
                grant.decisionRef = grant.decisionRef ?? roundDecisionRef
                grants.append(grant)
            }
            found += chunk.problems
            skipped += chunk.skipped
        }
        if let programme, let round, found.isEmpty {
            var manifest = RoundManifest(
                programme: programme, round: round, themes: themes, grants: grants, decisionRef: roundDecisionRef)
            if manifest.check().isEmpty { return manifest }
        }
        // Every rule is checked on everything that could be read, grants that did not decode counting for references
        // and the budget, so one run reports every problem, each on its line.
        if let round {
            let (roundProblems, themeProblems) = RoundManifest.roundProblems(round, themes: themes)
            for problem in roundProblems {
                let key = problem.location.hasPrefix("round.") ? String(problem.location.dropFirst(6)) : "name"
                found.append(problem.placed(line: roundReader?.line(key) ?? top.line("programme"), reference: nil))
            }
            for problem in themeProblems {
                // `themes[i]` counts the themes that decoded: put the problem at the theme's place in the file.
                guard let close = problem.location.firstIndex(of: "]"),
                    let index = Int(problem.location.dropFirst("themes[".count).prefix(while: { $0 != "]" })),
                    themeSources.indices.contains(index)
                else {
                    found.append(problem)
                    continue
                }
                let source = themeSources[index]
                found.append(
                    Problem(source.path + problem.location[problem.location.index(after: close)...], problem.message, line: source.line))
            }
        }
        found += RoundManifest.grantProblems(
            grants, skipped: skipped, currency: currency, budget: round?.budget, budgetLine: roundReader?.line("budget"))
        themeUses?.add(grants, skipped: skipped)
        throw .invalidInput(RoundManifest.inFileOrder(found))
    }

    /// Grant nodes decoded in order, each with its path: the grants that decoded, and every problem found.
    static func decodeGrants(
        _ nodes: some Collection<(node: ManifestNode, path: String)>, currency: Currency
    ) -> (grants: [ManifestGrant], problems: [Problem], skipped: [SkippedGrant]) {
        let log = ProblemLog()
        var grants: [ManifestGrant] = []
        grants.reserveCapacity(nodes.count)
        for (node, path) in nodes {
            if let grant = decodeGrant(node, path: path, currency: currency, log: log) { grants.append(grant) }
        }
        return (grants, log.problems, log.skipped)
    }

    static func decodeGrant(_ node: ManifestNode, path: String, currency: Currency, log: ProblemLog) -> ManifestGrant? {
        let before = log.problems.count
        let location = ManifestLocation(base: path, style: .path, line: node.line)
        guard let g = MappingReader(node, path: path, log: log) else {
            log.skip(SkippedGrant(reference: nil, amount: nil, location: location))
            return nil
        }
        g.checkKeys(Keys.grant)
        let reference = g.text("reference", maxLength: 200)
        let title = g.text("title", required: false)
        let applicant = g.mapping("applicant").flatMap { organisation($0, defaultCountry: "SE") }
        var partners: [NewOrganisation] = []
        if let items = g.list("partners") {
            if items.count > ManifestLimits.maximumPartnersPerGrant {
                log.add(g.at("partners"), "more than \(ManifestLimits.maximumPartnersPerGrant) partners")
            }
            for (item, itemPath) in items.prefix(ManifestLimits.maximumPartnersPerGrant) {
                if let reader = MappingReader(item, path: itemPath, log: log), let partner = organisation(reader, defaultCountry: nil) {
                    partners.append(partner)
                }
            }
        }
        var themes: [String] = []
        if let items = g.list("themes") {
            if items.count > ManifestLimits.maximumThemesPerGrant {
                log.add(g.at("themes"), "more than \(ManifestLimits.maximumThemesPerGrant) themes")
            }
            for (item, itemPath) in items.prefix(ManifestLimits.maximumThemesPerGrant) {
                guard case .scalar(let code, let codeLine) = item else {
                    log.add(itemPath, "must be a theme code", line: item.line)
                    continue
                }
                if let code = g.checkText(code, at: itemPath, line: codeLine, maxLength: 64) { themes.append(code) }
            }
        }
        let phase = g.enumeration("phase", Phase.self) ?? .project
        let requested = g.amount("requested", currency: currency, required: false)
        let amount = g.amount("amount", currency: currency)
        var start: CalendarDate?
        var end: CalendarDate?
        if let period = g.mapping("period") {
            period.checkKeys(Keys.period)
            start = period.date("start")
            end = period.date("end")
        }
        var tranches: [Tranche] = []
        if let items = g.list("tranches", required: false) {
            if items.count > ManifestLimits.maximumTranchesPerGrant {
                log.add(g.at("tranches"), "more than \(ManifestLimits.maximumTranchesPerGrant) tranches")
            }
            if items.isEmpty { log.add(g.at("tranches"), "is empty; leave it out for one tranche of the whole amount") }
            for (item, itemPath) in items.prefix(ManifestLimits.maximumTranchesPerGrant) {
                guard let t = MappingReader(item, path: itemPath, log: log) else { continue }
                t.checkKeys(Keys.tranche)
                if let due = t.date("due"), let value = t.amount("amount", currency: currency) {
                    tranches.append(Tranche(dueOn: due, amount: value))
                }
            }
        }
        var reports: [PlannedReport] = []
        if let items = g.list("reports", required: false) {
            if items.count > ManifestLimits.maximumTranchesPerGrant {
                log.add(g.at("reports"), "more than \(ManifestLimits.maximumTranchesPerGrant) reports")
            }
            for (item, itemPath) in items.prefix(ManifestLimits.maximumTranchesPerGrant) {
                guard let r = MappingReader(item, path: itemPath, log: log) else { continue }
                r.checkKeys(Keys.report)
                if r.node("kind") == nil { log.add(r.at("kind"), "is required (interim or final)") }
                let kind = r.enumeration("kind", ReportKind.self)
                let due = r.date("due")
                var beforeTranche: Int?
                if let text = r.text("before_tranche", required: false, maxLength: 6) {
                    if let number = Int(text), number > 0 {
                        beforeTranche = number
                    } else {
                        log.add(r.at("before_tranche"), "must be a tranche number (1 is the first)")
                    }
                }
                if let kind, let due { reports.append(PlannedReport(kind: kind, dueOn: due, beforeTranche: beforeTranche)) }
            }
        }
        let continues = g.text("continues", required: false, maxLength: 200)
        let decisionRef = g.text("decision_ref", required: false)
        guard log.problems.count == before, let reference, let applicant, let amount, let start, let end else {
            log.place(from: before, line: node.line, reference: reference)
            log.skip(SkippedGrant(reference: reference, amount: amount, location: location, themes: themes))
            return nil
        }
        return ManifestGrant(
            reference: reference, title: title, applicant: applicant, partners: partners, themes: themes, phase: phase,
            requested: requested, amount: amount, startsOn: start, endsOn: end, tranches: tranches, reports: reports,
            continues: continues, decisionRef: decisionRef, location: location)
    }

    static func organisation(_ o: MappingReader, defaultCountry: String?) -> NewOrganisation? {
        o.checkKeys(Keys.organisation)
        let name = o.text("name")
        let country = o.text("country", required: defaultCountry == nil, maxLength: 100) ?? defaultCountry
        var number: OrganisationNumber?
        if let text = o.text("org_number", required: false, maxLength: 20) {
            do { number = try OrganisationNumber(text) } catch { o.log.add(o.at("org_number"), "\(error)", line: o.line("org_number")) }
        }
        let kind = o.enumeration("kind", OrganisationKind.self) ?? .other
        let code = o.text("municipality_code", required: false, maxLength: 4)
        guard let given = name, let country else { return nil }
        // One identity (DESIGN §4): matched and stored by the normalised name; a look-alike is refused here.
        let normalisedName: String
        switch OrganisationName.normalise(given) {
        case .success(let normalised): normalisedName = normalised
        case .failure(let refusal):
            o.log.add(o.at("name"), refusal.message)
            return nil
        }
        return NewOrganisation(name: normalisedName, country: country, orgNumber: number, municipalityCode: code, kind: kind)
    }
}
