import Foundation

/// One grant with what the open-data exports need: parties, themes with DAC sectors, and its payments.
package struct GrantActivityRow: Sendable {
    package let reference: String
    package let title: String?
    package let programme: String
    package let round: String
    package let status: GrantStatus
    package let amount: Money
    package let requested: Money
    package let startsOn: CalendarDate
    package let endsOn: CalendarDate
    package let decidedOn: CalendarDate
    package let applicantID: Int64
    package let applicantName: String
    package let applicantOrgNumber: String?
    package let partnerNames: [String]
    package let partnerCountries: [String]
    package let partnerKinds: [String]
    package let themeCodes: [String]
    package let themeNames: [String]
    package let dacSectors: [String?]
    package let paymentIDs: [Int64]
    package let paymentDates: [CalendarDate]
    package let paymentAmounts: [Int64]

    package init(
        reference: String, title: String?, programme: String, round: String, status: GrantStatus, amount: Money, requested: Money,
        startsOn: CalendarDate, endsOn: CalendarDate, decidedOn: CalendarDate, applicantID: Int64, applicantName: String,
        applicantOrgNumber: String?, partnerNames: [String], partnerCountries: [String], partnerKinds: [String], themeCodes: [String],
        themeNames: [String], dacSectors: [String?], paymentIDs: [Int64], paymentDates: [CalendarDate], paymentAmounts: [Int64]
    ) {
        self.reference = reference
        self.title = title
        self.programme = programme
        self.round = round
        self.status = status
        self.amount = amount
        self.requested = requested
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.decidedOn = decidedOn
        self.applicantID = applicantID
        self.applicantName = applicantName
        self.applicantOrgNumber = applicantOrgNumber
        self.partnerNames = partnerNames
        self.partnerCountries = partnerCountries
        self.partnerKinds = partnerKinds
        self.themeCodes = themeCodes
        self.themeNames = themeNames
        self.dacSectors = dacSectors
        self.paymentIDs = paymentIDs
        self.paymentDates = paymentDates
        self.paymentAmounts = paymentAmounts
    }

    /// Distinct partner countries in first-seen order.
    package var countries: [String] {
        var seen = Set<String>()
        return partnerCountries.filter { seen.insert($0).inserted }
    }

    /// Distinct DAC sector codes of the themes in first-seen order.
    package var sectors: [String] {
        var seen = Set<String>()
        return dacSectors.compactMap { $0 }.filter { seen.insert($0).inserted }
    }

    package var paid: Int64 { paymentAmounts.reduce(0, +) }
}

/// Splits 100 into `count` percentages with two decimals that add up to exactly 100.
package func percentages(_ count: Int) -> [String] {
    guard count > 0 else { return [] }
    let hundredths = 10_000
    let share = hundredths / count
    var parts = Array(repeating: share, count: count)
    parts[0] += hundredths - share * count
    return parts.map { Money.decimal(Int64($0), separator: ".") }
}
