/// The one error every public API of the library throws, whichever layer caught the problem: the check in Swift
/// ahead of a write and the database rule that catches a racing writer give the same error.
///
/// An error has an open ``code`` (named constants, like SQLSTATE: a new rule adds a code and breaks nobody's
/// `switch`) and a closed ``category`` (seven kinds, for mapping to exit codes or HTTP statuses), a ``message``
/// in domain words, and what it is about: the ``problems`` of refused input, each with its domain path, the
/// ``differences`` from what is recorded, the ``entity`` and ``key`` concerned, an ``amount``, and further
/// ``details`` by name.
///
/// ```swift
/// do { try await service.approvals.approve("KP-1", amount: award, decidedOn: day, actor: "anna") }
/// catch let error where error.code == .budgetExceeded {
///     print("round \(error.key ?? "?") over budget by \(error.amount?.swedish ?? "?")")
/// }
/// ```
///
/// Errors compare equal when everything they say is equal, so a test can expect an exact one:
/// `#expect(throws: GrantsError.notFound(entity: "grant", key: "KP-9")) { … }`.
public struct GrantsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which rule or failure this is: a stable, open set of named constants (`GrantsError.Code.budgetExceeded`).
    /// Codes are kebab-case words (`budget-exceeded`); new ones are added as rules are, and a `switch` over codes
    /// needs a `default`.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    /// What kind of failure this is: a closed set, so a host can map every error exhaustively (exit codes, HTTP
    /// statuses). Codes grow; categories do not.
    ///
    /// | category | meaning | HTTP | `grants-admin` exit |
    /// |---|---|---|---|
    /// | `input` | the input is not valid; nothing was written | 422 | 65 |
    /// | `notFound` | the thing named does not exist | 404 | 65 |
    /// | `rule` | a rule of the programme refuses it (budget, state, held back, closed period) | 409 | 1 |
    /// | `conflict` | something is recorded under the same key with other values | 409 | 1 |
    /// | `permission` | this login or person may not do it (privileges, four-eyes, conflict of interest, an unregistered person) | 403 | 1 |
    /// | `unavailable` | the database cannot be reached, is busy, or is not migrated; try again later | 503 | 69 |
    /// | `internal` | a bug or an unexpected database state | 500 | 70 |
    public enum Category: String, Sendable, Codable, CaseIterable {
        case input, notFound = "not-found", rule, conflict, permission, unavailable, `internal`
    }

    /// A fact an error carries beyond its entity, key and amount (`from`, `to`, `batch`…): an open set of names.
    public struct Detail: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    public let code: Code
    public let category: Category
    /// What went wrong, in domain words (no command of any interface): one line per problem or difference.
    public let message: String
    /// Refused input: every problem with its domain path (`grants[3].amount`, `applicant`). Empty otherwise.
    public let problems: [Problem]
    /// Something recorded differently: every difference. Empty otherwise.
    public let differences: [Difference]
    /// What the error is about, as a domain word (`round`, `grant`, `disbursement`, `programme`…) and its key.
    public let entity: String?
    public let key: String?
    /// The amount the error names: by how much a budget, award or claim would be exceeded, or what is still open.
    public let amount: Money?
    /// Further facts by name; see the `Detail` constants for the ones the library sets.
    public let details: [Detail: String]

    /// An error with the given parts; ``message`` is said from them when not given. Libraries building on this
    /// one can make errors of their own codes the same way.
    public init(
        _ code: Code, _ category: Category, message: String, problems: [Problem] = [], differences: [Difference] = [],
        entity: String? = nil, key: String? = nil, amount: Money? = nil, details: [Detail: String] = [:]
    ) {
        self.code = code
        self.category = category
        self.message = message
        self.problems = problems
        self.differences = differences
        self.entity = entity
        self.key = key
        self.amount = amount
        self.details = details
    }

    /// A named fact (`error[.batch]`).
    public subscript(detail: Detail) -> String? { details[detail] }

    /// The same error with one more fact (a failed rollback, a SQLSTATE).
    public func adding(_ detail: Detail, _ value: String) -> GrantsError {
        var details = self.details
        details[detail] = value
        return GrantsError(
            code, category, message: message, problems: problems, differences: differences, entity: entity, key: key,
            amount: amount, details: details)
    }

    public var description: String { message }
}

extension GrantsError.Code {
    // input
    /// Input that is not valid; ``GrantsError/problems`` says where and why. Nothing was written.
    public static let invalidInput = Self("invalid-input")
    /// A text that is not an amount (`1,000`, `-5`, `1e6`).
    public static let invalidAmount = Self("invalid-amount")
    /// A text that is not a calendar date (`YYYY-MM-DD`).
    public static let invalidDate = Self("invalid-date")
    /// A Bankgiro, Plusgiro, IBAN, BIC or OCR number with a wrong shape, length or check digit.
    public static let invalidBankNumber = Self("invalid-bank-number")
    /// An organisationsnummer with a wrong shape or check digit.
    public static let invalidOrganisationNumber = Self("invalid-organisation-number")
    /// Amounts in different currencies combined or compared.
    public static let currencyMismatch = Self("currency-mismatch")
    /// An amount too large to represent exactly (past Int64 minor units).
    public static let amountOutOfRange = Self("amount-out-of-range")
    // not found
    /// The named thing does not exist.
    public static let notFound = Self("not-found")
    // rule
    /// Σ awarded of the round would pass its budget (``GrantsError/amount``: the excess, when known).
    public static let budgetExceeded = Self("budget-exceeded")
    /// Σ non-cancelled disbursements of the grant would pass its award after amendments.
    public static let awardExceeded = Self("award-exceeded")
    /// A state change the state machine does not allow (details `from`, `to`).
    public static let invalidTransition = Self("invalid-transition")
    /// The round or grant is closed: nothing more is added to it.
    public static let closed = Self("closed")
    /// Recorded money and decisions never change.
    public static let appendOnly = Self("append-only")
    /// A tranche held back by a reporting requirement (details `tranche`, `requirement`).
    public static let heldBack = Self("held-back")
    /// A tranche with the bank in a payment batch not answered yet (details `batch`, `message-id`, `to`).
    public static let inPaymentBatch = Self("in-payment-batch")
    /// The grant's final report is neither approved nor waived (detail `requirement`).
    public static let reportPending = Self("report-pending")
    /// The grant's repayment claim is open (``GrantsError/amount``: what is open).
    public static let claimOpen = Self("claim-open")
    /// Σ repayments would pass the claim less what was written off.
    public static let repaymentExceedsClaim = Self("repayment-exceeds-claim")
    /// An event dated inside a closed period of the programme's books (details `period`, `event`, `on`,
    /// `closed-by`, `closed-on`, `first-open`).
    public static let periodClosed = Self("period-closed")
    // conflict
    /// Something is recorded under the same key with other values; ``GrantsError/differences`` lists them.
    public static let conflict = Self("conflict")
    // permission
    /// The database login may not do this.
    public static let notPermitted = Self("not-permitted")
    /// A person's own login wrote another person's name (details `actor`, `login`).
    public static let actorMismatch = Self("actor-mismatch")
    /// The person who scheduled a disbursement attests it too (detail `actor`).
    public static let fourEyes = Self("four-eyes")
    /// The person who set a payee account verifies it too (detail `actor`).
    public static let fourEyesOnAccount = Self("four-eyes-on-account")
    /// A person with a declared conflict of interest (jäv) acts for the organisation (details `person`,
    /// `organisation`).
    public static let conflictOfInterest = Self("conflict-of-interest")
    /// The actor is not a registered person (or was retired).
    public static let unknownPerson = Self("unknown-person")
    // unavailable
    /// The database cannot be reached, the connection was lost, or it kept refusing a transaction.
    public static let unavailable = Self("unavailable")
    /// The database is not migrated to this version of the library, or by a newer one.
    public static let schemaMismatch = Self("schema-mismatch")
    /// The task was cancelled before the work was done; nothing of it was committed.
    public static let cancelled = Self("cancelled")
    /// An export's output could not be written (a file, a pipe, a consumer that stopped).
    public static let outputFailed = Self("output-failed")
    // internal
    /// A bug or an unexpected database state (detail `sqlstate` when the database reported one).
    public static let internalError = Self("internal")
}

extension GrantsError.Detail {
    public static let from = Self("from")
    public static let to = Self("to")
    public static let actor = Self("actor")
    public static let login = Self("login")
    public static let person = Self("person")
    public static let organisation = Self("organisation")
    public static let tranche = Self("tranche")
    public static let requirement = Self("requirement")
    public static let batch = Self("batch")
    public static let messageID = Self("message-id")
    public static let programme = Self("programme")
    public static let period = Self("period")
    public static let event = Self("event")
    public static let on = Self("on")
    public static let closedBy = Self("closed-by")
    public static let closedOn = Self("closed-on")
    public static let firstOpen = Self("first-open")
    /// The SQLSTATE the database reported.
    public static let sqlState = Self("sqlstate")
    /// What went wrong rolling back after the error (the error itself is what made the transaction fail).
    public static let rollback = Self("rollback")
    /// What the input was, shortened (a refused amount, date or number).
    public static let input = Self("input")
}

// MARK: The library's errors, one function per code.

extension GrantsError {
    /// Input that is not valid; every problem with its domain path. Nothing was written.
    public static func invalidInput(_ problems: [Problem]) -> GrantsError {
        GrantsError(.invalidInput, .input, message: problems.map(\.description).joined(separator: "\n"), problems: problems)
    }

    /// A value that is not valid by itself (an amount, a date, a bank number): one problem, with no path, for the
    /// caller to place (`Problem/relocated(to:)`).
    static func invalidValue(_ code: Code, input: String, _ message: String) -> GrantsError {
        GrantsError(code, .input, message: message, problems: [Problem("", message)], details: [.input: String(input.prefix(40))])
    }

    public static func notFound(entity: String, key: String) -> GrantsError {
        GrantsError(.notFound, .notFound, message: "no \(entity) \(key)", entity: entity, key: key)
    }

    public static func budgetExceeded(round: String, excess: Money?) -> GrantsError {
        GrantsError(
            .budgetExceeded, .rule, message: "round \(round): the budget would be exceeded" + (excess.map { " by \($0.swedish)" } ?? ""),
            entity: "round", key: round, amount: excess)
    }

    public static func awardExceeded(grant: String, excess: Money?) -> GrantsError {
        GrantsError(
            .awardExceeded, .rule,
            message: "grant \(grant): disbursements would exceed the award" + (excess.map { " by \($0.swedish)" } ?? ""),
            entity: "grant", key: grant, amount: excess)
    }

    public static func invalidTransition(entity: String, key: String, from: String, to: String) -> GrantsError {
        GrantsError(
            .invalidTransition, .rule, message: "\(entity) \(key) cannot go from \(from) to \(to)", entity: entity, key: key,
            details: [.from: from, .to: to])
    }

    public static func closed(entity: String, key: String) -> GrantsError {
        GrantsError(.closed, .rule, message: "\(entity) \(key) is closed", entity: entity, key: key)
    }

    public static func fourEyes(disbursement: String, actor: String) -> GrantsError {
        GrantsError(
            .fourEyes, .permission, message: "four-eyes: \(actor) scheduled disbursement \(disbursement) and cannot also attest it",
            entity: "disbursement", key: disbursement, details: [.actor: actor])
    }

    public static func fourEyesOnAccount(organisation: String, actor: String) -> GrantsError {
        GrantsError(
            .fourEyesOnAccount, .permission,
            message: "four-eyes: \(actor) set the payee account of \(organisation) and cannot also verify it",
            entity: "organisation", key: organisation, details: [.actor: actor])
    }

    /// Something is already recorded with other values; every difference is listed. Nothing was written.
    public static func conflict(entity: String, key: String, differences: [Difference]) -> GrantsError {
        GrantsError(
            .conflict, .conflict,
            message: "\(entity) \(key) is recorded differently; nothing was written"
                + (differences.isEmpty ? "" : ":\n" + differences.map(\.description).joined(separator: "\n")),
            differences: differences, entity: entity, key: key)
    }

    public static func appendOnly(entity: String, key: String) -> GrantsError {
        GrantsError(
            .appendOnly, .rule, message: "\(entity)\(key.isEmpty ? "" : " " + key) is recorded and never changes", entity: entity,
            key: key)
    }

    public static func heldBack(tranche: Int, grant: String, requirement: Int64) -> GrantsError {
        GrantsError(
            .heldBack, .rule,
            message: "grant \(grant): tranche \(tranche) is held back until reporting requirement \(requirement) is approved or waived",
            entity: "grant", key: grant, details: [.tranche: String(tranche), .requirement: String(requirement)])
    }

    /// `to`: what was tried (`paid`, `cancelled`, `scheduled`).
    public static func inPaymentBatch(disbursement: String, batch: Int64, messageID: String, to: String) -> GrantsError {
        let what = to == "paid" ? "paid by hand" : to == "cancelled" ? "cancelled" : "sent back to be attested"
        return GrantsError(
            .inPaymentBatch, .rule,
            message: "disbursement \(disbursement) is with the bank in payment batch \(batch) (\(messageID)): it cannot be \(what);"
                + " withdraw the batch, or wait for the bank's notification",
            entity: "disbursement", key: disbursement, details: [.batch: String(batch), .messageID: messageID, .to: to])
    }

    public static func reportPending(grant: String, requirement: Int64) -> GrantsError {
        GrantsError(
            .reportPending, .rule, message: "grant \(grant): the final report (requirement \(requirement)) is neither approved nor waived",
            entity: "grant", key: grant, details: [.requirement: String(requirement)])
    }

    public static func claimOpen(grant: String, open: Money?) -> GrantsError {
        GrantsError(
            .claimOpen, .rule,
            message: "grant \(grant): the repayment claim is open" + (open.map { " (\($0.swedish))" } ?? "")
                + "; receive the rest or write it off with a reason",
            entity: "grant", key: grant, amount: open)
    }

    public static func repaymentExceedsClaim(grant: String, excess: Money?) -> GrantsError {
        GrantsError(
            .repaymentExceedsClaim, .rule,
            message: "grant \(grant): repayments would exceed the claim" + (excess.map { " by \($0.swedish)" } ?? ""),
            entity: "grant", key: grant, amount: excess)
    }

    /// The event (`decision`, `amendment`, `payment`, `reversal`, `cancellation`, `settlement`, `repayment`,
    /// `closing`) is dated `on`, inside `period` (`2022`, `2022-03`) of the programme's books, which `closedBy`
    /// closed on `closedOn`. A late correction is dated on or after `firstOpen` and names the event it corrects.
    public static func periodClosed(
        programme: String, period: String, event: String, on: CalendarDate?, closedBy: String, closedOn: CalendarDate?,
        firstOpen: CalendarDate?
    ) -> GrantsError {
        var details: [Detail: String] = [.programme: programme, .period: period, .event: event, .closedBy: closedBy]
        details[.on] = on?.iso
        details[.closedOn] = closedOn?.iso
        details[.firstOpen] = firstOpen?.iso
        return GrantsError(
            .periodClosed, .rule,
            message: "\(event)\(on.map { " dated \($0)" } ?? "") is in period \(period) of \(programme), closed by \(closedBy)"
                + (closedOn.map { " on \($0)" } ?? "")
                + ": date it in the first open period (\(firstOpen.map { "\($0) or later" } ?? "after it")) and name the event it corrects",
            entity: "period", key: period, details: details)
    }

    /// The database login may not do this.
    public static func notPermitted(_ message: String) -> GrantsError {
        GrantsError(.notPermitted, .permission, message: "not permitted: \(message)")
    }

    /// The login is a person's own, whose writes are recorded as that person, and the write named someone else.
    public static func actorMismatch(claimed: String, login: String) -> GrantsError {
        GrantsError(
            .actorMismatch, .permission,
            message: "the database login \(login) is a person's own login: its writes are recorded as \(ActorName.key(login)),"
                + " not as \(claimed) (only a login granted grants_service states who acts)",
            details: [.actor: claimed, .login: login])
    }

    /// `person` has declared a conflict of interest (jäv) with `organisation`, the applicant or a partner.
    public static func conflictOfInterest(person: String, organisation: String) -> GrantsError {
        GrantsError(
            .conflictOfInterest, .permission,
            message: "conflict of interest: \(person) has a declared conflict of interest (jäv) with \(organisation)"
                + " and may not decide on or pay for its applications and grants",
            entity: "organisation", key: organisation, details: [.person: person, .organisation: organisation])
    }

    /// `person` is not a registered person (or was retired): only people in the register act.
    public static func unknownPerson(_ person: String) -> GrantsError {
        GrantsError(
            .unknownPerson, .permission,
            message: "no such person: \(person) is not a registered person who may act (register the person first)",
            entity: "person", key: person)
    }

    /// The database could not be reached, the connection was lost, or it kept refusing; `cause` says which.
    public static func unavailable(cause: String) -> GrantsError {
        GrantsError(.unavailable, .unavailable, message: "database unavailable: \(cause)")
    }

    /// The database's schema is not the one this library needs; `cause` says what to do.
    public static func schemaMismatch(_ cause: String) -> GrantsError {
        GrantsError(.schemaMismatch, .unavailable, message: "database unavailable: \(cause)")
    }

    /// The calling task was cancelled; what was open was rolled back.
    public static let cancelled = GrantsError(
        .cancelled, .unavailable, message: "cancelled before it was done; nothing of it was committed")

    /// An export's output failed (`cause`: what the file system or consumer said).
    public static func outputFailed(_ cause: String) -> GrantsError {
        GrantsError(.outputFailed, .unavailable, message: cause)
    }

    /// A bug or an unexpected database state, with the SQLSTATE when the database reported it.
    public static func internalError(sqlState: String?, message: String) -> GrantsError {
        GrantsError(
            .internalError, .internal, message: "internal error" + (sqlState.map { " (SQLSTATE \($0))" } ?? "") + ": \(message)",
            details: sqlState.map { [.sqlState: $0] } ?? [:])
    }
}

/// Where in an input a problem is, as a domain path: `grants[3].amount`, `applicant`, `line 12, column
/// amount`. Never a flag or a field name of some interface: the CLI maps paths to its flags, an HTTP
/// service to its fields.
///
/// ```swift
/// catch let error where error.category == .input {
///     for problem in error.problems { print(problem.location, problem.message) }   // grants[3].amount: …
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
/// catch let error where error.code == .conflict {
///     for d in error.differences { print("\(d.location): recorded \(d.recorded), given \(d.given)") }
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

// MARK: Values refused at the door

extension GrantsError {
    /// A text that is not an amount: `"1,000" has three decimals`.
    static func amount(_ input: String, _ reason: String) -> GrantsError {
        invalidValue(.invalidAmount, input: input, "\"\(input.prefix(40))\" \(reason)")
    }

    /// A text that is not a calendar date.
    static func date(_ input: String) -> GrantsError {
        invalidValue(.invalidDate, input: input, "\"\(input.prefix(40))\" is not a date (YYYY-MM-DD)")
    }

    /// A Bankgiro, Plusgiro, IBAN, BIC or OCR number (`kind`) that is not valid.
    static func bankNumber(_ kind: String, _ input: String, _ reason: String) -> GrantsError {
        invalidValue(.invalidBankNumber, input: input, "\(kind) \"\(input.prefix(40))\" \(reason)")
    }

    /// An organisationsnummer that is not valid.
    static func organisationNumber(_ input: String, _ reason: String) -> GrantsError {
        invalidValue(.invalidOrganisationNumber, input: input, "organisationsnummer \"\(input.prefix(40))\" \(reason)")
    }

    /// Money arithmetic whose result does not fit in Int64 minor units.
    public static let amountOutOfRange = GrantsError(
        .amountOutOfRange, .input, message: "the amount is too large to represent exactly",
        problems: [Problem("", "the amount is too large to represent exactly")])

    /// Amounts in two currencies combined or compared.
    public static func currencyMismatch(_ a: Currency, _ b: Currency) -> GrantsError {
        GrantsError(
            .currencyMismatch, .input, message: "cannot combine \(a) and \(b)", problems: [Problem("", "cannot combine \(a) and \(b)")],
            details: [.from: a.rawValue, .to: b.rawValue])
    }
}
