import Foundation
import PGClient

/// The summary of one round: budget, awarded, disbursed, and how the awards spread over themes and countries.
/// Amounts encode as strings like `"9470000.00"`. A grant with several themes (or partner countries) is split
/// evenly between them to the öre, the remainder to its first (themes in the order the grant lists them,
/// countries in the order of its first partner there), so `by_theme` and `by_country` each add up to `awarded`
/// exactly; `grants` there still counts every grant under each of its themes and countries.
///
/// ```swift
/// let report = try await service.reports.round("2021:2")
/// print("\(report.awarded.swedish) of \(report.budget.swedish), \(report.disbursed.swedish) paid out")
/// for theme in report.byTheme { print(theme.nameSv, theme.grants, theme.awarded.swedish) }
/// ```
public struct RoundReport: Sendable, Encodable, Equatable {
    /// The grants of a round that carry one theme, and their share of the awards.
    ///
    /// ```swift
    /// let youth = report.byTheme.first { $0.theme == "youth-participation" }
    /// ```
    public struct ThemeTotal: Sendable, Encodable, Equatable {
        public let theme: String
        public let nameSv: String
        public let nameEn: String
        public let grants: Int
        public let awarded: Money
    }
    /// The grants of a round with a partner in one country (ISO 3166-1 alpha-2), and their share of the awards.
    ///
    /// ```swift
    /// let kenya = report.byCountry.first { $0.country == "KE" }?.awarded
    /// ```
    public struct CountryTotal: Sendable, Encodable, Equatable {
        public let country: String
        public let grants: Int
        public let awarded: Money
    }
    /// One Swedish municipality or region granted money in the round, with its number of grants and awards.
    ///
    /// ```swift
    /// let regions = report.recipients.filter { $0.kind == .region }.count
    /// ```
    public struct Recipient: Sendable, Encodable, Equatable {
        public let name: String
        public let kind: OrganisationKind
        public let orgNumber: String?
        public let grants: Int
        public let awarded: Money
    }

    public let programme: String
    public let round: String
    public let currency: Currency
    public let status: RoundStatus
    public let decidedOn: CalendarDate?
    public let budget: Money
    /// Σ awards after amendments.
    public let awarded: Money
    /// Σ awards as decided, before any amendment (what the announcement states).
    public let decided: Money
    /// Σ amendments of the awards (awarded − decided), and how many grants they changed.
    public let amended: Money
    public let amendedGrants: Int
    /// Σ paid disbursements net of reversals and of repayments received.
    public let disbursed: Money
    /// Σ repayments received from grantees against their settlements' claims.
    public let repaid: Money
    /// Σ of the claims still open: claimed − repaid − written off.
    public let claimedOpen: Money
    public let remaining: Money
    /// The number of grants.
    public let grants: Int
    public let byTheme: [ThemeTotal]
    public let byCountry: [CountryTotal]
    public let recipients: [Recipient]
}

extension Reports {
    /// The summary of a round, read from one snapshot. With `asOf`, the round as it stood in the books at the
    /// end of that business date: grants decided, amendments, payments, reversals, repayments, settlements and
    /// closings dated later are left out, whenever they were recorded (the round's own closing, which has no
    /// business date, counts from the day it was recorded). With `knownAt`, only what was recorded by then.
    public func round(_ name: String, programme: String? = nil, asOf: CalendarDate? = nil, knownAt: Date? = nil) async throws(GrantsError)
        -> RoundReport
    {
        try await service.listing("grants.reports.round") { connection in
            let round = try Rounds.resolve(connection, name: name, programme: programme)
            let currency = round.currency
            let books = ReportFilter(asOf: asOf, knownAt: knownAt)
            let amended = books.holds("grants.business_date(m.amended_on, m.amended_at)", recorded: "m.amended_at")
            func money(_ value: Int64) -> Money { Money(minorUnits: value, currency: currency) }
            // The awards as they stood in the books: the decision plus the amendments by then.
            let awards: PGQuery = """
                WITH aw AS (
                    SELECT g.id, g.application_id, g.original_amount,
                           g.original_amount + coalesce((SELECT sum(m.amount_change) FROM grants.grant_amendment m
                                                         WHERE m.grant_id = g.id AND \(amended)), 0)::int8 AS amount
                    FROM grants.grant g JOIN grants.approval ap ON ap.application_id = g.application_id
                    WHERE g.round_id = \(round.id) AND \(books.grantHolds)
                )
                """
            let totals = try connection.query(
                """
                \(awards)
                SELECT (SELECT count(*) FROM aw)::int8, (SELECT coalesce(sum(amount), 0) FROM aw)::int8,
                       (SELECT coalesce(sum(d.amount), 0) FROM grants.disbursement d JOIN aw ON aw.id = d.grant_id
                         WHERE d.status IN ('paid', 'reversal')
                           AND \(books.holds("d.paid_on", recorded: "grants.recorded_paid_at(d.status, d.paid_at, d.scheduled_at)")))::int8,
                       (SELECT \(books.holds("grants.business_date(NULL, r.closed_at)", recorded: "r.closed_at"))
                          FROM grants.allocation_round r WHERE r.id = \(round.id)),
                       (SELECT coalesce(sum(original_amount), 0) FROM aw)::int8,
                       (SELECT count(*) FROM aw WHERE amount <> original_amount)::int8
                """)[0]
            let grants: Int64 = try totals.decode(column: 0)
            let awarded = money(try totals.decode(column: 1))
            let disbursed = money(try totals.decode(column: 2))
            let closed: Bool? = try totals.decode(column: 3)
            let decided = money(try totals.decode(column: 4))
            let amendedGrants: Int64 = try totals.decode(column: 5)
            // Money back, in the books: repayments received, and the claims of settlements less what closing
            // wrote off (a write-off happens at closing).
            let claims = try connection.query(
                """
                \(awards)
                SELECT coalesce((SELECT sum(p.amount) FROM grants.repayment p JOIN aw ON aw.id = p.grant_id
                                  WHERE \(books.holds("p.received_on", recorded: "p.recorded_at"))), 0)::int8,
                       coalesce((SELECT sum(s.claimed - CASE WHEN \(books.closingHolds) THEN s.written_off ELSE 0 END)
                                   FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id JOIN aw ON aw.id = g.id
                                  WHERE \(books.holds("s.settled_on", recorded: "s.recorded_at"))), 0)::int8
                """)[0]
            let repaid = money(try claims.decode(column: 0))
            let claimedOpen = money(try claims.decode(Int64.self, column: 1) - claims.decode(Int64.self, column: 0))
            // Each grant's award split evenly over its themes (and its countries) to the öre, the remainder to the
            // first, so each breakdown adds up to the awarded total exactly.
            let themes = try connection.query(
                """
                \(awards)
                SELECT t.code, t.name_sv, t.name_en, count(*)::int8, sum(s.share)::int8
                FROM (
                    SELECT at.theme_code,
                           aw.amount / count(*) OVER w
                           + CASE WHEN row_number() OVER w = 1 THEN aw.amount % count(*) OVER w ELSE 0 END AS share
                    FROM aw JOIN grants.application_theme at ON at.application_id = aw.application_id
                    WINDOW w AS (PARTITION BY aw.id ORDER BY at.position, at.theme_code
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                ) s JOIN grants.theme t ON t.code = s.theme_code
                GROUP BY t.code, t.name_sv, t.name_en ORDER BY sum(s.share) DESC, t.code
                """
            ).map { row in
                RoundReport.ThemeTotal(
                    theme: try row.decode(column: 0), nameSv: try row.decode(column: 1), nameEn: try row.decode(column: 2),
                    grants: try row.decode(column: 3), awarded: money(try row.decode(column: 4)))
            }
            let countries = try connection.query(
                """
                \(awards)
                SELECT s.country, count(*)::int8, sum(s.share)::int8
                FROM (
                    SELECT c.country,
                           c.amount / count(*) OVER w
                           + CASE WHEN row_number() OVER w = 1 THEN c.amount % count(*) OVER w ELSE 0 END AS share
                    FROM (
                        SELECT aw.id, aw.amount, o.country, min(x.position) AS first
                        FROM aw JOIN grants.application_partner x ON x.application_id = aw.application_id
                        JOIN grants.organisation o ON o.id = x.organisation_id
                        GROUP BY aw.id, aw.amount, o.country
                    ) c
                    WINDOW w AS (PARTITION BY c.id ORDER BY c.first, c.country
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                ) s GROUP BY s.country ORDER BY sum(s.share) DESC, s.country
                """
            ).map { row in
                RoundReport.CountryTotal(
                    country: try row.decode(column: 0), grants: try row.decode(column: 1), awarded: money(try row.decode(column: 2)))
            }
            let recipients = try connection.query(
                """
                \(awards)
                SELECT o.name, o.kind, o.org_number, count(*)::int8, sum(aw.amount)::int8
                FROM aw JOIN grants.application a ON a.id = aw.application_id
                JOIN grants.organisation o ON o.id = a.applicant_id
                GROUP BY o.id, o.name, o.kind, o.org_number ORDER BY o.name
                """
            ).map { row in
                RoundReport.Recipient(
                    name: try row.decode(column: 0), kind: OrganisationKind(rawValue: try row.decode(column: 1)) ?? .other,
                    orgNumber: try row.decode(column: 2), grants: try row.decode(column: 3), awarded: money(try row.decode(column: 4)))
            }
            return RoundReport(
                programme: round.programme, round: round.name, currency: currency, status: closed == true ? .closed : .open,
                decidedOn: round.decidedOn, budget: round.budget, awarded: awarded, decided: decided, amended: try awarded - decided,
                amendedGrants: Int(amendedGrants), disbursed: try disbursed - repaid,
                repaid: repaid, claimedOpen: claimedOpen, remaining: try round.budget - awarded, grants: Int(grants),
                byTheme: themes, byCountry: countries, recipients: recipients)
        }
    }
}

extension RoundReport {
    /// The short news text a funder publishes about the round, in Swedish, from the recorded data: the awards as
    /// decided, and any amendments since in a sentence of their own.
    public var announcementSwedish: String {
        let regions = recipients.filter { $0.kind == .region }.count
        let municipalities = recipients.count - regions
        func kommuner(_ n: Int) -> String { n == 1 ? "1 svensk kommun" : "\(n) svenska kommuner" }
        func regioner(_ n: Int, adjective: Bool) -> String {
            adjective ? (n == 1 ? "1 svensk region" : "\(n) svenska regioner") : (n == 1 ? "1 region" : "\(n) regioner")
        }
        let who: String
        switch (municipalities, regions) {
        case (_, 0): who = kommuner(municipalities)
        case (0, _): who = regioner(regions, adjective: true)
        case (2..., 2...): who = "\(recipients.count) svenska kommuner och regioner"
        default: who = "\(kommuner(municipalities)) och \(regioner(regions, adjective: false))"
        }
        let projects = grants == 1 ? "ett internationellt demokratisamarbete" : "internationella demokratisamarbeten"
        var text =
            recipients.count == 1
            ? "\(recipients[0].name) beviljas \(Self.kronor(decided)) för \(projects) genom programmet \(programme)."
            : "\(who) får dela på \(Self.kronor(decided)) för \(projects) genom programmet \(programme)."
        if recipients.count > 1 {
            text += " De som beviljats medel är \(Self.list(recipients.map(\.name), and: "och"))."
        }
        if !byTheme.isEmpty {
            let subject = grants == 1 ? "Projektet handlar" : "Projekten handlar"
            text += " \(subject) om \(Self.list(byTheme.map { $0.nameSv.lowercasedFirst }, and: "och"))."
        }
        if amendedGrants > 0 {
            // "bidrag" is the same word in the singular and the plural.
            let change = amended.minorUnits < 0 ? "minskat med" : "ökat med"
            let magnitude = Money(minorUnits: Int64(clamping: amended.minorUnits.magnitude), currency: currency)
            text +=
                " Efter beslutet har \(amendedGrants) bidrag ändrats: beloppen har sammanlagt \(change) \(Self.kronor(magnitude)),"
                + " till \(Self.kronor(awarded))."
        }
        return text
    }

    /// The same announcement in English.
    public var announcementEnglish: String {
        let regions = recipients.filter { $0.kind == .region }.count
        let municipalities = recipients.count - regions
        func municipalitiesText(_ n: Int) -> String { n == 1 ? "1 Swedish municipality" : "\(n) Swedish municipalities" }
        func regionsText(_ n: Int, adjective: Bool) -> String {
            (adjective ? "\(n) Swedish " : "\(n) ") + (n == 1 ? "region" : "regions")
        }
        let who: String
        switch (municipalities, regions) {
        case (_, 0): who = municipalitiesText(municipalities)
        case (0, _): who = regionsText(regions, adjective: true)
        case (2..., 2...): who = "\(recipients.count) Swedish municipalities and regions"
        default: who = "\(municipalitiesText(municipalities)) and \(regionsText(regions, adjective: false))"
        }
        var text =
            recipients.count == 1
            ? "\(recipients[0].name) is granted \(decided.english) for international democracy cooperation through the programme \(programme)."
            : "\(who) share \(decided.english) for international democracy cooperation through the programme \(programme)."
        if recipients.count > 1 {
            text += " The grants go to \(Self.list(recipients.map(\.name), and: "and"))."
        }
        if !byTheme.isEmpty {
            let subject = grants == 1 ? "The project addresses" : "The projects address"
            text += " \(subject) \(Self.list(byTheme.map { $0.nameEn.lowercasedFirst }, and: "and"))."
        }
        if amendedGrants > 0 {
            let change = amended.minorUnits < 0 ? "decreased" : "increased"
            let magnitude = Money(minorUnits: Int64(clamping: amended.minorUnits.magnitude), currency: currency)
            let grantsText = amendedGrants == 1 ? "1 grant has" : "\(amendedGrants) grants have"
            text +=
                " Since the decision, \(grantsText) been amended: the awards have \(change) by \(magnitude.english) in total,"
                + " to \(awarded.english)."
        }
        return text
    }

    /// `10 641 000 kronor`, `1 krona`, `1 000,50 kronor`, `5 000 EUR`: plain spaces group the thousands, as the
    /// text is pasted into web pages and mail as it is.
    static func kronor(_ money: Money) -> String {
        let whole = money.minorUnits.magnitude / 100
        let cents = money.minorUnits.magnitude % 100
        let amount =
            (money.minorUnits < 0 ? "−" : "") + Money.grouped(UInt64(whole), separator: " ")
            + (cents == 0 ? "" : "," + (cents < 10 ? "0" : "") + String(cents))
        guard money.currency == .sek else { return "\(amount) \(money.currency.rawValue)" }
        return money.minorUnits.magnitude == 100 ? "\(amount) krona" : "\(amount) kronor"
    }

    static func list(_ items: [String], and word: String) -> String {
        switch items.count {
        case 0: ""
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " \(word) " + items[items.count - 1]
        }
    }
}

extension String {
    /// "Medborgardialog" → "medborgardialog", but acronyms ("DAC") stay as they are.
    var lowercasedFirst: String {
        guard let first = first, count > 1, let second = dropFirst().first, !second.isUppercase else { return self }
        return first.lowercased() + dropFirst()
    }
}
