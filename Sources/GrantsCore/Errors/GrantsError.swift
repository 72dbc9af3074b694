/// Every error the library reports: one case per rule, whichever layer caught it. The check in Swift ahead
/// of a write and the database rule that catches a racing writer give the same case.
///
/// ```swift
/// do { try await service.approvals.approve("KP-1", amount: award, decidedOn: day, actor: "anna") }
/// catch GrantsError.budgetExceeded(let round, let excess) { print("\(round) over budget by \(excess?.swedish ?? "?")") }
/// ```
public enum GrantsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Input that is not valid; every problem with its domain path. Nothing was written.
    case invalidInput([Problem])
    /// The named thing does not exist: `entity` is a domain word (`round`, `grant`, `disbursement`…).
    case notFound(entity: String, key: String)
    /// Σ awarded of the round would pass its budget, by `excess` when known.
    case budgetExceeded(round: String, excess: Money?)
    /// Σ non-cancelled disbursements of the grant would pass its award (after amendments), by `excess` when
    /// known: a tranche too many, or an amendment below what is already scheduled or paid.
    case awardExceeded(grant: String, excess: Money?)
    /// A state change the state machine does not allow.
    case invalidTransition(entity: String, key: String, from: String, to: String)
    /// The round or grant is closed: nothing more is added to it.
    case closed(entity: String, key: String)
    /// The attester is the person who scheduled the disbursement.
    case fourEyes(disbursement: String, actor: String)
    /// The verifier of a payee account is the person who set it.
    case fourEyesOnAccount(organisation: String, actor: String)
    /// Something is already recorded with other values; every difference is listed. Nothing was written.
    case conflict(entity: String, key: String, differences: [Difference])
    /// Recorded money and decisions never change (paid disbursements, reversals, approvals, amendments,
    /// audit events, what was applied for).
    case appendOnly(entity: String, key: String)
    /// Tranche `tranche` of the grant cannot be attested or paid while reporting requirement `requirement`
    /// (whose `before_tranche` is that tranche) is neither approved nor waived.
    case heldBack(tranche: Int, grant: String, requirement: Int64)
    /// The grant cannot close while its final report (requirement `requirement`) is neither approved nor waived.
    case reportPending(grant: String, requirement: Int64)
    /// The grant cannot close while `open` of its repayment claim is neither repaid nor written off.
    case claimOpen(grant: String, open: Money?)
    /// Σ repayments received would pass the grant's claim (less what was written off), by `excess` when known.
    case repaymentExceedsClaim(grant: String, excess: Money?)
    /// The event (`decision`, `amendment`, `payment`, `reversal`, `cancellation`, `settlement`, `repayment`,
    /// `closing`) is dated `on`, inside `period` (`2022`, `2022-03`) of the programme's books, which `closedBy`
    /// closed on `closedOn`. A late correction is dated on or after `firstOpen`, the first day no closed period
    /// covers, and names the event it corrects.
    case periodClosed(
        programme: String, period: String, event: String, on: CalendarDate?, closedBy: String, closedOn: CalendarDate?,
        firstOpen: CalendarDate?)
    /// The database login may not do this.
    case notPermitted(String)
    /// The database login is a person's own login, whose writes are all recorded as that person, and the write
    /// named someone else. Only a service login (granted `grants_service`) states who acts.
    case actorMismatch(claimed: String, login: String)
    /// `person` has declared a conflict of interest (jäv) with `organisation`, the applicant or a partner, and
    /// so may not approve or reject the application, nor schedule, attest or pay its disbursements.
    case conflictOfInterest(person: String, organisation: String)
    /// `person` is not a registered person (or was retired): only people in the register act, so another
    /// spelling or a look-alike of a name is nobody, not somebody else.
    case unknownPerson(String)
    /// The database could not be reached, the connection was lost, or the schema is not the one this library
    /// needs; `cause` says which and what to do.
    case unavailable(cause: String)
    /// A bug or an unexpected database state, with the SQLSTATE when the database reported it.
    case internalError(sqlState: String?, message: String)

    /// What kind of failure this is, for mapping to exit codes or HTTP statuses.
    ///
    /// ```swift
    /// catch let error as GrantsError where error.category == .unavailable {
    ///     try await Task.sleep(for: .seconds(5))   // the database is down: try again later
    /// }
    /// ```
    public enum Category: Sendable { case rule, input, unavailable, `internal` }

    public var category: Category {
        switch self {
        case .invalidInput, .notFound: .input
        case .budgetExceeded, .awardExceeded, .invalidTransition, .closed, .fourEyes, .fourEyesOnAccount, .conflict, .appendOnly,
            .notPermitted, .actorMismatch, .conflictOfInterest, .unknownPerson, .heldBack, .reportPending, .claimOpen,
            .repaymentExceedsClaim, .periodClosed:
            .rule
        case .unavailable: .unavailable
        case .internalError: .internal
        }
    }

    public var description: String {
        switch self {
        case .invalidInput(let problems):
            problems.map(\.description).joined(separator: "\n")
        case .notFound(let entity, let key):
            "no \(entity) \(key)"
        case .budgetExceeded(let round, let excess):
            "round \(round): the budget would be exceeded" + (excess.map { " by \($0.swedish)" } ?? "")
        case .awardExceeded(let grant, let excess):
            "grant \(grant): disbursements would exceed the award" + (excess.map { " by \($0.swedish)" } ?? "")
        case .invalidTransition(let entity, let key, let from, let to):
            "\(entity) \(key) cannot go from \(from) to \(to)"
        case .closed(let entity, let key):
            "\(entity) \(key) is closed"
        case .fourEyes(let id, let actor):
            "four-eyes: \(actor) scheduled disbursement \(id) and cannot also attest it"
        case .fourEyesOnAccount(let organisation, let actor):
            "four-eyes: \(actor) set the payee account of \(organisation) and cannot also verify it"
        case .conflict(let entity, let key, let differences):
            "\(entity) \(key) is recorded differently; nothing was written"
                + (differences.isEmpty ? "" : ":\n" + differences.map(\.description).joined(separator: "\n"))
        case .appendOnly(let entity, let key):
            "\(entity)\(key.isEmpty ? "" : " " + key) is recorded and never changes"
        case .heldBack(let tranche, let grant, let requirement):
            "grant \(grant): tranche \(tranche) is held back until reporting requirement \(requirement) is approved or waived"
        case .reportPending(let grant, let requirement):
            "grant \(grant): the final report (requirement \(requirement)) is neither approved nor waived"
        case .claimOpen(let grant, let open):
            "grant \(grant): the repayment claim is open" + (open.map { " (\($0.swedish))" } ?? "")
                + "; receive the rest or write it off with a reason"
        case .repaymentExceedsClaim(let grant, let excess):
            "grant \(grant): repayments would exceed the claim" + (excess.map { " by \($0.swedish)" } ?? "")
        case .periodClosed(let programme, let period, let event, let on, let closedBy, let closedOn, let firstOpen):
            "\(event)\(on.map { " dated \($0)" } ?? "") is in period \(period) of \(programme), closed by \(closedBy)"
                + (closedOn.map { " on \($0)" } ?? "")
                + ": date it in the first open period (\(firstOpen.map { "\($0) or later" } ?? "after it")) and name the event it corrects"
        case .notPermitted(let message):
            "not permitted: \(message)"
        case .actorMismatch(let claimed, let login):
            "the database login \(login) is a person's own login: its writes are recorded as \(ActorName.key(login)),"
                + " not as \(claimed) (only a login granted grants_service states who acts)"
        case .conflictOfInterest(let person, let organisation):
            "conflict of interest: \(person) has a declared conflict of interest (jäv) with \(organisation)"
                + " and may not decide on or pay for its applications and grants"
        case .unknownPerson(let person):
            "no such person: \(person) is not a registered person who may act (register people with `person add`)"
        case .unavailable(let cause):
            "database unavailable: \(cause)"
        case .internalError(let sqlState, let message):
            "internal error" + (sqlState.map { " (SQLSTATE \($0))" } ?? "") + ": \(message)"
        }
    }
}

/// Where in an input a problem is, as a domain path: `grants[3].amount`, `applicant`, `line 12, column
/// amount`. Never a flag or a field name of some interface: the CLI maps paths to its flags, an HTTP
/// service to its fields.
///
/// ```swift
/// catch GrantsError.invalidInput(let problems) {
///     for problem in problems { print(problem.location, problem.message) }   // grants[3].amount: …
/// }
/// ```
public struct Problem: Sendable, Equatable, Codable, CustomStringConvertible {
    public let location: String
    public let message: String
    /// The line of the source file the problem is on (YAML and JSON manifests), when known. A CSV file's line is
    /// part of its ``location`` already (`line 12, column amount`).
    public var line: Int?
    /// The reference of the grant the problem belongs to, when a manifest gave one.
    public var reference: String?

    public init(_ location: String, _ message: String, line: Int? = nil, reference: String? = nil) {
        self.location = location
        self.message = message
        self.line = line
        self.reference = reference
    }

    /// `line 42, grants[5] (KP-2021-2-06).themes: unknown theme klimat`: the line first, the grant's reference
    /// after its index.
    public var description: String {
        var place = location
        if let reference, !reference.isEmpty {
            if place.hasPrefix("grants["), let close = place.firstIndex(of: "]") {
                place.insert(contentsOf: " (\(reference))", at: place.index(after: close))
            } else {
                place = place.isEmpty ? reference : "\(place) (\(reference))"
            }
        }
        if let line { place = place.isEmpty ? "line \(line)" : "line \(line), \(place)" }
        return place.isEmpty ? message : "\(place): \(message)"
    }

    /// The same problem under another path (a flag, a JSON field), for interfaces that name inputs their way;
    /// the line and the reference stay.
    public func relocated(to location: String) -> Problem { Problem(location, message, line: line, reference: reference) }

    /// The same problem with its line and grant reference, where it has none yet.
    public func placed(line: Int?, reference: String?) -> Problem {
        Problem(location, message, line: self.line ?? line, reference: self.reference ?? reference)
    }
}

/// One thing that is recorded differently from what was given.
///
/// ```swift
/// catch GrantsError.conflict(_, _, let differences) {
///     for d in differences { print("\(d.location): recorded \(d.recorded), given \(d.given)") }
/// }
/// ```
public struct Difference: Sendable, Equatable, Codable, CustomStringConvertible {
    public let location: String
    public let recorded: String
    public let given: String

    public init(_ location: String, recorded: String, given: String) {
        self.location = location
        self.recorded = recorded
        self.given = given
    }

    public var description: String { "\(location): recorded \(recorded), given \(given)" }
}
