import Foundation

/// Kronor per unit of a programme's currency, one rate per business date, for the SIE export (SIE books in SEK).
/// Each voucher is converted at the rate of its own date, rounded to the öre (half away from zero), once per
/// voucher so every voucher still balances.
///
/// Read from CSV text: one `DATE,RATE` a line (`;` also separates, and then a decimal comma is allowed), an
/// optional header line, rates with at most six decimals.
///
/// ```swift
/// let rates = try ExchangeRates(csv: "date,sek_per_unit\n2022-02-01,10.5432\n2022-03-01,10.6120\n")
/// rates.kronor(Money(minorUnits: 100_00, currency: Currency(rawValue: "EUR")!), on: try CalendarDate("2022-02-01"))
/// // 1054.32 SEK
/// ```
public struct ExchangeRates: Sendable, Equatable {
    /// Millionths of a krona per unit, by date.
    var micro: [CalendarDate: Int64]

    /// Rates by date, in millionths of a krona per unit of the currency (10.5432 SEK per EUR is 10_543_200).
    public init(microKronorPerUnit: [CalendarDate: Int64]) { micro = microKronorPerUnit }

    /// Parses the CSV; every bad line is a problem located `line N` (`GrantsError.invalidInput`).
    public init(csv text: String) throws(GrantsError) {
        var rates: [CalendarDate: Int64] = [:]
        var problems: [Problem] = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        guard lines.count <= 100_000 else { throw .invalidInput([Problem("rate", "at most 100 000 lines")]) }
        for (i, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let at = "line \(i + 1)"
            let semicolon = line.contains(";")
            let cells = line.split(separator: semicolon ? ";" : ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if i == 0, let first = cells.first?.first, !first.isNumber { continue }  // a header
            guard cells.count == 2, let date = try? CalendarDate(cells[0]) else {
                problems.append(Problem(at, "expected DATE,RATE (YYYY-MM-DD, kronor per unit)"))
                continue
            }
            guard let rate = Self.micro(semicolon ? cells[1].replacingOccurrences(of: ",", with: ".") : cells[1]), rate > 0 else {
                problems.append(Problem(at, "the rate must be a positive number with at most six decimals, such as 10.5432"))
                continue
            }
            if let earlier = rates[date], earlier != rate {
                problems.append(Problem(at, "\(date) has another rate on an earlier line"))
            }
            rates[date] = rate
        }
        guard problems.isEmpty else { throw .invalidInput(problems) }
        micro = rates
    }

    static func micro(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.count <= 9, whole.allSatisfy(\.isASCII),
            let units = Int64(whole)
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(digits) else {
                return nil
            }
            fraction = value * Int64([1, 100_000, 10_000, 1_000, 100, 10, 1][digits.count])
        }
        return units * 1_000_000 + fraction
    }

    /// The first of `dates` without a rate, if any.
    public func firstMissing(_ dates: some Sequence<CalendarDate>) -> CalendarDate? {
        dates.first { micro[$0] == nil }
    }

    /// `money` in kronor at the rate of `date`; nil without a rate for that date or past the Int64 range.
    public func kronor(_ money: Money, on date: CalendarDate) -> Money? {
        if money.currency == .sek { return money }
        guard let rate = micro[date] else { return nil }
        let product = money.minorUnits.multipliedFullWidth(by: rate)
        // Below 400 000 · 2^64 the quotient fits in Int64 (dividingFullWidth would trap past it).
        guard product.high.magnitude < 400_000 else { return nil }
        let divided = Int64(1_000_000).dividingFullWidth(product)
        var quotient = divided.quotient
        if divided.remainder.magnitude * 2 >= 1_000_000 { quotient += divided.remainder < 0 ? -1 : 1 }
        return Money(minorUnits: quotient, currency: .sek)
    }
}
