import Foundation
import PGClient

extension Reports {
    /// The programme year for the funder (see `YearReport`), read from one snapshot: the events dated from
    /// 1 January to 31 December of `year`, and the books as they stood at the end of 31 December.
    ///
    /// Without `programme`, every programme's grants together, which must then share one currency. A programme
    /// that is not recorded, or programmes in several currencies, is `GrantsError.invalidInput`. With a replica
    /// configured, the report reads from it once it has caught up with the primary.
    ///
    /// ```swift
    /// let year = try await service.reports.year(2023, programme: "Kommunala partnerskap")
    /// assert(year.viewsThatDoNotAddUp.isEmpty)
    /// ```
    public func year(_ year: Int, programme: String? = nil) async throws(GrantsError) -> YearReport {
        guard (1900...9998).contains(year) else {
            throw GrantsError.invalidInput([Problem("year", "\(year) is not a year this report covers (1900 to 9998)")])
        }
        let first = try CalendarDate(year: year, month: 1, day: 1)
        let last = try CalendarDate(year: year, month: 12, day: 31)
        return try await service.export("grants.reports.year") { connection in
            // Without JIT, as every export (`service.export` sets it): the statements aggregate a programme's every
            // event in one pass each, and past a few thousand grants their estimates cross the JIT thresholds;
            // compiling their few hundred expressions took longer than running them (3.9 s against 0.9 s for
            // 20 000 grants).
            try Filters.check(connection, programme: programme, round: nil)
            let currencies: [Currency] = try connection.query(
                "SELECT DISTINCT currency FROM grants.programme WHERE \(programme)::text IS NULL OR name = \(programme) ORDER BY 1"
            ).map { try $0.decode(column: 0) }
            guard currencies.count <= 1 else {
                throw GrantsError.invalidInput([
                    Problem(
                        "programme",
                        "the programmes are in \(currencies.map(\.rawValue).joined(separator: ", ")): a year report is in one currency, name a programme"
                    )
                ])
            }
            let currency = currencies.first ?? .sek
            let query = YearQuery(programme: programme, first: first, last: last)
            let money = try YearQuery.Money(rows: connection.query(query.money), currency: currency)
            let stocks = try connection.query(query.stocks)[0]
            func amount(_ column: Int) throws -> GrantsCore.Money {
                GrantsCore.Money(minorUnits: try stocks.decode(column: column), currency: currency)
            }
            let firstTimers = try connection.query(query.firstTimers).map { row in
                YearReport.FirstTimer(
                    name: try row.decode(column: 0), kind: OrganisationKind(rawValue: try row.decode(column: 1)) ?? .other,
                    orgNumber: try row.decode(column: 2), firstDecidedOn: try row.decode(column: 3), grants: try row.decode(column: 4))
            }
            let report = try YearReport(
                programme: programme, year: year, currency: currency, budget: money.total("budget"), rounds: money.count("budget"),
                awarded: money.total("awarded"), amended: money.total("amended"), paid: money.total("paid"),
                reversed: money.total("reversal").negated, repaid: money.total("repayment").negated,
                writtenOff: money.total("write-off"), reclaimed: money.total("reclaim").negated, cancelled: money.total("cancelled"),
                dueUnpaid: try money.total("scheduled") + money.total("attested"), claimsOpen: try amount(2),
                committedUnpaid: try amount(3),
                grantCounts: YearReport.GrantCounts(
                    decided: try stocks.decode(column: 4), started: try stocks.decode(column: 5), running: try stocks.decode(column: 6),
                    ended: try stocks.decode(column: 7), closed: try stocks.decode(column: 8)),
                requirements: YearReport.RequirementCounts(
                    due: try stocks.decode(column: 9), received: try stocks.decode(column: 10), overdue: try stocks.decode(column: 11)),
                firstTimers: firstTimers, quarters: money.quarters, byTheme: money.view("theme"), byCountry: money.view("country"),
                byRound: money.view("round"), byKind: money.view("kind"), byPhase: money.view("phase"))
            // A view that does not add up is a broken query, never a rounding matter: refuse to hand it out.
            let broken = report.viewsThatDoNotAddUp
            guard broken.isEmpty else {
                throw GrantsError.internalError(
                    sqlState: nil, message: "the year report's views by \(broken.joined(separator: ", ")) do not add up to its totals")
            }
            return report
        }
    }
}
