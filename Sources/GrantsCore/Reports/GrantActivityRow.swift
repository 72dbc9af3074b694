import Foundation

/// One money event of a grant, in the order the open-data exports list them.
package struct GrantTransaction: Sendable, Equatable {
    /// What happened. `repayment` is money the grantee paid back against its settlement's claim, dated the
    /// day it came in (IATI: a negative disbursement; 360Giving: a negative disbursement transaction).
    package enum Kind: String, Sendable {
        case amendment, payment, reversal, closing, repayment
    }
    package let kind: Kind
    /// The disbursement's id for payments, reversals and repayments; the amendment's id for amendments.
    package let id: Int64
    package let date: CalendarDate
    /// Signed minor units: an amendment that lowers the award, a reversal, a closing's unspent award and a
    /// repayment are negative.
    package let amount: Int64

    package init(kind: Kind, id: Int64, date: CalendarDate, amount: Int64) {
        self.kind = kind
        self.id = id
        self.date = date
        self.amount = amount
    }
}

/// One grant with what the open-data exports need: parties, themes with DAC sectors, its money events, and
/// when it last changed. Every value is as of the report's `asOf` when it has one.
package struct GrantActivityRow: Sendable {
    package var reference: String
    package var title: String?
    package var programme: String
    package var round: String
    package var closed: Bool
    /// The award after the amendments recorded so far; ``originalAmount`` as decided.
    package var amount: Money
    package var originalAmount: Money
    package var requested: Money
    package var startsOn: CalendarDate
    package var endsOn: CalendarDate
    package var decidedOn: CalendarDate
    package var applicantName: String
    package var applicantCountry: String
    package var applicantOrgNumber: String?
    package var applicantKind: String
    package var partnerNames: [String]
    package var partnerCountries: [String]
    package var partnerKinds: [String]
    package var themeCodes: [String]
    package var themeNamesEn: [String]
    package var themeNamesSv: [String]
    package var dacSectors: [String?]
    /// Amendments, payments, reversals, the closing and repayments, by date.
    package var transactions: [GrantTransaction]
    /// When anything about the grant was last recorded (its decision, an amendment, a disbursement's step, a
    /// repayment, its closing).
    package var lastUpdated: Date
    /// The grant this one continues, by reference (its application's `continues`: the earlier phase of the
    /// partnership); empty when it continues none. The IATI writer links it as a related activity.
    package var continues: [String]
    /// The end of the grant period as decided (``endsOn`` is after the amendments).
    package var originalEndsOn: CalendarDate?
    /// The closing's date when the grant is closed (``closed``).
    package var closedOn: CalendarDate?
    /// The settlement's claim (paid − spent) and the part of it written off at closing, as of the cut; 0 without one.
    package var claimed: Int64 = 0
    package var writtenOff: Int64 = 0

    package init(
        reference: String, title: String?, programme: String, round: String, closed: Bool, amount: Money, originalAmount: Money,
        requested: Money, startsOn: CalendarDate, endsOn: CalendarDate, decidedOn: CalendarDate, applicantName: String,
        applicantCountry: String, applicantOrgNumber: String?, applicantKind: String, partnerNames: [String], partnerCountries: [String],
        partnerKinds: [String], themeCodes: [String], themeNamesEn: [String], themeNamesSv: [String], dacSectors: [String?],
        transactions: [GrantTransaction], lastUpdated: Date, continues: [String] = []
    ) {
        self.reference = reference
        self.title = title
        self.programme = programme
        self.round = round
        self.closed = closed
        self.amount = amount
        self.originalAmount = originalAmount
        self.requested = requested
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.decidedOn = decidedOn
        self.applicantName = applicantName
        self.applicantCountry = applicantCountry
        self.applicantOrgNumber = applicantOrgNumber
        self.applicantKind = applicantKind
        self.partnerNames = partnerNames
        self.partnerCountries = partnerCountries
        self.partnerKinds = partnerKinds
        self.themeCodes = themeCodes
        self.themeNamesEn = themeNamesEn
        self.themeNamesSv = themeNamesSv
        self.dacSectors = dacSectors
        self.transactions = transactions
        self.lastUpdated = lastUpdated
        self.continues = continues
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

    /// Money that reached the grantee: payments net of reversals and repayments.
    package var disbursed: Int64 {
        transactions.filter { [.payment, .reversal, .repayment].contains($0.kind) }.reduce(0) { $0 + $1.amount }
    }

    /// What the grant commits in the end, the sum of the open-data exports' commitments: the award as decided,
    /// the amendments, less the money the grantee paid back and, at closing, the award never paid out. For a
    /// closed grant it equals ``disbursed``.
    package var committed: Int64 {
        originalAmount.minorUnits
            + transactions.filter { [.amendment, .repayment, .closing].contains($0.kind) }.reduce(0) { $0 + $1.amount }
    }

    /// Σ repayments received (positive).
    package var repaid: Int64 { -transactions.filter { $0.kind == .repayment }.reduce(0) { $0 + $1.amount } }

    /// The part of the award never paid out and released at closing (positive; 0 while open).
    package var reclaimed: Int64 { -transactions.filter { $0.kind == .closing }.reduce(0) { $0 + $1.amount } }

    /// The day the activity actually started and ended, for a closed grant: its period's start (or the closing,
    /// when it closed before it began) and the closing. Nil while it is open: actual dates are never in the future.
    package var actualDates: (start: CalendarDate, end: CalendarDate)? {
        guard closed, let closedOn else { return nil }
        return (min(startsOn, closedOn), closedOn)
    }

    /// How a closed grant ended, in words, for the descriptions of the open-data exports: the award never paid
    /// out, and the settlement's claim repaid and written off. Nil while open.
    package func closingStory(swedish: Bool) -> String? {
        guard closed, let closedOn else { return nil }
        let currency = amount.currency.rawValue
        func plain(_ minor: Int64) -> String { "\(Money.decimal(minor, separator: ".")) \(currency)" }
        var parts: [String] = []
        if reclaimed != 0 {
            parts.append(
                swedish
                    ? "\(plain(reclaimed)) av bidraget betalades aldrig ut och frigjordes"
                    : "\(plain(reclaimed)) of the award was never paid out and was released")
        }
        if claimed != 0 {
            parts.append(
                swedish
                    ? "av återkravet på \(plain(claimed)) betalades \(plain(repaid)) tillbaka och \(plain(writtenOff)) skrevs av"
                    : "of the \(plain(claimed)) claimed back, \(plain(repaid)) was repaid and \(plain(writtenOff)) written off")
        }
        let head = swedish ? "Avslutat \(closedOn.iso)" : "Closed on \(closedOn.iso)"
        return parts.isEmpty ? "\(head)." : "\(head): \(parts.joined(separator: "; "))."
    }

    /// `SE-ON-` + the organisationsnummer's ten digits.
    package var applicantOrgID: String? { applicantOrgNumber.map { "SE-ON-" + $0.filter { $0 != "-" } } }
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

/// The award spread over the calendar years of the grant period, pro rata by days (the last year takes the
/// remainder, so the parts add up to the award exactly): IATI budgets, which cover at most a year each.
package func yearlyBudgets(amount: Int64, from start: CalendarDate, to end: CalendarDate) -> [(
    start: CalendarDate, end: CalendarDate, amount: Int64
)] {
    guard end >= start else { return [] }
    var periods: [(start: CalendarDate, end: CalendarDate)] = []
    var year = start.year
    while year <= end.year {
        let first = year == start.year ? start : ((try? CalendarDate(year: year, month: 1, day: 1)) ?? start)
        let last = year == end.year ? end : ((try? CalendarDate(year: year, month: 12, day: 31)) ?? end)
        periods.append((first, last))
        year += 1
    }
    let totalDays = Int64(end.daysSinceEpoch - start.daysSinceEpoch + 1)
    var given: Int64 = 0
    return periods.enumerated().map { i, period in
        let days = Int64(period.end.daysSinceEpoch - period.start.daysSinceEpoch + 1)
        let part: Int64
        if i == periods.count - 1 {
            part = amount - given
        } else {
            // amount × days / totalDays without overflow: both fit comfortably in 128 bits.
            let (high, low) = amount.multipliedFullWidth(by: days)
            part = totalDays.dividingFullWidth((high, low)).quotient
        }
        given += part
        return (period.start, period.end, part)
    }
}
