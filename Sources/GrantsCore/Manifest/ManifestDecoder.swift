/// Collects every problem while a manifest is read, so one pass reports them all.
final class ProblemLog {
    private(set) var problems: [Problem] = []
    func add(_ location: String, _ message: String) { problems.append(Problem(location, message)) }
}

/// Reads one mapping of a manifest: typed fields by key, every unknown key reported (a typo is never ignored).
struct MappingReader {
    let path: String
    let pairs: [(key: String, value: ManifestNode)]
    let log: ProblemLog
    let line: Int?

    init?(_ node: ManifestNode, path: String, log: ProblemLog) {
        guard case .mapping(let pairs, let line) = node else {
            log.add(path, "must be a mapping (key: value), not \(node.kindName)")
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

    /// Reports keys outside `allowed`.
    func checkKeys(_ allowed: Set<String>) {
        for (key, _) in pairs where !allowed.contains(key) {
            log.add(at(key), "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    func text(_ key: String, required: Bool = true, maxLength: Int = ManifestLimits.maximumFieldLength) -> String? {
        guard let value = node(key) else {
            if required { log.add(at(key), "is required") }
            return nil
        }
        guard case .scalar(let text, _) = value else {
            log.add(at(key), "must be a text, not \(value.kindName)")
            return nil
        }
        return checkText(text, at: at(key), maxLength: maxLength)
    }

    func amount(_ key: String, currency: Currency, required: Bool = true) -> Money? {
        guard let text = text(key, required: required, maxLength: 64) else { return nil }
        do {
            return try Money(parsing: text, currency: currency)
        } catch {
            log.add(at(key), "\(error)")
            return nil
        }
    }

    func date(_ key: String, required: Bool = true) -> CalendarDate? {
        guard let text = text(key, required: required, maxLength: 64) else { return nil }
        do {
            return try CalendarDate(text)
        } catch {
            log.add(at(key), "\(error)")
            return nil
        }
    }

    func list(_ key: String, required: Bool = true) -> [(node: ManifestNode, path: String)]? {
        guard let value = node(key) else {
            if required { log.add(at(key), "is required") }
            return nil
        }
        guard case .sequence(let items, _) = value else {
            log.add(at(key), "must be a list, not \(value.kindName)")
            return nil
        }
        return items.enumerated().map { ($0.element, "\(at(key))[\($0.offset)]") }
    }

    func mapping(_ key: String, required: Bool = true) -> MappingReader? {
        guard let value = node(key) else {
            if required { log.add(at(key), "is required") }
            return nil
        }
        return MappingReader(value, path: at(key), log: log)
    }

    func enumeration<E: RawRepresentable<String> & CaseIterable>(_ key: String, _ type: E.Type) -> E? {
        guard let text = text(key, required: false) else { return nil }
        guard let value = E(rawValue: text) else {
            log.add(at(key), "must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(text.prefix(40))\"")
            return nil
        }
        return value
    }

    func checkText(_ text: String, at location: @autoclosure () -> String, maxLength: Int) -> String? {
        // utf8.count bounds the character count from above, so the exact count is only taken near the limit.
        if text.utf8.count > maxLength, text.count > maxLength {
            log.add(location(), "is \(text.count) characters; the limit is \(maxLength)")
            return nil
        }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) {
            log.add(location(), "holds a control character")
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
    static func decode(_ root: ManifestNode, predecoded: GrantPipeline.Decoded? = nil) throws(GrantsError) -> RoundManifest {
        let log = ProblemLog()
        guard let top = MappingReader(root, path: "", log: log) else { throw .invalidInput(log.problems) }
        top.checkKeys(Keys.top)
        let programme = top.text("programme")
        var round: NewRound?
        var roundDecisionRef: String?
        var currency = Currency.sek
        if let r = top.mapping("round") {
            r.checkKeys(Keys.round)
            roundDecisionRef = r.text("decision_ref", required: false)
            if let code = r.text("currency", required: false) {
                if let parsed = Currency(rawValue: code) {
                    currency = parsed
                } else {
                    log.add(r.at("currency"), "must be an ISO 4217 code such as SEK")
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
        for (node, path) in top.list("themes", required: false) ?? [] {
            guard let t = MappingReader(node, path: path, log: log) else { continue }
            t.checkKeys(Keys.theme)
            let code = t.text("code", maxLength: 64)
            let sv = t.text("name_sv")
            let en = t.text("name_en")
            let dac = t.text("dac_sector", required: false)
            if let code, let sv, let en { themes.append(Theme(code: code, nameSv: sv, nameEn: en, dacSector: dac)) }
        }
        var grants: [ManifestGrant] = []
        let grantNodes = top.list("grants") ?? []
        if grantNodes.count > ManifestLimits.maximumGrants {
            throw .invalidInput([Problem("grants", "\(grantNodes.count) grants; the limit is \(ManifestLimits.maximumGrants)")])
        }
        // Each grant stands alone: decoded already while the file was parsed, or else in chunks at once, each with
        // its own log, joined in order.
        let chunks: [(grants: [ManifestGrant], problems: [Problem])]
        if let predecoded, predecoded.currency == currency, predecoded.count == grantNodes.count {
            chunks = [(predecoded.grants, predecoded.problems)]
        } else {
            let grantCurrency = currency
            chunks = inChunks(grantNodes.count) { range in decodeGrants(grantNodes[range], currency: grantCurrency) }
        }
        grants.reserveCapacity(grantNodes.count)
        var found = log.problems
        for chunk in chunks {
            for var grant in chunk.grants {
                grant.decisionRef = grant.decisionRef ?? roundDecisionRef
                grants.append(grant)
            }
            found += chunk.problems
        }
        guard let programme, let round, found.isEmpty else { throw .invalidInput(found) }
        var manifest = RoundManifest(programme: programme, round: round, themes: themes, grants: grants, decisionRef: roundDecisionRef)
        let problems = manifest.check()
        guard problems.isEmpty else { throw .invalidInput(problems) }
        return manifest
    }

    /// Grant nodes decoded in order, each with its path: the grants that decoded, and every problem found.
    static func decodeGrants(
        _ nodes: some Collection<(node: ManifestNode, path: String)>, currency: Currency
    ) -> (grants: [ManifestGrant], problems: [Problem]) {
        let log = ProblemLog()
        var grants: [ManifestGrant] = []
        grants.reserveCapacity(nodes.count)
        for (node, path) in nodes {
            if let grant = decodeGrant(node, path: path, currency: currency, log: log) { grants.append(grant) }
        }
        return (grants, log.problems)
    }

    static func decodeGrant(_ node: ManifestNode, path: String, currency: Currency, log: ProblemLog) -> ManifestGrant? {
        guard let g = MappingReader(node, path: path, log: log) else { return nil }
        g.checkKeys(Keys.grant)
        let before = log.problems.count
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
                guard case .scalar(let code, _) = item else {
                    log.add(itemPath, "must be a theme code")
                    continue
                }
                if let code = g.checkText(code, at: itemPath, maxLength: 64) { themes.append(code) }
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
        guard log.problems.count == before, let reference, let applicant, let amount, let start, let end else { return nil }
        return ManifestGrant(
            reference: reference, title: title, applicant: applicant, partners: partners, themes: themes, phase: phase,
            requested: requested, amount: amount, startsOn: start, endsOn: end, tranches: tranches, reports: reports,
            continues: continues, decisionRef: decisionRef, location: ManifestLocation(base: path, style: .path))
    }

    static func organisation(_ o: MappingReader, defaultCountry: String?) -> NewOrganisation? {
        o.checkKeys(Keys.organisation)
        let name = o.text("name")
        let country = o.text("country", required: defaultCountry == nil, maxLength: 2) ?? defaultCountry
        var number: OrganisationNumber?
        if let text = o.text("org_number", required: false, maxLength: 20) {
            do { number = try OrganisationNumber(text) } catch { o.log.add(o.at("org_number"), "\(error)") }
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
