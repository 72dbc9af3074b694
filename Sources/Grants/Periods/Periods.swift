import Foundation
import PGClient

/// A year or a month of a programme's books that finance closed (and perhaps reopened): while it is closed, no
/// event dated inside it is recorded, by any path. A closed year covers its months.
///
/// ```swift
/// for period in try await service.periods.list(programme: "Kommunala partnerskap") {
///     print(period.period, period.status, period.closedBy, period.reopenReason ?? "")
/// }
/// ```
public struct BookPeriod: Sendable, Encodable, Equatable {
    public let programme: String
    /// `YYYY` (a year) or `YYYY-MM` (a month).
    public let period: String
    public let startsOn: CalendarDate
    public let endsOn: CalendarDate
    public let status: Status
    /// Who closed it last, and when.
    public let closedBy: String
    public let closedAt: Date
    /// Who reopened it last, when and why (kept when it is closed again; every close and reopen is in the audit log).
    public let reopenedBy: String?
    public let reopenedAt: Date?
    public let reopenReason: String?

    /// Closed: the period takes no event. Open: reopened, it takes events until it is closed again.
    public enum Status: String, Sendable, Encodable { case closed, open }

    /// The problem with a period as given (`YYYY` or `YYYY-MM`, from 1900, begun by today), located at `path`.
    public static func problem(with period: String, at path: String = "period") -> Problem? {
        guard let starts = startsOn(period) else { return Problem(path, "\(period.prefix(40)) is not a year (YYYY) or a month (YYYY-MM)") }
        let today = CalendarDate.today
        return starts > today ? Problem(path, "\(period) has not begun (today is \(today))") : nil
    }

    /// The first day of `YYYY` or `YYYY-MM`, when it is one from 1900 on.
    static func startsOn(_ period: String) -> CalendarDate? {
        let parts = period.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts[0].count == 4, parts.count == 1 || parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }), let year = Int(parts[0]), year >= 1900
        else { return nil }
        let month = parts.count == 2 ? Int(parts[1]) ?? 0 : 1
        return try? CalendarDate(year: year, month: month, day: 1)
    }
}

/// The programme's books over time: close a year or a month, reopen it with a reason, list them. Closing and
/// reopening are finance's (the database grants them to `grants_finance` and the owner only); everyone reads
/// the list.
///
/// ```swift
/// try await service.periods.close("2022", programme: "Kommunala partnerskap", actor: "fiona")
/// try await service.periods.open("2022", programme: "Kommunala partnerskap",
///                                reason: "Payment of 2022-12-30 booked late by the bank", actor: "fiona")
/// ```
public struct Periods: Sendable {
    let service: GrantsService

    /// Closes a year (`2022`) or a month (`2022-03`) of a programme's books (`programme` may be left out when the
    /// database has one programme). From then on every event dated inside it — a decision, an amendment, a
    /// payment or a reversal, a cancellation, a settlement, a repayment, a closing or write-off — is refused with
    /// `GrantsError.periodClosed`, whoever writes it. A payment racing the close either commits first (and the
    /// period closes with it inside) or is refused. Closing a closed period again changes nothing.
    @discardableResult
    public func close(_ period: String, programme: String? = nil, actor: String) async throws(GrantsError) -> BookPeriod {
        let actor = try ActorName(actor).value
        if let problem = BookPeriod.problem(with: period) { throw GrantsError.invalidInput([problem]) }
        // One statement: `grants_api.close_period` (Schema/api/periods.sql) locks the programme's row, which every
        // dated event shares, records the period and its audit event.
        return try await service.writeOneStatement("grants.periods.close") { connection in
            try Self.one(
                connection.query(
                    "SELECT * FROM grants_api.close_period(\(programme)::text, \(period)::text, \(actor)::text)"),
                period: period)
        }
    }

    /// Reopens a closed year or month, with the reason (an audited act): events dated inside it are recorded
    /// again until it is closed again. A month inside a closed year stays closed until the year is reopened.
    @discardableResult
    public func open(_ period: String, programme: String? = nil, reason: String, actor: String) async throws(GrantsError) -> BookPeriod {
        let actor = try ActorName(actor).value
        var problems: [Problem] = []
        if let problem = BookPeriod.problem(with: period) { problems.append(problem) }
        if let problem = Limits.text(reason, at: "reason") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.writeOneStatement("grants.periods.open") { connection in
            try Self.one(
                connection.query(
                    "SELECT * FROM grants_api.open_period(\(programme)::text, \(period)::text, \(reason)::text, \(actor)::text)"),
                period: period)
        }
    }

    /// Every closed or reopened period (of `programme` when given), by programme and date.
    public func list(programme: String? = nil) async throws(GrantsError) -> [BookPeriod] {
        try await service.listing("grants.periods.list") { connection in
            try Filters.check(connection, programme: programme, round: nil)
            return try connection.query("SELECT * FROM grants_api.periods(\(programme)::text)").map(Self.decode)
        }
    }

    // MARK: SQL

    static func decode(_ row: PGRow) throws -> BookPeriod {
        BookPeriod(
            programme: try row.decode(column: "programme"), period: try row.decode(column: "period"),
            startsOn: try row.decode(column: "starts_on"), endsOn: try row.decode(column: "ends_on"),
            status: try row.enumValue(BookPeriod.Status.self, column: "status"), closedBy: try row.decode(column: "closed_by"),
            closedAt: try row.decode(column: "closed_at"), reopenedBy: try row.decode(column: "reopened_by"),
            reopenedAt: try row.decode(column: "reopened_at"), reopenReason: try row.decode(column: "reopen_reason"))
    }

    static func one(_ rows: PGResult, period: String) throws -> BookPeriod {
        guard let row = rows.first else {
            throw GrantsError.internalError(sqlState: nil, message: "the database returned no period for \(period)")
        }
        return try decode(row)
    }
}
