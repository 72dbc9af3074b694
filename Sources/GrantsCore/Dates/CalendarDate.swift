import Foundation

/// A calendar date without a time zone (`YYYY-MM-DD`), as decisions, due dates and periods are given.
///
/// ```swift
/// let decided = try CalendarDate("2021-12-01")
/// decided < (try CalendarDate("2022-01-01"))   // true
/// ```
public struct CalendarDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init(year: Int, month: Int, day: Int) throws(GrantsError) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...Self.daysInMonth(year: year, month: month)).contains(day)
        else { throw .date("\(year)-\(month)-\(day)") }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Exactly `YYYY-MM-DD`, a real date.
    public init(_ text: String) throws(GrantsError) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else {
            throw .date(text)
        }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { throw .date(text) }
        do { try self.init(year: y, month: m, day: d) } catch { throw .date(text) }
    }

    /// Days since 1970-01-01 (negative before), the proleptic Gregorian calendar.
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(daysSinceEpoch days: Int) throws(GrantsError) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        try self.init(year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)
    }

    /// Today as the calendar on the wall says it: the date in the process's time zone (`TZ`), so a decision
    /// taken just after midnight in Stockholm is not "in the future" on a server that keeps UTC.
    public static var today: CalendarDate {
        let now = Date()
        let local = now.timeIntervalSince1970 + Double(TimeZone.current.secondsFromGMT(for: now))
        do {
            return try CalendarDate(daysSinceEpoch: Int((local / 86_400).rounded(.down)))
        } catch {
            // Not something input can cause: only a system clock outside years 1 to 9999.
            preconditionFailure("the system clock is outside the calendar: \(error)")
        }
    }

    /// The problem with a date that must not lie after today (a decision, a payment), located at `path`.
    public func notInTheFuture(at path: String) -> Problem? {
        let today = Self.today
        return self > today ? Problem(path, "\(self) is in the future (today is \(today))") : nil
    }

    /// `YYYY-MM-DD`.
    public var iso: String {
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// `YYYYMMDD`, as SIE writes dates.
    public var compact: String { iso.filter { $0 != "-" } }

    public var description: String { iso }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    package static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public init(from decoder: any Decoder) throws {
        self = try CalendarDate(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }
}
