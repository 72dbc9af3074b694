import Foundation
import PGClient

/// The library's own SQLSTATEs, raised by the rule functions (`Schema/rules/`) and the API (`Schema/api/`).
extension SQLState {
    /// Recorded money and decisions never change.
    static let appendOnly = SQLState(rawValue: "GR001")
    /// A state change the state machine does not allow.
    static let invalidStateChange = SQLState(rawValue: "GR002")
    /// The round or grant is closed.
    static let closed = SQLState(rawValue: "GR003")
    /// A reversal that does not negate one paid disbursement of the same grant.
    static let invalidReversal = SQLState(rawValue: "GR004")
    /// A person's own login wrote another actor's name (`Schema/0009_identity_and_conflicts.sql`).
    static let actorMismatch = SQLState(rawValue: "GR005")
    /// A person with a declared conflict of interest decided on or paid for the organisation.
    static let conflictOfInterest = SQLState(rawValue: "GR006")
    /// A tranche held back by a reporting requirement that is neither approved nor waived (`0011`).
    static let heldBack = SQLState(rawValue: "GR110")
    /// A grant whose final report is neither approved nor waived cannot close (`0011`).
    static let reportPending = SQLState(rawValue: "GR111")
    /// A grant whose repayment claim is open, with no write-off, cannot close (`0011`).
    static let claimOpen = SQLState(rawValue: "GR112")
    /// No row with the key a one-call write was given (`0014`).
    static let notFound = SQLState(rawValue: "GR007")
    /// Input a one-call write refused, with where it is (`0014`).
    static let invalidInput = SQLState(rawValue: "GR008")
    /// A request that differs from what is recorded under its key (`0014`).
    static let conflict = SQLState(rawValue: "GR009")
    /// An actor who is not a registered person, or is retired (`Schema/rules/identity.sql`).
    static let unknownPerson = SQLState(rawValue: "GR010")
    /// An event dated inside a closed period of the programme's books (`Schema/rules/periods.sql`).
    static let periodClosed = SQLState(rawValue: "GR120")
    static let invalidSchemaName = SQLState(rawValue: "3F000")
}

/// The one table from what the database said to the library's error for the same rule. Rule functions raise
/// with a JSON DETAIL (`rule`, `entity`, `key`, and `from`/`to`, `excess`/`currency`, `actor`, `login`,
/// `person`/`organisation` where they apply); a CHECK constraint that fires as the last line of defence maps to the same case with what it says.
enum DatabaseRules {
    /// Rules that CHECK constraints hold, by constraint name.
    static let constraints: [String: @Sendable (RuleDetail) -> GrantsError] = [
        "round_within_budget": { .budgetExceeded(round: $0.key, excess: $0.excess) },
        "disbursements_within_award": { .awardExceeded(grant: $0.key, excess: $0.excess) },
        "four_eyes": { .fourEyes(disbursement: $0.key, actor: $0.actor ?? "") },
        "payee_account_four_eyes": { .fourEyesOnAccount(organisation: $0.organisation ?? $0.key, actor: $0.actor ?? "") },
        "conflict_person_normalised": { _ in
            .invalidInput([Problem("person", "is not a normalised name (NFC, trimmed, lower-case)")])
        },
        "repaid_within_claim": { .repaymentExceedsClaim(grant: $0.key, excess: $0.excess) },
        // A disbursement or repayment in another currency than its grant's (Schema/rules/totals.sql, after-the-award.sql).
        "currency_of_grant": {
            GrantsError(
                .currencyMismatch, .input, message: "\($0.message): give the amount in the grant's currency",
                problems: [Problem("currency", "\($0.message): give the amount in the grant's currency")], entity: "grant")
        },
        "continues_same_applicant": {
            .invalidInput([Problem("continues", "grant \($0.continues ?? "?") was awarded to another applicant")])
        },
    ]

    /// Rules that the rule functions raise, by SQLSTATE.
    static let states: [SQLState: @Sendable (RuleDetail) -> GrantsError] = [
        .appendOnly: { .appendOnly(entity: $0.entity, key: $0.key) },
        .invalidStateChange: {
            if $0.rule == "in_payment_batch", let batch = $0.batch {
                return .inPaymentBatch(disbursement: $0.key, batch: batch, messageID: $0.messageID ?? "", to: $0.to)
            }
            return .invalidTransition(entity: $0.entity, key: $0.key, from: $0.from, to: $0.to)
        },
        .invalidReversal: { .invalidTransition(entity: $0.entity, key: $0.key, from: $0.from, to: $0.to) },
        .closed: { .closed(entity: $0.entity, key: $0.key) },
        .actorMismatch: { .actorMismatch(claimed: $0.actor ?? $0.key, login: $0.login ?? "") },
        .conflictOfInterest: { .conflictOfInterest(person: $0.person ?? "", organisation: $0.organisation ?? $0.key) },
        .heldBack: { .heldBack(tranche: Int($0.tranche ?? 0), grant: $0.key, requirement: $0.requirement ?? 0) },
        .reportPending: { .reportPending(grant: $0.key, requirement: $0.requirement ?? 0) },
        .claimOpen: { .claimOpen(grant: $0.key, open: $0.excess) },
        .notFound: { .notFound(entity: $0.entity, key: $0.key) },
        .unknownPerson: { .unknownPerson($0.key) },
        .invalidInput: { .invalidInput($0.problems) },
        .conflict: { .conflict(entity: $0.entity, key: $0.key, differences: $0.differences) },
        .periodClosed: {
            .periodClosed(
                programme: $0.programme ?? "", period: $0.key, event: $0.event ?? "event", on: $0.date("on"),
                closedBy: $0.closedBy ?? "", closedOn: $0.date("closed_at"), firstOpen: $0.date("first_open"))
        },
    ]

    /// What the database (or the pool, or the task) said, in the library's terms: always a `GrantsError`. A
    /// ROLLBACK that failed after the error is kept in the error's `rollback` detail, never in its place.
    static func translate(_ error: any Error) -> GrantsError {
        let translated = translateUnderlying(PGTransactionError.underlyingError(of: error))
        if let rollback = (error as? PGTransactionError)?.rollbackError {
            return translated.adding(.rollback, rollback.description)
        }
        return translated
    }

    private static func translateUnderlying(_ underlying: any Error) -> GrantsError {
        if let error = underlying as? GrantsError { return error }
        if underlying is CancellationError { return .cancelled }
        guard let pg = underlying as? PGError else {
            return .internalError(sqlState: nil, message: String(describing: underlying))
        }
        if pg.kind == .cancelled { return .cancelled }
        if pg.isConnectionLoss || pg.kind == .connection || pg.kind == .configuration {
            return .unavailable(cause: pg.message)
        }
        guard let state = pg.sqlState else { return .internalError(sqlState: nil, message: pg.description) }
        if state == .checkViolation, let constraint = pg.constraint, let rule = constraints[constraint] {
            return rule(RuleDetail(pg))
        }
        if let rule = states[state] { return rule(RuleDetail(pg)) }
        // Every column naming who acted is a foreign key to the person register (`…_person`,
        // Schema/0019): a name that is not there is nobody.
        if state == .foreignKeyViolation, let constraint = pg.constraint, constraint.hasSuffix("_person") {
            return .unknownPerson(Self.keyValue(pg.detail) ?? "")
        }
        switch state {
        case .insufficientPrivilege:
            return .notPermitted(pg.message)
        case .numericValueOutOfRange:
            // An amount the database cannot hold (an amendment past bigint): bad input, not a fault.
            return .invalidInput([Problem("amount", "is out of range: \(pg.message)")])
        case .uniqueViolation:
            // Something recorded already has this key (a racing writer that the API's own lookup did not see).
            return .conflict(
                entity: pg.table ?? "row", key: Self.keyValue(pg.detail, suffix: ") already exists") ?? "",
                differences: [Difference(pg.constraint ?? "key", recorded: "recorded already", given: "the same key again")])
        case .undefinedTable, .invalidSchemaName:
            // Only the library's own tables are named by its statements.
            return .schemaMismatch("the database is not migrated (\(pg.message)): migrate it to this version")
        default:
            if pg.isTransient {
                // The pool retried the whole transaction and the conflict stayed: a busy database, to try later.
                return .unavailable(cause: "the database kept refusing the transaction (\(pg.message)); try again")
            }
            return .internalError(sqlState: state.rawValue, message: pg.description)
        }
    }
}

extension DatabaseRules {
    /// The value of a key violation's DETAIL, `Key (column)=(value) is not present in table …` (or, with
    /// `suffix`, `… already exists`).
    static func keyValue(_ detail: String?, suffix: String = ") is not present") -> String? {
        guard let detail, let start = detail.range(of: ")=("),
            let end = detail.range(of: suffix, range: start.upperBound..<detail.endIndex)
        else { return nil }
        return String(detail[start.upperBound..<end.lowerBound])
    }
}

/// The structured DETAIL of a rule the database raised, or what a bare CHECK violation tells.
struct RuleDetail {
    let rule: String
    let entity: String
    let key: String
    let from: String
    let to: String
    let actor: String?
    let login: String?
    let person: String?
    let organisation: String?
    let excess: Money?
    let tranche: Int64?
    let requirement: Int64?
    let continues: String?
    /// An event inside a closed period (GR120): the programme, the event, who closed the period.
    let programme: String?
    let event: String?
    let closedBy: String?
    /// The dates of the DETAIL by key (`YYYY-MM-DD`, or a timestamp's day).
    private let dates: [String: CalendarDate]
    /// A tranche with the bank: its payment batch and the batch's message id.
    let batch: Int64?
    let messageID: String?
    /// Refused input (GR008): where, and what is wrong.
    let location: String
    let message: String
    /// A conflict with what is recorded (GR009).
    let field: String
    let recorded: String
    let given: String
    /// An award above the amount requested: both amounts, in the currency.
    let awarded: Money?
    let requested: Money?
    /// Several problems or differences at once (DETAIL keys `problems`, `differences`), each like the one above.
    let moreProblems: [Problem]
    let moreDifferences: [Difference]

    init(_ error: PGError) {
        let fields =
            error.detail.flatMap { detail in
                (try? JSONSerialization.jsonObject(with: Data(detail.utf8))) as? [String: Any]
            } ?? [:]
        func text(_ name: String) -> String? {
            switch fields[name] {
            case let value as String: value
            case let value as NSNumber: value.stringValue
            default: nil
            }
        }
        rule = text("rule") ?? ""
        entity = text("entity") ?? error.table ?? "row"
        // A bare CHECK violation's detail is "Failing row contains (id, …)": the row's id is its key.
        key = text("key") ?? Self.failingRowID(error.detail) ?? ""
        from = text("from") ?? "?"
        to = text("to") ?? "?"
        actor = text("actor")
        login = text("login")
        person = text("person")
        organisation = text("organisation")
        tranche = (fields["tranche"] as? NSNumber)?.int64Value
        requirement = (fields["requirement"] as? NSNumber)?.int64Value
        continues = text("continues")
        programme = text("programme")
        event = text("event")
        closedBy = text("closed_by")
        var dates: [String: CalendarDate] = [:]
        for name in ["on", "closed_at", "first_open"] {
            if let value = text(name), let day = try? CalendarDate(String(value.prefix(10))) { dates[name] = day }
        }
        self.dates = dates
        batch = (fields["batch"] as? NSNumber)?.int64Value
        messageID = text("message_id")
        location = text("location") ?? ""
        message = text("message") ?? error.message
        field = text("field") ?? ""
        recorded = text("recorded") ?? ""
        given = text("given") ?? ""
        let currency = text("currency").flatMap(Currency.init(rawValue:))
        func money(_ name: String) -> Money? {
            guard let minor = (fields[name] as? NSNumber)?.int64Value, let currency else { return nil }
            return Money(minorUnits: minor, currency: currency)
        }
        excess = money("excess")
        awarded = money("awarded")
        requested = money("requested")
        let lists = (fields["problems"] as? [[String: Any]] ?? [], fields["differences"] as? [[String: Any]] ?? [])
        moreProblems = lists.0.prefix(100).map { Problem($0["location"] as? String ?? "", $0["message"] as? String ?? "") }
        moreDifferences = lists.1.prefix(100).map {
            Difference($0["field"] as? String ?? "", recorded: $0["recorded"] as? String ?? "", given: $0["given"] as? String ?? "")
        }
    }

    /// A date of the DETAIL.
    func date(_ name: String) -> CalendarDate? { dates[name] }

    /// Every problem refused input names.
    var problems: [Problem] { moreProblems.isEmpty ? [problem] : moreProblems }

    /// Every difference from what is recorded.
    var differences: [Difference] {
        moreDifferences.isEmpty ? [Difference(field, recorded: recorded, given: given)] : moreDifferences
    }

    /// The problem refused input names, said as the library's own check says it.
    var problem: Problem {
        if rule == "above_requested", let awarded, let requested {
            return Problem(
                location, "the award \(awarded.swedish) is above the \(requested.swedish) requested and is not confirmed as meant")
        }
        return Problem(location, message)
    }

    static func failingRowID(_ detail: String?) -> String? {
        guard let detail, let open = detail.range(of: "Failing row contains (") else { return nil }
        let id = detail[open.upperBound...].prefix { $0.isNumber }
        return id.isEmpty ? nil : String(id)
    }
}
