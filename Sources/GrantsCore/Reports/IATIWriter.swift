import Foundation

/// IATI 2.03 activities, one per grant: the funder and the Swedish grantee as participating organisations,
/// recipient countries from the partners, DAC sectors from the themes, a commitment transaction for the
/// award and a disbursement transaction per payment (reversals as negative disbursements).
package struct IATIWriter {
    package let options: ExportOptions

    package init(options: ExportOptions) { self.options = options }

    package func write(grants: RowFeed<GrantActivityRow>, to output: ReportOutput) throws -> ExportStats {
        let generated = Self.timestamp(options.generatedAt)
        try output.write(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\" generated-datetime=\"\(generated)\">\n")
        let today = CalendarDate.today
        var out = ""
        let count = try grants { grant in
            out.removeAll(keepingCapacity: true)
            activity(grant, generated: generated, today: today, into: &out)
            try output.write(out)
        }
        try output.write("</iati-activities>\n")
        return ExportStats(rows: count, total: nil)
    }

    func activity(_ grant: GrantActivityRow, generated: String, today: CalendarDate, into out: inout String) {
        let currency = grant.amount.currency.rawValue
        let reporter = Self.escape(options.reportingOrgRef)
        let grantee = grant.applicantOrgNumber.map { "SE-ON-" + $0.filter { $0 != "-" } }
        out += "  <iati-activity last-updated-datetime=\"\(generated)\" xml:lang=\"en\" default-currency=\"\(currency)\">\n"
        out += "    <iati-identifier>\(Self.escape(options.reportingOrgRef + "-" + grant.reference))</iati-identifier>\n"
        out +=
            "    <reporting-org ref=\"\(reporter)\" type=\"\(Self.escape(options.reportingType))\">\(narrative(options.reportingOrgName))</reporting-org>\n"
        out += "    <title>\(narrative(grant.title ?? grant.reference))</title>\n"
        let partners = zip(grant.partnerNames, grant.partnerCountries).map { "\($0) (\($1))" }.joined(separator: ", ")
        let description =
            "\(grant.programme), round \(grant.round): \(grant.applicantName) with \(partners)."
            + (grant.themeNames.isEmpty ? "" : " Themes: \(grant.themeNames.joined(separator: ", ")).")
        out += "    <description type=\"1\">\(narrative(description))</description>\n"
        out +=
            "    <participating-org role=\"1\" ref=\"\(Self.escape(options.fundingOrgRef))\" type=\"10\">\(narrative(options.fundingOrgName))</participating-org>\n"
        let funderRef = options.funderOrgID.map { " ref=\"\(Self.escape($0))\"" } ?? ""
        out += "    <participating-org role=\"3\"\(funderRef) type=\"21\">\(narrative(options.funderName))</participating-org>\n"
        out +=
            "    <participating-org role=\"4\"\(grantee.map { " ref=\"\(Self.escape($0))\"" } ?? "") type=\"11\">\(narrative(grant.applicantName))</participating-org>\n"
        for (name, kind) in zip(grant.partnerNames, grant.partnerKinds) {
            out += "    <participating-org role=\"4\" type=\"\(kind == "other" ? "90" : "11")\">\(narrative(name))</participating-org>\n"
        }
        out += "    <activity-status code=\"\(grant.status == .closed ? 4 : 2)\"/>\n"
        out += "    <activity-date type=\"1\" iso-date=\"\(grant.startsOn.iso)\"/>\n"
        out += "    <activity-date type=\"3\" iso-date=\"\(grant.endsOn.iso)\"/>\n"
        for (country, share) in zip(grant.countries, percentages(grant.countries.count)) {
            out += "    <recipient-country code=\"\(Self.escape(country))\" percentage=\"\(share)\"/>\n"
        }
        for (sector, share) in zip(grant.sectors, percentages(grant.sectors.count)) {
            out += "    <sector vocabulary=\"1\" code=\"\(Self.escape(sector))\" percentage=\"\(share)\"/>\n"
        }
        let receiver =
            "<receiver-org\(grantee.map { " ref=\"\(Self.escape($0))\"" } ?? "") type=\"11\">\(narrative(grant.applicantName))</receiver-org>"
        let provider = "<provider-org\(funderRef) type=\"21\">\(narrative(options.funderName))</provider-org>"
        // A commitment dated after today would break IATI's no-future-transactions rule: it is dated today.
        let committedOn = min(grant.decidedOn, today).iso
        out += "    <transaction>\n      <transaction-type code=\"2\"/>\n      <transaction-date iso-date=\"\(committedOn)\"/>\n"
        out += "      <value currency=\"\(currency)\" value-date=\"\(committedOn)\">\(grant.amount.plain)</value>\n"
        out += "      \(provider)\n      \(receiver)\n    </transaction>\n"
        for (date, amount) in zip(grant.paymentDates, grant.paymentAmounts) {
            let value = Money(minorUnits: amount, currency: grant.amount.currency)
            out += "    <transaction>\n      <transaction-type code=\"3\"/>\n      <transaction-date iso-date=\"\(date.iso)\"/>\n"
            out += "      <value currency=\"\(currency)\" value-date=\"\(date.iso)\">\(value.plain)</value>\n"
            out += "      \(provider)\n      \(receiver)\n    </transaction>\n"
        }
        out += "  </iati-activity>\n"
    }

    func narrative(_ text: String) -> String { "<narrative>\(Self.escape(text))</narrative>" }

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
