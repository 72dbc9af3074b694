import ArgumentParser
import Foundation
import Grants

/// A moment on the command line (`--known-at`): RFC 3339 with its offset (`2023-01-31T17:00:00Z`,
/// `2023-01-31T18:00:00+01:00`, fractions of a second allowed), or a date alone, meaning the end of that day
/// in UTC (everything recorded during it).
struct TimestampArgument: ExpressibleByArgument {
    let date: Date

    init?(argument: String) {
        if let day = try? CalendarDate(argument) {
            // The last microsecond of the day: PostgreSQL keeps microseconds, so this is "during that day".
            date = Date(timeIntervalSince1970: TimeInterval(day.daysSinceEpoch + 1) * 86_400 - 0.000_001)
            return
        }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = plain.date(from: argument) ?? fractional.date(from: argument) else { return nil }
        self.date = date
    }

    static var defaultValueDescription: String { "YYYY-MM-DDTHH:MM:SSZ" }
}
