import Foundation
import GrantsCore

/// 360Giving JSON: `{"grants": [...]}`, one grant per recorded grant, with `amountDisbursed` equal to the
/// sum of its `disbursementTransaction`s: payments, and reversals and repayments as negative transactions
/// (with a `description` saying which), so it is what the grantee kept. Amounts are JSON numbers written from
/// the exact decimal text.
///
/// `amountAwarded` is the award after its amendments: the standard defines it as the total amount awarded, "the
/// sum of all the award transactions", and an amendment is an award decision. A closing decides nothing about
/// the award: what was never paid out shows as `amountAwarded` − `amountDisbursed`, and a closed grant gets
/// `actualDates` (its start, or the closing if earlier, to the closing) beside `plannedDates` and a description
/// that says how it closed (the part never paid out, the claim repaid and written off).
///
/// Grant ids are `<prefix>-<grant reference>` under the programme's registered prefix (its `giving360_prefix`
/// setting). A Swedish recipient with an organisationsnummer is `SE-ON-` + its ten digits, the org-id.guide
/// identifier; any other recipient gets ``organisationID(prefix:country:name:)``: derived from what
/// identifies it in every copy of the data, never from a database key.
package struct Giving360Writer {
    package let export: ExportSettings
    let prefix: String
    let funderID: String
    let funderName: String

    package init(export: ExportSettings) throws {
        self.export = export
        let settings = export.settings
        let problems = settings.missing(for: .giving360, programme: export.programme)
        guard problems.isEmpty, let prefix = settings.giving360Prefix, let funderID = settings.iatiPublisherRef,
            let funderName = settings.iatiPublisherName
        else { throw GrantsError.invalidInput(problems) }
        self.prefix = prefix
        self.funderID = funderID
        self.funderName = funderName
    }

    /// Writes the package. Its `grants` holds one or more grants (the package schema's `minItems: 1`), so with no
    /// grant nothing is written and it is `GrantsError.invalidInput` "nothing to export" naming `scope`.
    package func write(grants: RowFeed<GrantActivityRow>, scope: String, to output: ReportOutput) throws -> ExportStats {
        var out: [UInt8] = []
        var first = true
        let count = try grants { grant in
            out.removeAll(keepingCapacity: true)
            out += (first ? "{\n  \"grants\": [\n    " : ",\n    ").utf8
            first = false
            object(grant, into: &out)
            try output.write(out)
        }
        guard count > 0 else {
            throw GrantsError.nothingToExport(format: .giving360, scope: scope, why: "a 360Giving package holds at least one grant")
        }
        try output.write("\n  ]\n}\n")
        return ExportStats(rows: count, total: nil)
    }

    /// The id of an organisation without an organisationsnummer: `<prefix>-ORG-<country>-<name>`, the name
    /// folded to upper-case ASCII letters and digits (accents dropped: `Ž` → `Z`; `ß` → `SS`) with one `-`
    /// for every run of anything else. The same organisation (recorded by name and country, compared without
    /// case, as the library matches them) gets the same id in every database and every export.
    ///
    /// `organisationID(prefix: "360G-icld", country: "KE", name: "Kisumu County")` is `360G-icld-ORG-KE-KISUMU-COUNTY`.
    package static func organisationID(prefix: String, country: String, name: String) -> String {
        let letters: [Unicode.Scalar: String] = ["Ø": "O", "Ł": "L", "Đ": "D", "Æ": "AE", "Þ": "TH", "Œ": "OE", "Ð": "D", "İ": "I"]
        var folded = ""
        for scalar in name.uppercased().decomposedStringWithCanonicalMapping.unicodeScalars
        where scalar.properties.generalCategory != .nonspacingMark {
            if let spelled = letters[scalar] { folded += spelled } else { folded.unicodeScalars.append(scalar) }
        }
        var slug = ""
        var gap = false
        for scalar in folded.unicodeScalars {
            if (scalar.value >= 0x30 && scalar.value <= 0x39) || (scalar.value >= 0x41 && scalar.value <= 0x5A) {
                if gap && !slug.isEmpty { slug += "-" }
                gap = false
                slug.unicodeScalars.append(scalar)
            } else {
                gap = true
            }
        }
        return "\(prefix)-ORG-\(country)-\(slug.isEmpty ? "X" : slug)"
    }

    func object(_ grant: GrantActivityRow, into out: inout [UInt8]) {
        let currency = grant.amount.currency
        var fields: [(String, String)] = []
        func text(_ value: String) -> String { JSONText.string(value) }
        func organisation(_ id: String, _ name: String) -> String { "{\"id\": \(text(id)), \"name\": \(text(name))}" }
        let recipientID =
            grant.applicantOrgID ?? Self.organisationID(prefix: prefix, country: grant.applicantCountry, name: grant.applicantName)
        let partners = zip(grant.partnerNames, grant.partnerCountries).map { "\($0) (\($1))" }.joined(separator: ", ")
        fields.append(("id", text("\(prefix)-\(grant.reference)")))
        fields.append(("title", text(grant.title ?? grant.reference)))
        let closing = grant.closingStory(swedish: false).map { " " + $0 } ?? ""
        fields.append(
            ("description", text("\(grant.programme), round \(grant.round): \(grant.applicantName) with \(partners).\(closing)")))
        fields.append(("currency", text(currency.rawValue)))
        fields.append(("amountAwarded", grant.amount.plain))
        fields.append(("amountAppliedFor", grant.requested.plain))
        fields.append(("amountDisbursed", Money(minorUnits: grant.disbursed, currency: currency).plain))
        fields.append(("awardDate", text(grant.decidedOn.iso)))
        fields.append(("dateModified", text(IATIWriter.timestamp(grant.lastUpdated))))
        fields.append(("plannedDates", "[{\"startDate\": \(text(grant.startsOn.iso)), \"endDate\": \(text(grant.endsOn.iso))}]"))
        if let actual = grant.actualDates {
            fields.append(("actualDates", "[{\"startDate\": \(text(actual.start.iso)), \"endDate\": \(text(actual.end.iso))}]"))
        }
        fields.append(("recipientOrganization", "[\(organisation(recipientID, grant.applicantName))]"))
        fields.append(("fundingOrganization", "[\(organisation(funderID, funderName))]"))
        fields.append(("grantProgramme", "[{\"code\": \(text(grant.round)), \"title\": \(text("\(grant.programme) \(grant.round)"))}]"))
        fields.append(("beneficiaryLocation", "[" + grant.countries.map { "{\"countryCode\": \(text($0))}" }.joined(separator: ", ") + "]"))
        fields.append(
            (
                "classifications",
                "["
                    + zip(grant.themeCodes, grant.themeNamesEn).map {
                        "{\"vocabulary\": \(text("\(prefix)-themes")), \"code\": \(text($0)), \"title\": \(text($1))}"
                    }.joined(separator: ", ") + "]"
            ))
        let transactions = grant.transactions.filter { [.payment, .reversal, .repayment].contains($0.kind) }.map { event in
            let description =
                switch event.kind {
                case .reversal: ", \"description\": \(text("Reversal of a payment"))"
                case .repayment: ", \"description\": \(text("Repayment by the grantee"))"
                default: ""
                }
            let value = Money(minorUnits: event.amount, currency: currency).plain
            return
                "{\"id\": \(text("\(prefix)-\(grant.reference)-\(event.id)")), \"transactionDate\": \(text(event.date.iso)), \"value\": \(value)\(description)}"
        }
        fields.append(("disbursementTransaction", "[" + transactions.joined(separator: ", ") + "]"))
        out += "{".utf8
        for (i, (key, value)) in fields.enumerated() {
            out += "\(i == 0 ? "" : ", ")\(text(key)): \(value)".utf8
        }
        out += "}".utf8
    }
}
