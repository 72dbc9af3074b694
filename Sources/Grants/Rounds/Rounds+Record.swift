import Foundation
import PGClient

/// What recording a round manifest did (or, for a dry run, would do).
///
/// ```swift
/// let summary = try await service.rounds.record(manifest, actor: "anna")
/// print("\(summary.created.count) new, \(summary.unchanged.count) already recorded")
/// print("awarded \(summary.round.awarded.swedish) of \(summary.round.budget.swedish)")
/// ```
public struct RecordSummary: Sendable, Encodable, Equatable {
    /// The round as recorded afterwards.
    public let round: AllocationRound
    public let roundCreated: Bool
    /// References recorded by this call.
    public let created: [String]
    /// References that were already recorded exactly as the manifest says.
    public let unchanged: [String]
    public let themesCreated: [String]
    public let organisationsCreated: Int
    /// Σ of the awards this call recorded.
    public let awardedNow: Money
    public let dryRun: Bool

    /// False when the manifest was already recorded in full: nothing changed.
    public var changed: Bool { roundCreated || !created.isEmpty || !themesCreated.isEmpty || organisationsCreated > 0 }
}

extension Rounds {
    /// Records a decided round with its approved partnerships, all or nothing, in one transaction.
    ///
    /// - The same manifest again changes nothing (``RecordSummary/changed`` is false).
    /// - New references in a recorded round are added.
    /// - If anything recorded would change (budget, an amount, a partner…), nothing is written and
    ///   `GrantsError.conflict(entity:key:differences:)` lists every difference.
    /// - Unknown themes are `GrantsError.invalidInput(_:)`; awards past the budget are
    ///   `GrantsError.budgetExceeded(round:excess:)`.
    /// - Concurrent callers recording the same round queue on a transaction-scoped advisory lock, so it is stored once.
    /// - `dryRun` does all of it and rolls back.
    /// - After ``statisticsThreshold`` or more new grants, the planner's statistics are refreshed (after COMMIT).
    @discardableResult
    public func record(_ manifest: RoundManifest, actor: String, dryRun: Bool = false) async throws(GrantsError) -> RecordSummary {
        let actor = try ActorName(actor).value
        // A manifest straight from `RoundManifest.parse` has been checked already (10 000 grants: about 25 ms).
        let problems = manifest.isChecked ? [] : manifest.problems()
        guard problems.isEmpty else {
            throw GrantsError.invalidInput(try await adding(unknownThemesOf: ManifestThemeUses(manifest), to: problems))
        }
        return try await service.traced("grants.rounds.record") { () async throws(GrantsError) -> RecordSummary in
            // A dry run rolls back what it wrote, and answers with what it would have written.
            let summary = try await service.write("grants.rounds.record") { connection in
                let summary = try RoundRecorder(connection: connection, manifest: manifest, actor: actor).record(dryRun: dryRun)
                if dryRun { throw GrantsService.RollBack(answer: summary) }
                return summary
            }
            if dryRun { return summary }
            if summary.created.count >= Self.statisticsThreshold { await refreshStatistics() }
            return summary
        }
    }

    /// Reads a manifest in `format` (YAML, JSON, or CSV with `csvRound`) and records it as
    /// ``record(_:actor:dryRun:)`` does. A file with problems is refused with every one of them in one
    /// `GrantsError` of code `invalidInput`, in the order of its lines: its own (fields, sums, the budget,
    /// references given twice, codes) and the themes it names that are neither recorded nor declared under
    /// `themes:`. Nothing is written. `source` names the file in messages about it as a whole.
    ///
    /// ```swift
    /// let summary = try await service.rounds.record(file: try Data(contentsOf: url), format: .yaml, actor: "anna")
    /// ```
    @discardableResult
    public func record(
        file data: Data, format: ManifestFormat, source: String = "the manifest", csvRound: CSVRoundParameters? = nil,
        actor: String, dryRun: Bool = false
    ) async throws(GrantsError) -> RecordSummary {
        let uses = ManifestThemeUses()
        let manifest: RoundManifest
        do {
            manifest = try RoundManifest.parse(data, format: format, source: source, csvRound: csvRound, themeUses: uses)
        } catch where error.code == .invalidInput {
            throw GrantsError.invalidInput(try await adding(unknownThemesOf: uses, to: error.problems))
        }
        return try await record(manifest, actor: actor, dryRun: dryRun)
    }

    /// ``record(file:format:source:csvRound:actor:dryRun:)`` in the format the file name's suffix names
    /// (`ManifestFormat(fileName:)`; another suffix is read as YAML, which takes JSON too).
    @discardableResult
    public func record(
        file data: Data, fileName: String, csvRound: CSVRoundParameters? = nil, actor: String, dryRun: Bool = false
    ) async throws(GrantsError) -> RecordSummary {
        try await record(
            file: data, format: ManifestFormat(fileName: fileName) ?? .yaml, source: fileName, csvRound: csvRound, actor: actor,
            dryRun: dryRun)
    }

    /// `problems` of a manifest, with the themes it names that do not exist, in the order of the file's lines.
    package func adding(unknownThemesOf uses: ManifestThemeUses, to problems: [Problem]) async throws(GrantsError) -> [Problem] {
        let codes = uses.codes.filter { !uses.declared.contains($0) }
        guard !codes.isEmpty else { return problems }
        let known = try await service.read("grants.rounds.record") { connection in
            Set(try Themes.find(connection, codes: codes).keys)
        }
        return RoundManifest.inFileOrder(
            problems + RoundManifest.unknownThemes(uses.uses, declared: uses.declared, known: known))
    }

    /// New grants from one record past which the planner's statistics are refreshed at once (see
    /// `Schema/0007`): without them, reads of a freshly recorded large round chose plans that scale with the
    /// square of its size.
    public static let statisticsThreshold = 1000

    /// Runs ANALYZE on the grants tables, after the record committed. A failure only costs speed until
    /// autovacuum's own ANALYZE, so it is logged, not thrown.
    func refreshStatistics() async {
        do {
            _ = try await service.run("grants.rounds.record") { try $0.execute("SELECT grants.refresh_statistics()") }
        } catch {
            service.logger.notice("could not refresh planner statistics after a large record", metadata: ["error": "\(error)"])
        }
    }
}

/// The steps of recording one manifest inside one transaction.
struct RoundRecorder {
    let connection: PGConnection
    let manifest: RoundManifest
    let actor: String
    var currency: Currency { manifest.round.budget.currency }

    func record(dryRun: Bool) throws -> RecordSummary {
        let roundName = manifest.round.name
        try connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(\("grants.round\u{1F}\(manifest.programme)\u{1F}\(roundName)"), 0))")
        var differences: [Difference] = []
        var problems: [Problem] = []

        // Programme and round.
        var programmeID: Int64?
        if let row = try connection.query("SELECT id, currency FROM grants.programme WHERE name = \(manifest.programme)").first {
            programmeID = try row.decode(column: "id")
            let recorded = try row.decode(Currency.self, column: "currency")
            if recorded != currency {
                differences.append(Difference("round.currency", recorded: recorded.rawValue, given: currency.rawValue))
            }
        }
        var round = try programmeID.flatMap { try Rounds.find(connection, programmeID: $0, name: roundName) }
        if let round { differences += Rounds.differences(round, manifest.round, prefix: "round.") }

        // Themes: the manifest's own, and every code a grant uses.
        let used = Set(manifest.grants.flatMap(\.themes))
        let known = try Themes.find(connection, codes: Array(used.union(manifest.themes.map(\.code))))
        var newThemes: [Theme] = []
        for (i, theme) in manifest.themes.enumerated() {
            if let recorded = known[theme.code] {
                differences += theme.differences(from: recorded, at: "themes[\(i)].")
            } else {
                newThemes.append(theme)
            }
        }
        let uses = ManifestThemeUses(manifest)
        problems += RoundManifest.unknownThemes(uses.uses, declared: uses.declared, known: Set(known.keys))

        // Grants already recorded under these references.
        var existing: [String: Grant] = [:]
        var tranches: [String: [Int: Tranche]] = [:]
        var reports: [String: Set<PlannedReport>] = [:]
        var continued: [String: String] = [:]
        var otherApplications: [String: String] = [:]
        if let programmeID {
            let references = manifest.grants.map(\.reference)
            for row in try connection.query(
                "\(GrantRegistry.select) WHERE g.programme_id = \(programmeID) AND g.reference = ANY(\(references)::text[])")
            {
                let grant = try GrantRegistry.decode(row)
                existing[grant.reference] = grant
            }
            // Each tranche number as it was first recorded: a tranche cancelled and scheduled again, or one added
            // later with `disbursement schedule`, does not make the manifest differ from what it recorded.
            for row in try connection.query(
                """
                SELECT DISTINCT ON (g.reference, d.tranche) g.reference, d.tranche, d.due_on, d.amount, d.currency
                FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id
                WHERE g.programme_id = \(programmeID) AND g.reference = ANY(\(references)::text[]) AND d.tranche IS NOT NULL
                ORDER BY g.reference, d.tranche, d.id
                """)
            {
                tranches[try row.decode(String.self, column: "reference"), default: [:]][
                    Int(try row.decode(Int32.self, column: "tranche"))] =
                    Tranche(dueOn: try row.decode(column: "due_on"), amount: try row.money("amount"))
            }
            for row in try connection.query(
                """
                SELECT g.reference, q.kind, q.due_on, q.before_tranche FROM grants.reporting_requirement q
                JOIN grants.grant g ON g.id = q.grant_id
                WHERE g.programme_id = \(programmeID) AND g.reference = ANY(\(references)::text[])
                """)
            {
                let beforeTranche: Int32? = try row.decode(column: "before_tranche")
                reports[try row.decode(String.self, column: "reference"), default: []].insert(
                    PlannedReport(
                        kind: try row.enumValue(ReportKind.self, column: "kind"), dueOn: try row.decode(column: "due_on"),
                        beforeTranche: beforeTranche.map(Int.init)))
            }
            for row in try connection.query(
                """
                SELECT a.reference, c.reference AS continues FROM grants.application a JOIN grants.grant c ON c.id = a.continues_grant_id
                WHERE a.programme_id = \(programmeID) AND a.reference = ANY(\(references)::text[])
                """)
            {
                continued[try row.decode(column: "reference")] = try row.decode(column: "continues")
            }
            for row in try connection.query(
                """
                SELECT reference, status FROM grants.application
                WHERE programme_id = \(programmeID) AND reference = ANY(\(references)::text[]) AND status <> 'approved'
                """)
            {
                otherApplications[try row.decode(column: "reference")] = try row.decode(column: "status")
            }
        }
        var fresh: [ManifestGrant] = []
        var unchanged: [String] = []
        for grant in manifest.grants {
            if let recorded = existing[grant.reference] {
                let found = Self.differences(
                    grant, recorded, tranches: tranches[grant.reference] ?? [:], reports: reports[grant.reference] ?? [],
                    continues: continued[grant.reference], round: roundName)
                if found.isEmpty { unchanged.append(grant.reference) } else { differences += found }
            } else if let status = otherApplications[grant.reference] {
                differences.append(
                    Difference(grant.location.field("reference"), recorded: "an application \(status)", given: "an approved grant"))
            } else {
                fresh.append(grant)
            }
        }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        guard differences.isEmpty else { throw GrantsError.conflict(entity: "round", key: roundName, differences: differences) }

        // Organisations of the new grants, matched in bulk, the missing ones created.
        let (applicantIDs, partnerIDs, organisationsCreated, organisationDifferences, applicationColumns) =
            try resolveOrganisations(fresh) { ApplicationColumns(fresh) }
        guard organisationDifferences.isEmpty else {
            throw GrantsError.conflict(entity: "round", key: roundName, differences: organisationDifferences)
        }

        // The round (and programme) itself.
        var roundCreated = false
        if round == nil {
            let new = manifest.round
            let roundID = try connection.query(
                """
                SELECT id FROM grants_api.create_round(\(manifest.programme)::text, \(new.name)::text,
                    \(new.budget.minorUnits)::int8, \(currency.rawValue)::text, \(new.opensOn)::date, \(new.closesOn)::date,
                    \(new.decidedOn)::date, \(actor)::text)
                """)[0].decode(Int64.self, column: 0)
            let id = try connection.query("SELECT programme_id FROM grants.allocation_round WHERE id = \(roundID)")[0]
                .decode(Int64.self, column: 0)
            programmeID = id
            round = try Rounds.find(connection, programmeID: id, name: new.name)
            roundCreated = true
        }
        guard let recordedRound = round, let programmeID else {
            throw GrantsError.internalError(sqlState: nil, message: "round missing after insert")
        }
        if !fresh.isEmpty && recordedRound.status == .closed { throw GrantsError.closed(entity: "round", key: roundName) }
        if !newThemes.isEmpty {
            try connection.execute(
                """
                SELECT grants_api.record_themes(\(newThemes.map(\.code))::text[], \(newThemes.map(\.nameSv))::text[],
                    \(newThemes.map(\.nameEn))::text[], \(newThemes.map(\.dacSector))::text[], \(actor)::text)
                """)
        }
        let awardedNow = try Money.sum(fresh.map(\.amount), currency: currency)
        try Approvals.checkBudget(recordedRound, adding: awardedNow)
        if !fresh.isEmpty {
            try insertGrants(
                fresh, programmeID: programmeID, roundID: recordedRound.id, applicantIDs: applicantIDs, partnerIDs: partnerIDs,
                columns: applicationColumns)
        }
        if roundCreated || !fresh.isEmpty {
            try connection.execute(
                """
                SELECT grants_api.record_round_event(\(recordedRound.id)::int8, \(Int32(fresh.count))::int4,
                    \(awardedNow.minorUnits)::int8, \(actor)::text)
                """)
        }
        guard let after = try Rounds.find(connection, programmeID: programmeID, name: roundName) else {
            throw GrantsError.internalError(sqlState: nil, message: "round vanished")
        }
        return RecordSummary(
            round: after, roundCreated: roundCreated, created: fresh.map(\.reference), unchanged: unchanged,
            themesCreated: newThemes.map(\.code), organisationsCreated: organisationsCreated, awardedNow: awardedNow,
            dryRun: dryRun)
    }

    static func differences(
        _ grant: ManifestGrant, _ recorded: Grant, tranches: [Int: Tranche], reports: Set<PlannedReport>, continues: String?,
        round: String
    ) -> [Difference] {
        var result: [Difference] = []
        let at = grant.location
        func add(_ field: String, _ old: String, _ new: String) {
            if old != new { result.append(Difference("\(at.field(field)) (\(grant.reference))", recorded: old, given: new)) }
        }
        add("round", recorded.round, round)
        if let number = grant.applicant.orgNumber {
            add("applicant.org_number", recorded.applicant.orgNumber?.value ?? "none", number.value)
        } else {
            add("applicant.name", OrganisationName.lower(recorded.applicant.name), grant.applicant.nameKey)
        }
        func key(_ o: Organisation) -> String { "\(OrganisationName.lower(o.name)) (\(o.country))" }
        func key(_ o: NewOrganisation) -> String { "\(o.nameKey) (\(o.country))" }
        add(
            "partners", recorded.partners.map(key).sorted().joined(separator: ", "),
            grant.partners.map(key).sorted().joined(separator: ", "))
        add("themes", recorded.themes.sorted().joined(separator: ", "), grant.themes.sorted().joined(separator: ", "))
        add("phase", recorded.phase.rawValue, grant.phase.rawValue)
        add("amount", recorded.originalAmount.swedish, grant.amount.swedish)
        add("requested", recorded.requested.swedish, grant.requested.swedish)
        add("period.start", recorded.startsOn.iso, grant.startsOn.iso)
        add("period.end", recorded.originalEndsOn.iso, grant.endsOn.iso)
        add("title", recorded.title ?? "none", grant.title ?? "none")
        func describe(_ list: [Tranche]) -> String { list.map { "\($0.dueOn) \($0.amount.swedish)" }.joined(separator: "; ") }
        let firstRecorded = (1...max(1, grant.tranches.count)).compactMap { tranches[$0] }
        add("tranches", describe(firstRecorded), describe(grant.tranches))
        // Requirements added later with `requirement add` are not the manifest's: only its own must be there.
        func describe(_ report: PlannedReport) -> String {
            "\(report.kind.rawValue) due \(report.dueOn)" + (report.beforeTranche.map { " before tranche \($0)" } ?? "")
        }
        for (i, report) in grant.reports.enumerated() where !reports.contains(report) {
            result.append(Difference("\(at.field("reports"))[\(i)] (\(grant.reference))", recorded: "none", given: describe(report)))
        }
        add("continues", continues ?? "none", grant.continues ?? "none")
        add("decision_ref", recorded.decisionRef ?? "none", grant.decisionRef ?? "none")
        return result
    }

    /// Matches every organisation of the new grants by organisationsnummer, else by name and country
    /// (case-insensitive), in a few set-based queries, and creates the missing ones. Gives each grant's applicant
    /// id and partner ids, in the order of `grants`, and what `meanwhile` made while the server inserted the new
    /// organisations.
    func resolveOrganisations<T>(
        _ grants: [ManifestGrant], meanwhile: () -> T
    ) throws -> (applicants: [Int64], partners: [[Int64]], created: Int, differences: [Difference], meanwhile: T) {
        // Each organisation's key is computed once (lowercasing 30 000 names is a visible cost in a large record).
        let keys = inChunks(grants.count) { range in range.map { (Self.key(grants[$0].applicant), grants[$0].partners.map(Self.key)) } }
            .joined()
        // Each organisation once, in the order the manifest first names it (which also orders the new ids); each
        // grant's applicant and partners as positions in that list.
        var wanted: [(organisation: NewOrganisation, name: String)] = []
        var positions: [String: Int] = [:]
        func want(_ key: String, _ organisation: NewOrganisation) -> Int {
            if let known = positions[key] { return known }
            positions[key] = wanted.count
            wanted.append((organisation, organisation.nameKey))
            return wanted.count - 1
        }
        var applicantAt: [Int] = []
        var partnersAt: [[Int]] = []
        applicantAt.reserveCapacity(grants.count)
        partnersAt.reserveCapacity(grants.count)
        for (i, (applicantKey, partnerKeys)) in zip(grants.indices, keys) {
            applicantAt.append(want(applicantKey, grants[i].applicant))
            partnersAt.append(zip(partnerKeys, grants[i].partners).map { want($0, $1) })
        }
        var ids = [Int64?](repeating: nil, count: wanted.count)
        var differences: [Difference] = []
        let numbers = wanted.compactMap { $0.organisation.orgNumber?.value }
        var byNumber: [String: Int64] = [:]
        for row in try connection.query("SELECT id, org_number FROM grants.organisation WHERE org_number = ANY(\(numbers)::text[])") {
            byNumber[try row.decode(column: "org_number")] = try row.decode(column: "id")
        }
        var byName: [String: (id: Int64, number: String?)] = [:]
        let names = wanted.map(\.name)
        let countries = wanted.map(\.organisation.country)
        for row in try connection.query(
            """
            SELECT o.id, lower(o.name) AS name, o.country, o.org_number FROM grants.organisation o
            JOIN unnest(\(names)::text[], \(countries)::text[]) AS w(name, country)
              ON lower(o.name) = w.name AND o.country = w.country AND NOT o.legacy_name
            """)
        {
            byName["\(try row.decode(String.self, column: "name"))|\(try row.decode(String.self, column: "country"))"] =
                (try row.decode(column: "id"), try row.decode(column: "org_number"))
        }
        var missing: [Int] = []
        for (position, (organisation, name)) in wanted.enumerated() {
            if let number = organisation.orgNumber, let id = byNumber[number.value] {
                ids[position] = id
            } else if let match = byName["\(name)|\(organisation.country)"] {
                if let number = organisation.orgNumber, let recorded = match.number, recorded != number.value {
                    differences.append(
                        Difference("organisation \(organisation.name)", recorded: "organisationsnummer \(recorded)", given: number.value))
                }
                ids[position] = match.id
            } else {
                missing.append(position)
            }
        }
        let made: T
        if missing.isEmpty {
            made = meanwhile()
        } else {
            let new = missing.map { wanted[$0].organisation }
            let (rows, value) = try connection.query(
                """
                SELECT id FROM grants_api.record_organisations(\(new.map(\.name))::text[], \(new.map(\.country))::text[],
                    \(new.map { $0.orgNumber?.value })::text[], \(new.map(\.municipalityCode))::text[],
                    \(new.map(\.kind.rawValue))::text[], \(actor)::text)
                ORDER BY n
                """, meanwhile: meanwhile)
            guard rows.count == missing.count else {
                throw GrantsError.internalError(sqlState: nil, message: "organisation insert returned \(rows.count) rows")
            }
            for (i, row) in rows.enumerated() { ids[missing[i]] = try row.decode(Int64.self, column: 0) }
            made = value
        }
        // Every organisation was matched or created just before; one missing is a bug, never a row with id -1.
        func id(_ position: Int) throws -> Int64 {
            guard let id = ids[position] else {
                let name = wanted[position].organisation.name
                throw GrantsError.internalError(sqlState: nil, message: "organisation \(name) was not resolved")
            }
            return id
        }
        return (try applicantAt.map(id), try partnersAt.map { try $0.map(id) }, missing.count, differences, made)
    }

    /// The grant each new grant continues (nil where none): recorded in the programme and awarded to the same
    /// applicant, else a problem at `grants[i].continues`.
    func continuedGrants(_ grants: [ManifestGrant], applicantIDs: [Int64], programmeID: Int64) throws -> [Int64?] {
        let references = grants.compactMap(\.continues)
        guard !references.isEmpty else { return grants.map { _ in nil } }
        var recorded: [String: (id: Int64, applicant: Int64, name: String)] = [:]
        for row in try connection.query(
            """
            SELECT g.reference, g.id, a.applicant_id, o.name FROM grants.grant g
            JOIN grants.application a ON a.id = g.application_id JOIN grants.organisation o ON o.id = a.applicant_id
            WHERE g.programme_id = \(programmeID) AND g.reference = ANY(\(references)::text[])
            """)
        {
            recorded[try row.decode(column: "reference")] =
                (try row.decode(column: "id"), try row.decode(column: "applicant_id"), try row.decode(column: "name"))
        }
        var problems: [Problem] = []
        let ids: [Int64?] = grants.enumerated().map { i, grant in
            guard let continues = grant.continues else { return nil }
            let place = grant.location.field("continues")
            guard let earlier = recorded[continues] else {
                problems.append(Problem(place, "no recorded grant \(continues) in \(manifest.programme) to continue"))
                return nil
            }
            guard earlier.applicant == applicantIDs[i] else {
                problems.append(
                    Problem(
                        place,
                        "grant \(continues) was awarded to \(earlier.name), not \(grant.applicant.name): a partnership continues with its applicant"
                    ))
                return nil
            }
            return earlier.id
        }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return ids
    }

    static func key(_ organisation: NewOrganisation) -> String {
        organisation.orgNumber.map { "#\($0.value)" } ?? "\(organisation.nameKey)|\(organisation.country)"
    }

    /// Applications, partners, themes, approvals, grants, tranches, requirements and audit events: one call of
    /// `grants_api.record_grants` (Schema/api/record.sql), one set-based statement per table inside it.
    func insertGrants(
        _ grants: [ManifestGrant], programmeID: Int64, roundID: Int64, applicantIDs: [Int64], partnerIDs: [[Int64]],
        columns: ApplicationColumns
    ) throws {
        let continuesIDs = try continuedGrants(grants, applicantIDs: applicantIDs, programmeID: programmeID)
        let decidedOn = manifest.round.decidedOn ?? CalendarDate.today
        let rows = DependentRows(grants, partnerIDs: partnerIDs)
        /// 1-based positions of the grants, as the function names them.
        func positions(_ grantIndexes: [Int]) -> [Int32] { grantIndexes.map { Int32($0 + 1) } }
        let inserted = try connection.query(
            """
            SELECT grants_api.record_grants(\(roundID)::int8, \(decidedOn)::date,
                \(columns.references)::text[], \(columns.titles)::text[], \(applicantIDs)::int8[], \(columns.phases)::text[],
                \(columns.requested)::int8[], \(rows.amounts)::int8[], \(columns.starts)::date[], \(columns.ends)::date[],
                \(continuesIDs)::int8[], \(rows.decisionRefs)::text[],
                \(positions(rows.partnerGrant))::int4[], \(rows.partnerOrganisations)::int8[], \(rows.partnerPositions)::int4[],
                \(positions(rows.themeGrant))::int4[], \(rows.themeCodes)::text[], \(rows.themePositions)::int4[],
                \(positions(rows.trancheGrant))::int4[], \(rows.trancheAmounts)::int8[], \(rows.trancheDues)::date[],
                \(rows.trancheNumbers)::int4[],
                \(positions(rows.reportGrant))::int4[], \(rows.reportKinds)::text[], \(rows.reportDues)::date[],
                \(rows.reportBefore)::int4[], \(actor)::text)
            """)[0].decode(Int32.self, column: 0)
        guard inserted == grants.count else {
            throw GrantsError.internalError(sqlState: nil, message: "the round record wrote \(inserted) grants of \(grants.count)")
        }
    }
}

/// The application insert's own columns, encoded while the server inserts the new organisations.
struct ApplicationColumns {
    let references: PGBinding
    let titles: PGBinding
    let phases: PGBinding
    let requested: PGBinding
    let starts: PGBinding
    let ends: PGBinding

    init(_ grants: [ManifestGrant]) {
        references = grants.map(\.reference).pgBinding
        titles = grants.map(\.title).pgBinding
        phases = grants.map(\.phase.rawValue).pgBinding
        requested = grants.map(\.requested.minorUnits).pgBinding
        starts = grants.map(\.startsOn.iso).pgBinding
        ends = grants.map(\.endsOn.iso).pgBinding
    }
}

/// What the statements after the application insert bind, apart from application ids, encoded ahead: each row
/// of a child table carries the index of its grant, which becomes the application's id once it is known.
struct DependentRows {
    let partnerGrant: [Int]
    let partnerOrganisations: PGBinding
    let partnerPositions: PGBinding
    let themeGrant: [Int]
    let themeCodes: PGBinding
    let themePositions: PGBinding
    let amounts: PGBinding
    let decisionRefs: PGBinding
    let trancheGrant: [Int]
    let trancheAmounts: PGBinding
    let trancheDues: PGBinding
    let trancheNumbers: PGBinding
    let reportGrant: [Int]
    let reportKinds: PGBinding
    let reportDues: PGBinding
    let reportBefore: PGBinding

    init(_ grants: [ManifestGrant], partnerIDs: [[Int64]]) {
        var partnerGrant: [Int] = []
        var organisations: [Int64] = []
        var partnerPositions: [Int32] = []
        var themeGrant: [Int] = []
        var codes: [String] = []
        var themePositions: [Int32] = []
        var trancheGrant: [Int] = []
        var trancheAmounts: [Int64] = []
        var trancheDues: [String] = []
        var trancheNumbers: [Int32] = []
        var reportGrant: [Int] = []
        var reportKinds: [String] = []
        var reportDues: [String] = []
        var reportBefore: [Int32?] = []
        for i in grants.indices {
            for (position, organisation) in partnerIDs[i].enumerated() {
                partnerGrant.append(i)
                organisations.append(organisation)
                partnerPositions.append(Int32(position))
            }
            for (position, code) in grants[i].themes.enumerated() {
                themeGrant.append(i)
                codes.append(code)
                themePositions.append(Int32(position))
            }
            for (n, tranche) in grants[i].tranches.enumerated() {
                trancheGrant.append(i)
                trancheAmounts.append(tranche.amount.minorUnits)
                trancheDues.append(tranche.dueOn.iso)
                trancheNumbers.append(Int32(n + 1))
            }
            for report in grants[i].reports {
                reportGrant.append(i)
                reportKinds.append(report.kind.rawValue)
                reportDues.append(report.dueOn.iso)
                reportBefore.append(report.beforeTranche.map(Int32.init))
            }
        }
        self.partnerGrant = partnerGrant
        self.partnerOrganisations = organisations.pgBinding
        self.partnerPositions = partnerPositions.pgBinding
        self.themeGrant = themeGrant
        self.themeCodes = codes.pgBinding
        self.themePositions = themePositions.pgBinding
        self.amounts = grants.map(\.amount.minorUnits).pgBinding
        self.decisionRefs = grants.map(\.decisionRef).pgBinding
        self.trancheGrant = trancheGrant
        self.trancheAmounts = trancheAmounts.pgBinding
        self.trancheDues = trancheDues.pgBinding
        self.trancheNumbers = trancheNumbers.pgBinding
        self.reportGrant = reportGrant
        self.reportKinds = reportKinds.pgBinding
        self.reportDues = reportDues.pgBinding
        self.reportBefore = reportBefore.pgBinding
    }
}
