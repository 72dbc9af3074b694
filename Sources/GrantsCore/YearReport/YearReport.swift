/// A programme's year for its funder, on business dates (1 January to 31 December): what was decided, amended,
/// paid out and paid back in the year, what stood open at its end, and how the money spreads over themes,
/// partner countries, rounds, kinds of organisation and phases.
///
/// Every money figure of the year is a sum of the rows the disbursement export gives for the same period
/// (`from` 1 January, `to` 31 December): `paid` of its `paid` rows, `reversed` and `repaid` of its `reversal` and
/// `repayment` rows (shown here as positive amounts; the export's rows are negative), `writtenOff` and
/// `reclaimed` of its `write-off` and `reclaim` rows, `cancelled` of its `cancelled` rows and `dueUnpaid` of its
/// `scheduled` and `attested` rows. The figures at the end of the year (`claimsOpen`, `committedUnpaid`) read
/// the books as they stood at the end of 31 December.
///
/// Each view adds up to the totals exactly: a grant with several themes (or partner countries) has each of its
/// amounts split evenly between them to the öre, the remainder to the first (themes in the order the grant lists
/// them, countries in the order of their first partner), while its `grants` count is one under each of them.
///
/// ```swift
/// let year = try await service.reports.year(2023, programme: "Kommunala partnerskap")
/// print(year.awarded.swedish, year.disbursed.swedish)
/// for country in year.byCountry { print(country.key, country.disbursed.swedish) }
/// ```
public struct YearReport: Sendable, Encodable, Equatable {
    /// One line of a view: a theme, a country, a round, a kind of organisation or a phase, and its share of
    /// the year's money.
    ///
    /// ```swift
    /// let kenya = year.byCountry.first { $0.key == "KE" }?.awarded
    /// ```
    public struct Share: Sendable, Encodable, Equatable {
        /// The theme's code, the country's ISO 3166-1 code, the round's name, the kind or the phase.
        public let key: String
        /// The name in Swedish and in English (the same as `key` where there is no other).
        public let nameSv: String
        public let nameEn: String
        /// The grants with money in the year here (decided, amended, paid, reversed or repaid).
        public let grants: Int
        public let awarded: Money
        public let amended: Money
        /// Paid net of reversals and repayments.
        public let disbursed: Money
        /// The year's budget: only in the view by round (the budget of a round decided in the year), else zero.
        public let budget: Money

        public init(
            key: String, nameSv: String, nameEn: String, grants: Int, awarded: Money, amended: Money, disbursed: Money, budget: Money
        ) {
            self.key = key
            self.nameSv = nameSv
            self.nameEn = nameEn
            self.grants = grants
            self.awarded = awarded
            self.amended = amended
            self.disbursed = disbursed
            self.budget = budget
        }
    }

    /// One quarter of the year: the awards and amendments dated in it, and what was disbursed (net).
    ///
    /// ```swift
    /// let spring = year.quarters[1].disbursed
    /// ```
    public struct Quarter: Sendable, Encodable, Equatable {
        /// 1 to 4.
        public let quarter: Int
        /// Awards decided plus amendments dated in the quarter.
        public let awarded: Money
        public let disbursed: Money

        public init(quarter: Int, awarded: Money, disbursed: Money) {
            self.quarter = quarter
            self.awarded = awarded
            self.disbursed = disbursed
        }
    }

    /// A Swedish municipality or region whose first grant in the programme (ever) was decided in the year.
    ///
    /// ```swift
    /// let names = year.firstTimers.map(\.name)
    /// ```
    public struct FirstTimer: Sendable, Encodable, Equatable {
        public let name: String
        public let kind: OrganisationKind
        public let orgNumber: String?
        public let firstDecidedOn: CalendarDate
        /// Its grants decided in the year.
        public let grants: Int

        public init(name: String, kind: OrganisationKind, orgNumber: String?, firstDecidedOn: CalendarDate, grants: Int) {
            self.name = name
            self.kind = kind
            self.orgNumber = orgNumber
            self.firstDecidedOn = firstDecidedOn
            self.grants = grants
        }
    }

    /// Grants by their period: started (start date in the year), running (period overlapping the year), ended
    /// (end date, after amendments dated by the year's end, in the year); `decided` in the year and `closed` in it.
    ///
    /// ```swift
    /// print("\(year.grantCounts.running) partnerships ran in \(year.year)")
    /// ```
    public struct GrantCounts: Sendable, Encodable, Equatable {
        public let decided: Int
        public let started: Int
        public let running: Int
        public let ended: Int
        public let closed: Int

        public init(decided: Int, started: Int, running: Int, ended: Int, closed: Int) {
            self.decided = decided
            self.started = started
            self.running = running
            self.ended = ended
            self.closed = closed
        }
    }

    /// Reports the grantees owe: `due` in the year, `received` in the year, and `overdue` at its end (due by
    /// then and neither approved nor waived by then).
    ///
    /// ```swift
    /// if year.requirements.overdue > 0 { print("chase \(year.requirements.overdue) reports") }
    /// ```
    public struct RequirementCounts: Sendable, Encodable, Equatable {
        public let due: Int
        public let received: Int
        public let overdue: Int

        public init(due: Int, received: Int, overdue: Int) {
            self.due = due
            self.received = received
            self.overdue = overdue
        }
    }

    /// The programme's name, or nil for every programme (then all in one currency).
    public let programme: String?
    public let year: Int
    public let currency: Currency
    /// Σ budgets of the rounds decided in the year, and how many there were.
    public let budget: Money
    public let rounds: Int
    /// Σ awards as decided, of grants decided in the year.
    public let awarded: Money
    /// Σ amendments of awards dated in the year (any grant's).
    public let amended: Money
    /// Σ payments dated in the year (before reversals).
    public let paid: Money
    /// Σ reversals dated in the year, as a positive amount.
    public let reversed: Money
    /// Σ repayments received in the year, as a positive amount.
    public let repaid: Money
    /// `paid − reversed − repaid`.
    public let disbursed: Money
    /// Σ claims given up at closings dated in the year.
    public let writtenOff: Money
    /// Σ awards released at closings dated in the year (never paid out).
    public let reclaimed: Money
    /// Σ tranches cancelled in the year.
    public let cancelled: Money
    /// Σ tranches due in the year and not paid or cancelled (scheduled or attested).
    public let dueUnpaid: Money
    /// At the end of the year: claims of settlements less repayments and write-offs.
    public let claimsOpen: Money
    /// At the end of the year: awards after amendments, of grants decided by then, less what was paid (net of
    /// reversals) and what closings released.
    public let committedUnpaid: Money
    public let grantCounts: GrantCounts
    public let requirements: RequirementCounts
    public let firstTimers: [FirstTimer]
    public let quarters: [Quarter]
    public let byTheme: [Share]
    public let byCountry: [Share]
    public let byRound: [Share]
    public let byKind: [Share]
    public let byPhase: [Share]

    public init(
        programme: String?, year: Int, currency: Currency, budget: Money, rounds: Int, awarded: Money, amended: Money,
        paid: Money, reversed: Money, repaid: Money, writtenOff: Money, reclaimed: Money, cancelled: Money, dueUnpaid: Money,
        claimsOpen: Money, committedUnpaid: Money, grantCounts: GrantCounts, requirements: RequirementCounts,
        firstTimers: [FirstTimer], quarters: [Quarter], byTheme: [Share], byCountry: [Share], byRound: [Share],
        byKind: [Share], byPhase: [Share]
    ) throws(GrantsError) {
        self.programme = programme
        self.year = year
        self.currency = currency
        self.budget = budget
        self.rounds = rounds
        self.awarded = awarded
        self.amended = amended
        self.paid = paid
        self.reversed = reversed
        self.repaid = repaid
        self.disbursed = try paid - reversed - repaid
        self.writtenOff = writtenOff
        self.reclaimed = reclaimed
        self.cancelled = cancelled
        self.dueUnpaid = dueUnpaid
        self.claimsOpen = claimsOpen
        self.committedUnpaid = committedUnpaid
        self.grantCounts = grantCounts
        self.requirements = requirements
        self.firstTimers = firstTimers
        self.quarters = quarters
        self.byTheme = byTheme
        self.byCountry = byCountry
        self.byRound = byRound
        self.byKind = byKind
        self.byPhase = byPhase
    }

    /// The views by name, in the order reports show them.
    public var views: [(name: String, shares: [Share])] {
        [("theme", byTheme), ("country", byCountry), ("round", byRound), ("kind", byKind), ("phase", byPhase)]
    }

    /// The invariant every view keeps: its awarded, amended, disbursed and budget figures add up exactly to the
    /// year's. A view that does not is a broken report, never a rounding matter: the names of those that fail.
    public var viewsThatDoNotAddUp: [String] {
        views.compactMap { view in
            func sum(_ figure: (Share) -> Money) -> Int64 {
                view.shares.reduce(Int64(0)) { $0 &+ figure($1).minorUnits }
            }
            let adds =
                sum(\.awarded) == awarded.minorUnits && sum(\.amended) == amended.minorUnits
                && sum(\.disbursed) == disbursed.minorUnits
                && (view.name != "round" || sum(\.budget) == budget.minorUnits)
            return adds ? nil : view.name
        }
    }
}
