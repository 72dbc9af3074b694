import Foundation

/// IATI 2.03 activities, one per grant, published under the programme's own identifier (its
/// `iati_publisher_ref` setting; the writer is never called without it).
///
/// Each activity: `<publisher>-<grant reference>` as identifier; the Swedish title and a Swedish description
/// marked `xml:lang="sv"` beside an English description; the funder (role 1), the publisher (role 3), the
/// grantee and its partners (role 4); recipient countries from the partners; DAC sectors from the themes, or
/// the programme's default sector; the programme's default flow, finance, aid and collaboration types; a budget
/// per calendar year of the grant period; a commitment for the decision, one per amendment on its own date
/// (negative for a decrease) and a negative one for the unspent award at closing; a disbursement per payment,
/// negative for reversals and repayments; the grant it continues as a related activity.
///
/// A repayment (unspent money the grantee paid back after settlement) is a disbursement (type 3) with a
/// negative value on the day it came in, as a reversal is, so the activity's disbursements add up to what the
/// grantee kept. The other types do not describe it: 1 Incoming Funds is money received *for use on* the
/// activity, 4 Expenditure is spending on goods and services, 6 Loan Repayment is principal repaid on a loan
/// (these are grants), and 7 Reimbursement is a disbursement that covers what the recipient already spent,
/// money going the other way. Returned funds are reported as a negative value of the transaction they undo.
///
/// The grant a grant continues (the earlier phase of the same partnership, `continues`) is a related activity
/// of type 3, sibling, with the identifier the same publisher gave it: the phases are separate activities of
/// one partnership, neither containing the other, so not 1 parent or 2 child; 4 co-funded and 5 third party
/// are about who funds or reports the activity.
package struct IATIWriter {
    package let export: ExportSettings
    let publisherRef: String
    let publisherName: String
    let publisherType: String
    let funderRef: String
    let funderName: String

    /// Nil settings are refused before a writer exists (`ProgrammeSettings.missing(for:programme:)`).
    package init(export: ExportSettings) throws {
        self.export = export
        let settings = export.settings
        let problems = settings.missing(for: .iati, programme: export.programme)
        guard problems.isEmpty, let publisherRef = settings.iatiPublisherRef, let publisherName = settings.iatiPublisherName,
            let publisherType = settings.iatiPublisherType, let funderRef = settings.funderRef, let funderName = settings.funderName
        else { throw GrantsError.invalidInput(problems) }
        self.publisherRef = publisherRef
        self.publisherName = publisherName
        self.publisherType = publisherType
        self.funderRef = funderRef
        self.funderName = funderName
    }

    package func write(grants: RowFeed<GrantActivityRow>, to output: ReportOutput) throws -> ExportStats {
        let generated = Self.timestamp(export.generatedAt)
        try output.write(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\" generated-datetime=\"\(generated)\">\n")
        var out = ""
        let count = try grants { grant in
            out.removeAll(keepingCapacity: true)
            activity(grant, into: &out)
            try output.write(out)
        }
        try output.write("</iati-activities>\n")
        return ExportStats(rows: count, total: nil)
    }

    func activity(_ grant: GrantActivityRow, into out: inout String) {
        let settings = export.settings
        let currency = grant.amount.currency.rawValue
        let publisher = Self.escape(publisherRef)
        let grantee = grant.applicantOrgID
        let granteeType = grant.applicantKind == "other" ? "90" : "11"
        out +=
            "  <iati-activity last-updated-datetime=\"\(Self.timestamp(grant.lastUpdated))\" xml:lang=\"en\" default-currency=\"\(currency)\">\n"
        out +=
            "    <iati-identifier>\(Self.escape(Self.identifier(publisher: publisherRef, reference: grant.reference)))</iati-identifier>\n"
        out +=
            "    <reporting-org ref=\"\(publisher)\" type=\"\(Self.escape(publisherType))\">\(narrative(publisherName))</reporting-org>\n"
        // Titles are written in Swedish; without one the reference stands in, which has no language.
        out += "    <title>\(grant.title.map { narrative($0, lang: "sv") } ?? narrative(grant.reference))</title>\n"
        let partnersEn = zip(grant.partnerNames, grant.partnerCountries).map { "\($0) (\($1))" }.joined(separator: ", ")
        let english =
            "\(grant.programme), round \(grant.round): \(grant.applicantName) with \(partnersEn)."
            + (grant.themeNamesEn.isEmpty ? "" : " Themes: \(grant.themeNamesEn.joined(separator: ", ")).")
        let swedish =
            "\(grant.programme), omgång \(grant.round): \(grant.applicantName) med \(partnersEn)."
            + (grant.themeNamesSv.isEmpty ? "" : " Teman: \(grant.themeNamesSv.joined(separator: ", ")).")
        out += "    <description type=\"1\">\(narrative(english))\(narrative(swedish, lang: "sv"))</description>\n"
        out += "    <participating-org role=\"1\" ref=\"\(Self.escape(funderRef))\">\(narrative(funderName))</participating-org>\n"
        out +=
            "    <participating-org role=\"3\" ref=\"\(publisher)\" type=\"\(Self.escape(publisherType))\">\(narrative(publisherName))</participating-org>\n"
        out +=
            "    <participating-org role=\"4\"\(grantee.map { " ref=\"\(Self.escape($0))\"" } ?? "") type=\"\(granteeType)\">\(narrative(grant.applicantName))</participating-org>\n"
        for (name, kind) in zip(grant.partnerNames, grant.partnerKinds) {
            out += "    <participating-org role=\"4\" type=\"\(kind == "other" ? "90" : "11")\">\(narrative(name))</participating-org>\n"
        }
        out += "    <activity-status code=\"\(grant.closed ? 4 : 2)\"/>\n"
        out += "    <activity-date type=\"1\" iso-date=\"\(grant.startsOn.iso)\"/>\n"
        out += "    <activity-date type=\"3\" iso-date=\"\(grant.endsOn.iso)\"/>\n"
        for (country, share) in zip(grant.countries, percentages(grant.countries.count)) {
            out += "    <recipient-country code=\"\(Self.escape(country))\" percentage=\"\(share)\"/>\n"
        }
        let sectors = grant.sectors.isEmpty ? settings.defaultSector.map { [$0] } ?? [] : grant.sectors
        for (sector, share) in zip(sectors, percentages(sectors.count)) {
            out += "    <sector vocabulary=\"1\" code=\"\(Self.escape(sector))\" percentage=\"\(share)\"/>\n"
        }
        if let code = settings.collaborationType { out += "    <collaboration-type code=\"\(Self.escape(code))\"/>\n" }
        if let code = settings.flowType { out += "    <default-flow-type code=\"\(Self.escape(code))\"/>\n" }
        if let code = settings.financeType { out += "    <default-finance-type code=\"\(Self.escape(code))\"/>\n" }
        if let code = settings.aidType { out += "    <default-aid-type vocabulary=\"1\" code=\"\(Self.escape(code))\"/>\n" }
        for budget in yearlyBudgets(amount: grant.amount.minorUnits, from: grant.startsOn, to: grant.endsOn) {
            let value = Money(minorUnits: budget.amount, currency: grant.amount.currency)
            out += "    <budget type=\"1\" status=\"2\">\n"
            out += "      <period-start iso-date=\"\(budget.start.iso)\"/>\n      <period-end iso-date=\"\(budget.end.iso)\"/>\n"
            out += "      <value currency=\"\(currency)\" value-date=\"\(budget.start.iso)\">\(value.plain)</value>\n    </budget>\n"
        }
        let receiver =
            "<receiver-org\(grantee.map { " ref=\"\(Self.escape($0))\"" } ?? "") type=\"\(granteeType)\">\(narrative(grant.applicantName))</receiver-org>"
        let provider =
            "<provider-org ref=\"\(publisher)\" type=\"\(Self.escape(publisherType))\">\(narrative(publisherName))</provider-org>"
        func transaction(_ type: Int, _ date: CalendarDate, _ minorUnits: Int64, _ description: String?) {
            let value = Money(minorUnits: minorUnits, currency: grant.amount.currency)
            out += "    <transaction>\n      <transaction-type code=\"\(type)\"/>\n      <transaction-date iso-date=\"\(date.iso)\"/>\n"
            out += "      <value currency=\"\(currency)\" value-date=\"\(date.iso)\">\(value.plain)</value>\n"
            if let description { out += "      <description>\(narrative(description))</description>\n" }
            out += "      \(provider)\n      \(receiver)\n    </transaction>\n"
        }
        transaction(2, grant.decidedOn, grant.originalAmount.minorUnits, "Grant decision")
        for event in grant.transactions {
            switch event.kind {
            case .amendment: transaction(2, event.date, event.amount, "Amendment of the grant")
            case .closing: transaction(2, event.date, event.amount, "Unspent award returned at closing")
            case .payment: transaction(3, event.date, event.amount, nil)
            case .reversal: transaction(3, event.date, event.amount, "Reversal of a payment")
            case .repayment: transaction(3, event.date, event.amount, "Repayment by the grantee")
            }
        }
        for earlier in grant.continues {
            // The earlier phase of the same partnership: a sibling activity of the same publisher (see above).
            out +=
                "    <related-activity ref=\"\(Self.escape(Self.identifier(publisher: publisherRef, reference: earlier)))\" type=\"3\"/>\n"
        }
        out += "  </iati-activity>\n"
    }

    /// An activity's identifier: the publisher's identifier, a hyphen, the grant's reference. It never changes
    /// once published, so neither part may.
    package static func identifier(publisher: String, reference: String) -> String { publisher + "-" + reference }

    func narrative(_ text: String, lang: String? = nil) -> String {
        "<narrative\(lang.map { " xml:lang=\"\($0)\"" } ?? "")>\(Self.escape(text))</narrative>"
    }

    /// XML text and attribute escaping; characters XML 1.0 cannot carry at all become spaces.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) { out += " " } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
