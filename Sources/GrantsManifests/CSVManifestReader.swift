import GrantsCore
/// The round a CSV grant list belongs to: a CSV file holds only the grants.
///
/// ```swift
/// let round = CSVRoundParameters(
///     programme: "Kommunala partnerskap", round: "2020:1", budget: try Money(parsing: "8 000 000", currency: .sek),
///     decidedOn: try CalendarDate("2020-06-10"))
/// let manifest = try RoundManifest.parse(csvData, fileName: "2020-1.csv", csvRound: round)
/// ```
public struct CSVRoundParameters: Sendable, Equatable {
    public var programme: String
    public var round: String
    public var budget: Money
    public var decidedOn: CalendarDate
    public var opensOn: CalendarDate?
    public var closesOn: CalendarDate?

    public init(
        programme: String, round: String, budget: Money, decidedOn: CalendarDate, opensOn: CalendarDate? = nil,
        closesOn: CalendarDate? = nil
    ) {
        self.programme = programme
        self.round = round
        self.budget = budget
        self.decidedOn = decidedOn
        self.opensOn = opensOn
        self.closesOn = closesOn
    }
}

/// RFC 4180 records (`,` or `;` separated; quoted fields may hold separators, quotes and line breaks),
/// each with the line it starts on.
struct CSVRecords {
    let separator: UInt8
    let records: [(line: Int, fields: [String])]

    static func parse(_ text: String) throws(GrantsError) -> CSVRecords {
        let bytes = Array(text.utf8)
        let separator = detectSeparator(bytes)
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var i = 0
        var quoted = false
        var fieldWasQuoted = false
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
        }
        while i < bytes.count {
            let byte = bytes[i]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        i += 2
                        continue
                    }
                    quoted = false
                } else {
                    if byte == 10 { line += 1 }
                    field.append(byte)
                }
                i += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                guard field.isEmpty && !fieldWasQuoted else {
                    throw .invalidInput([
                        Problem("line \(line)", "a quote inside an unquoted field (quote the whole field and double inner quotes)")
                    ])
                }
                quoted = true
                fieldWasQuoted = true
            case separator:
                endField()
            case 13 where i + 1 < bytes.count && bytes[i + 1] == 10:
                break
            case 10, 13:
                endField()
                if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
                fields.removeAll(keepingCapacity: true)
                line += 1
                recordLine = line
            default:
                if fieldWasQuoted {
                    throw .invalidInput([Problem("line \(line)", "text after a closing quote")])
                }
                field.append(byte)
            }
            i += 1
        }
        if quoted { throw .invalidInput([Problem("line \(recordLine)", "a quoted field is never closed")]) }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted {
            endField()
            records.append((recordLine, fields))
        }
        return CSVRecords(separator: separator, records: records)
    }

    /// `;` when the header line has more semicolons than commas outside quotes (Excel in Swedish), else `,`.
    static func detectSeparator(_ bytes: [UInt8]) -> UInt8 {
        var commas = 0
        var semicolons = 0
        var quoted = false
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if quoted { continue }
            if byte == 10 || byte == 13 { break }
            if byte == UInt8(ascii: ",") { commas += 1 }
            if byte == UInt8(ascii: ";") { semicolons += 1 }
        }
        return semicolons > commas ? UInt8(ascii: ";") : UInt8(ascii: ",")
    }
}

/// Reads a CSV grant list: `reference,title,applicant,applicant_org_number,partners,partner_countries,themes,
/// phase,amount,start,end` (several values in a cell separated by `|`).
enum CSVManifestReader {
    static let columns = [
        "reference", "title", "applicant", "applicant_org_number", "partners", "partner_countries", "themes", "phase",
        "amount", "start", "end",
    ]
    static let required: Set<String> = ["reference", "applicant", "partners", "partner_countries", "themes", "amount", "start", "end"]

    static func read(
        _ text: String, round parameters: CSVRoundParameters, themeUses: ManifestThemeUses? = nil
    ) throws(GrantsError) -> RoundManifest {
        let csv = try CSVRecords.parse(text)
        guard let header = csv.records.first else { throw .invalidInput([Problem("line 1", "the file has no header line")]) }
        let log = ProblemLog()
        var index: [String: Int] = [:]
        for (i, raw) in header.fields.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if !columns.contains(name) {
                log.add("line 1, column \(i + 1)", "unknown column \"\(raw.prefix(40))\" (columns: \(columns.joined(separator: ",")))")
            } else if index[name] != nil {
                log.add("line 1, column \(i + 1)", "column \(name) appears twice")
            } else {
                index[name] = i
            }
        }
        for name in columns where required.contains(name) && index[name] == nil {
            log.add("line 1", "missing column \(name)")
        }
        guard log.problems.isEmpty else { throw .invalidInput(log.problems) }
        let rows = csv.records.dropFirst()
        if rows.count > ManifestLimits.maximumGrants {
            throw .invalidInput([
                Problem("line \(rows.last?.line ?? 1)", "\(rows.count) grants; the limit is \(ManifestLimits.maximumGrants)")
            ])
        }
        let currency = parameters.budget.currency
        var grants: [ManifestGrant] = []
        grants.reserveCapacity(rows.count)
        var skipped: [SkippedGrant] = []
        for (line, fields) in rows {
            let location = ManifestLocation(base: "line \(line)", style: .csvLine)
            // A spreadsheet saves the rows it once had as separators only (`;;;;;;;;;;`, `,,,,`): nothing to read.
            if fields.allSatisfy({ $0.allSatisfy(\.isWhitespace) }) { continue }
            guard fields.count == header.fields.count else {
                log.add("line \(line)", "has \(counted(fields.count, "field")); the header has \(counted(header.fields.count, "field"))")
                continue
            }
            let before = log.problems.count
            func cell(_ name: String) -> String? {
                guard let i = index[name] else { return nil }
                let value = fields[i].trimmingCharacters(in: .whitespaces)
                if value.count > ManifestLimits.maximumFieldLength {
                    log.add(location.field(name), "is \(value.count) characters; the limit is \(ManifestLimits.maximumFieldLength)")
                    return nil
                }
                if let problem = Limits.controlCharacterProblem(value, at: location.field(name)) {
                    log.add(problem.location, problem.message)
                    return nil
                }
                if value.isEmpty {
                    if required.contains(name) { log.add(location.field(name), "is empty") }
                    return nil
                }
                return value
            }
            func list(_ name: String) -> [String] {
                (cell(name) ?? "").split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            }
            let reference = cell("reference")
            let title = cell("title")
            let applicantName = cell("applicant")
            var applicantNumber: OrganisationNumber?
            if let text = cell("applicant_org_number") {
                do { applicantNumber = try OrganisationNumber(text) } catch { log.add(location.field("applicant_org_number"), "\(error)") }
            }
            let partnerNames = list("partners")
            let countries = list("partner_countries")
            if !partnerNames.isEmpty && countries.count != partnerNames.count && countries.count != 1 {
                log.add(
                    location.field("partner_countries"),
                    "\(counted(countries.count, "country", "countries")) for \(counted(partnerNames.count, "partner")) (give one, or one per partner)"
                )
            }
            let partners = partnerNames.enumerated().map { i, name in
                NewOrganisation(
                    name: name, country: (countries.count == 1 ? countries[0] : (i < countries.count ? countries[i] : "")).uppercased())
            }
            let themes = list("themes").filter { !$0.isEmpty }
            var phase = Phase.project
            if let text = cell("phase") {
                if let parsed = Phase(rawValue: text.lowercased()) {
                    phase = parsed
                } else {
                    log.add(location.field("phase"), "must be inception or project")
                }
            }
            var amount: Money?
            if let text = cell("amount") {
                do { amount = try Money(parsing: text, currency: currency) } catch { log.add(location.field("amount"), "\(error)") }
            }
            var start: CalendarDate?
            var end: CalendarDate?
            if let text = cell("start") {
                do { start = try CalendarDate(text) } catch { log.add(location.field("start"), "\(error)") }
            }
            if let text = cell("end") {
                do { end = try CalendarDate(text) } catch { log.add(location.field("end"), "\(error)") }
            }
            guard log.problems.count == before, let reference, let applicantName, let amount, let start, let end else {
                skipped.append(SkippedGrant(reference: reference, amount: amount, location: location, themes: themes))
                continue
            }
            grants.append(
                ManifestGrant(
                    reference: reference, title: title,
                    applicant: NewOrganisation(
                        name: applicantName, country: "SE", orgNumber: applicantNumber,
                        kind: applicantName.lowercased().hasPrefix("region") ? .region : .municipality),
                    partners: partners, themes: themes, phase: phase, amount: amount, startsOn: start, endsOn: end, location: location))
        }
        let round = NewRound(
            programme: parameters.programme, name: parameters.round, budget: parameters.budget, opensOn: parameters.opensOn,
            closesOn: parameters.closesOn, decidedOn: parameters.decidedOn)
        var manifest = RoundManifest(programme: parameters.programme, round: round, grants: grants)
        if log.problems.isEmpty {
            let problems = manifest.check()
            guard problems.isEmpty else {
                themeUses?.add(grants, skipped: [])
                throw .invalidInput(problems)
            }
            return manifest
        }
        // Rows that could not be read still count for references and the budget: every problem in one run.
        themeUses?.add(grants, skipped: skipped)
        throw .invalidInput(
            log.problems + RoundManifest.roundProblems(round, themes: []).round
                + RoundManifest.grantProblems(grants, skipped: skipped, currency: currency, budget: parameters.budget))
    }
}
