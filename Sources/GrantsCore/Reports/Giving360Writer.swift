import Foundation

/// 360Giving JSON: `{"grants": [...]}`, one grant per recorded grant, with `amountDisbursed` equal to the
/// sum of its `disbursementTransaction`s. Amounts are JSON numbers written from the exact decimal text.
package struct Giving360Writer {
    package let options: ExportOptions

    package init(options: ExportOptions) { self.options = options }

    package func write(grants: RowFeed<GrantActivityRow>, to output: ReportOutput) throws -> ExportStats {
        try output.write("{\n  \"grants\": [")
        var out: [UInt8] = []
        var first = true
        let count = try grants { grant in
            out.removeAll(keepingCapacity: true)
            out += (first ? "\n    " : ",\n    ").utf8
            first = false
            object(grant, into: &out)
            try output.write(out)
        }
        try output.write(count == 0 ? "]\n}\n" : "\n  ]\n}\n")
        return ExportStats(rows: count, total: nil)
    }

    func object(_ grant: GrantActivityRow, into out: inout [UInt8]) {
        let prefix = "360G-\(options.giving360Prefix)"
        let currency = grant.amount.currency
        var fields: [(String, String)] = []
        func text(_ value: String) -> String { JSONText.string(value) }
        func organisation(_ id: String, _ name: String) -> String { "{\"id\": \(text(id)), \"name\": \(text(name))}" }
        let recipientID =
            grant.applicantOrgNumber.map { "SE-ON-" + $0.filter { $0 != "-" } }
            ?? "\(prefix)-org-\(grant.applicantID)"
        let partners = zip(grant.partnerNames, grant.partnerCountries).map { "\($0) (\($1))" }.joined(separator: ", ")
        fields.append(("id", text("\(prefix)-\(grant.reference)")))
        fields.append(("title", text(grant.title ?? grant.reference)))
        fields.append(("description", text("\(grant.programme), round \(grant.round): \(grant.applicantName) with \(partners).")))
        fields.append(("currency", text(currency.rawValue)))
        fields.append(("amountAwarded", grant.amount.plain))
        fields.append(("amountAppliedFor", grant.requested.plain))
        fields.append(("amountDisbursed", Money(minorUnits: grant.paid, currency: currency).plain))
        fields.append(("awardDate", text(grant.decidedOn.iso)))
        fields.append(("plannedDates", "[{\"startDate\": \(text(grant.startsOn.iso)), \"endDate\": \(text(grant.endsOn.iso))}]"))
        fields.append(("recipientOrganization", "[\(organisation(recipientID, grant.applicantName))]"))
        fields.append(("fundingOrganization", "[\(organisation(options.funderOrgID ?? "\(prefix)-funder", options.funderName))]"))
        fields.append(("grantProgramme", "[{\"code\": \(text(grant.round)), \"title\": \(text("\(grant.programme) \(grant.round)"))}]"))
        fields.append(("beneficiaryLocation", "[" + grant.countries.map { "{\"countryCode\": \(text($0))}" }.joined(separator: ", ") + "]"))
        fields.append(
            (
                "classifications",
                "["
                    + zip(grant.themeCodes, grant.themeNames).map {
                        "{\"vocabulary\": \(text("\(options.giving360Prefix)-themes")), \"code\": \(text($0)), \"title\": \(text($1))}"
                    }.joined(separator: ", ") + "]"
            ))
        let transactions = zip(grant.paymentIDs, zip(grant.paymentDates, grant.paymentAmounts)).map { id, payment in
            "{\"id\": \(text("\(prefix)-\(grant.reference)-\(id)")), \"transactionDate\": \(text(payment.0.iso)), \"value\": \(Money(minorUnits: payment.1, currency: currency).plain)}"
        }
        fields.append(("disbursementTransaction", "[" + transactions.joined(separator: ", ") + "]"))
        out += "{".utf8
        for (i, (key, value)) in fields.enumerated() {
            out += "\(i == 0 ? "" : ", ")\(text(key)): \(value)".utf8
        }
        out += "}".utf8
    }
}
