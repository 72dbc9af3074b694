import Foundation
import GrantsCore

/// IATI 2.03 activities, one per grant, published under the programme's own identifier (its
/// `iati_publisher_ref` setting; the writer is never called without it).
///
/// Each activity: `<publisher>-<grant reference>` as identifier; the Swedish title and a Swedish description
/// marked `xml:lang="sv"` beside an English description; the funder (role 1), the publisher (role 3), the
/// grantee and its partners (role 4); recipient countries from the partners; DAC sectors from the themes, or
/// the programme's default sector; the programme's default flow, finance, aid and collaboration types; a budget
/// per calendar year of the grant period, original and, once the commitment or period changed, revised
/// (``budgets(_:)``); a commitment for the decision, one per amendment on its own date (negative for a decrease),
/// a negative one per repayment and a negative one for the award never paid out at closing, so that a closed
/// grant's commitments add up to what it disbursed; a disbursement per payment, negative for reversals and
/// repayments; for a closed grant its actual start and end dates (types 2 and 4), status 4 (closed) and how it
/// closed in the description; the funder with its OrganisationType and its own activity (`@activity-id`) when
/// the settings give them; the grant it continues as a related activity.
///
/// A repayment (unspent money the grantee paid back after settlement) is a disbursement (type 3) with a
/// negative value on the day it came in, as a reversal is, so the activity's disbursements add up to what the
/// grantee kept. The other types do not describe it: 1 Incoming Funds is money received *for use on* the
/// activity, 4 Expenditure is spending on goods and services, 6 Loan Repayment is principal repaid on a loan
/// (these are grants), and 7 Reimbursement is a disbursement that covers what the recipient already spent,
/// money going the other way. Returned funds are reported as a negative value of the transaction they undo (IATI's
/// guidance on financial transactions: "money that was disbursed to a partner and is then being returned to the
/// funder … should be published as a disbursement transaction with a negative value"). The commitment falls by
/// the same amount on the same day (a negative commitment, as IATI's budget guidance has every change to the
/// commitment), so money that came back never reads as committed but undisbursed.
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

    /// Writes one activity per grant. `iati-activities` holds one or more activities (the XSD's `minOccurs="1"`),
    /// so with no grant nothing is written and it is `GrantsError.invalidInput` "nothing to export" naming `scope`.
    package func write(grants: RowFeed<GrantActivityRow>, scope: String, to output: ReportOutput) throws -> ExportStats {
        let generated = Self.timestamp(export.generatedAt)
        var out = ""
        var first = true
        let count = try grants { grant in
            out.removeAll(keepingCapacity: true)
            if first {
                out +=
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\" generated-datetime=\"\(generated)\">\n"
                first = false
            }
            activity(grant, into: &out)
            try output.write(out)
        }
        guard count > 0 else {
            throw GrantsError.nothingToExport(format: .iati, scope: scope, why: "an IATI file holds at least one activity")
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
        let closingEn = grant.closingStory(swedish: false).map { " " + $0 } ?? ""
        let closingSv = grant.closingStory(swedish: true).map { " " + $0 } ?? ""
        out +=
            "    <description type=\"1\">\(narrative(english + closingEn))\(narrative(swedish + closingSv, lang: "sv"))</description>\n"
        // The funder with its type and the activity of its own the money comes from, so it can be traced upwards.
        let funderType = settings.funderType.map { " type=\"\(Self.escape($0))\"" } ?? ""
        let funderActivity = settings.funderActivityID.map { " activity-id=\"\(Self.escape($0))\"" } ?? ""
        out +=
            "    <participating-org role=\"1\" ref=\"\(Self.escape(funderRef))\"\(funderType)\(funderActivity)>\(narrative(funderName))</participating-org>\n"
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
        if let actual = grant.actualDates {
            out += "    <activity-date type=\"2\" iso-date=\"\(actual.start.iso)\"/>\n"
            out += "    <activity-date type=\"4\" iso-date=\"\(actual.end.iso)\"/>\n"
        }
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
        for budget in Self.budgets(grant) {
            let value = Money(minorUnits: budget.amount, currency: grant.amount.currency)
            out += "    <budget type=\"\(budget.revised ? 2 : 1)\" status=\"2\">\n"
            out += "      <period-start iso-date=\"\(budget.start.iso)\"/>\n      <period-end iso-date=\"\(budget.end.iso)\"/>\n"
            out += "      <value currency=\"\(currency)\" value-date=\"\(budget.valueDate.iso)\">\(value.plain)</value>\n    </budget>\n"
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
            case .repayment:
                transaction(3, event.date, event.amount, "Repayment by the grantee")
                transaction(2, event.date, event.amount, "Commitment reduced by the repayment")
            }
        }
        for earlier in grant.continues {
            // The earlier phase of the same partnership: a sibling activity of the same publisher (see above).
            out +=
                "    <related-activity ref=\"\(Self.escape(Self.identifier(publisher: publisherRef, reference: earlier)))\" type=\"3\"/>\n"
        }
        out += "  </iati-activity>\n"
    }

    /// The budgets of a grant, per calendar year (IATI budgets cover at most a year). The original ones (type 1)
    /// spread the award as decided over the period as decided, valued on their first day. When the commitment or
    /// the period has changed since (an amendment, a repayment, the closing), revised ones (type 2) spread what
    /// the grant now commits over its period, valued on the day of the last change; a year of the original
    /// period the revised one no longer covers gets a revised budget of 0, so that adding up the revised budgets
    /// (and the original ones of years without a revised one, as IATI's guidance reads them) gives the final
    /// commitment. Both are committed (status 2): the grant is a binding decision.
    static func budgets(_ grant: GrantActivityRow) -> [(
        start: CalendarDate, end: CalendarDate, amount: Int64, revised: Bool, valueDate: CalendarDate
    )] {
        let originalEnd = grant.originalEndsOn ?? grant.endsOn
        let original = yearlyBudgets(amount: grant.originalAmount.minorUnits, from: grant.startsOn, to: originalEnd).map {
            (start: $0.start, end: $0.end, amount: $0.amount, revised: false, valueDate: $0.start)
        }
        let committed = grant.committed
        guard committed != grant.originalAmount.minorUnits || grant.endsOn != originalEnd else { return original }
        let changed =
            grant.transactions.filter { [.amendment, .repayment, .closing].contains($0.kind) }.map(\.date).max() ?? grant.decidedOn
        var revised = yearlyBudgets(amount: committed, from: grant.startsOn, to: grant.endsOn).map {
            (start: $0.start, end: $0.end, amount: $0.amount, revised: true, valueDate: max(changed, grant.decidedOn))
        }
        for year in original where year.start > grant.endsOn {
            revised.append((start: year.start, end: year.end, amount: 0, revised: true, valueDate: max(changed, grant.decidedOn)))
        }
        return original + revised
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
