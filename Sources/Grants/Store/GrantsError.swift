import PGClient

/// Where in an input a problem is: `grants[3].amount`, `line 12, column amount`, `--budget`.
///
/// ```swift
/// catch GrantsError.invalidInput(let problems) {
///     for problem in problems { print(problem.location, problem.message) }   // grants[3].amount: …
/// }
/// ```
public struct Problem: Sendable, Equatable, Codable, CustomStringConvertible {
    public let location: String
    public let message: String

    public init(_ location: String, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { location.isEmpty ? message : "\(location): \(message)" }
}

/// One thing that is recorded differently from what a manifest says.
///
/// ```swift
/// catch GrantsError.conflict(_, let differences) {
///     for d in differences { print("\(d.location): recorded \(d.recorded), file says \(d.given)") }
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

    public var description: String { "\(location): recorded \(recorded), manifest says \(given)" }
}

/// Every error the library reports. A caller can tell a rule (budget exceeded, an invalid state change)
/// from bad input, from a database that is not there.
///
/// ```swift
/// do { try await service.approvals.approve(reference: "KP-1", amount: award, decidedOn: day, actor: "anna") }
/// catch GrantsError.budgetExceeded(let round, _, _, let over) { print("\(round) over budget by \(over.swedish)") }
/// ```
public enum GrantsError: Error, Sendable, CustomStringConvertible {
    /// Input that is not valid; every problem with its location. Nothing was written.
    case invalidInput([Problem])
    /// The named thing does not exist.
    case notFound(entity: String, key: String)
    /// The award would take the round's Σ awarded past its budget, by `excess`.
    case budgetExceeded(round: String, budget: Money, awarded: Money, excess: Money)
    /// Disbursements would exceed the grant's award (after amendments), by `excess`.
    case awardExceeded(grant: String, award: Money, committed: Money, excess: Money)
    /// An amendment would take the award below what is already scheduled or paid.
    case reductionBelowCommitted(grant: String, newAmount: Money, committed: Money)
    /// A state change the state machine does not allow.
    case invalidTransition(entity: String, key: String, from: String, to: String)
    /// The attester is the person who scheduled the disbursement.
    case fourEyes(disbursement: Int64, actor: String)
    /// Something with this key is already recorded with other values.
    case alreadyExists(entity: String, key: String, differences: [Difference])
    /// A manifest disagrees with what is recorded; nothing was written.
    case conflict(round: String, differences: [Difference])
    /// The round or grant is closed.
    case closed(entity: String, key: String)
    /// A rule the database enforces refused the write (append-only rows, a CHECK).
    case refused(String)
    /// The database could not be reached or the connection was lost.
    case databaseUnavailable(String)
    /// Anything else: a bug or an unexpected database state.
    case internalError(String)

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
        case .budgetExceeded, .awardExceeded, .reductionBelowCommitted, .invalidTransition, .fourEyes, .alreadyExists, .conflict, .closed,
            .refused:
            .rule
        case .databaseUnavailable: .unavailable
        case .internalError: .internal
        }
    }

    public var description: String {
        switch self {
        case .invalidInput(let problems):
            problems.map(\.description).joined(separator: "\n")
        case .notFound(let entity, let key):
            "no \(entity) \(key)"
        case .budgetExceeded(let round, let budget, let awarded, let excess):
            "budget exceeded by \(excess.swedish): round \(round) has \(budget.swedish), \(awarded.swedish) already awarded"
        case .awardExceeded(let grant, let award, let committed, let excess):
            "award exceeded by \(excess.swedish): grant \(grant) is awarded \(award.swedish), \(committed.swedish) already scheduled or paid"
        case .reductionBelowCommitted(let grant, let newAmount, let committed):
            "grant \(grant) cannot be reduced to \(newAmount.swedish): \(committed.swedish) is already scheduled or paid"
        case .invalidTransition(let entity, let key, let from, let to):
            "\(entity) \(key) cannot go from \(from) to \(to)"
        case .fourEyes(let id, let actor):
            "four-eyes: \(actor) scheduled disbursement \(id) and cannot also attest it"
        case .alreadyExists(let entity, let key, let differences):
            "\(entity) \(key) is already recorded"
                + (differences.isEmpty ? "" : " differently: " + differences.map(\.description).joined(separator: "; "))
        case .conflict(let round, let differences):
            "round \(round) is recorded differently; nothing was written:\n" + differences.map(\.description).joined(separator: "\n")
        case .closed(let entity, let key):
            "\(entity) \(key) is closed"
        case .refused(let message):
            message
        case .databaseUnavailable(let message):
            "database unavailable: \(message)"
        case .internalError(let message):
            "internal error: \(message)"
        }
    }

    /// Translates what the database said into the library's terms.
    static func from(_ error: any Error) -> any Error {
        // A failed transaction is judged by what made it fail (BEGIN, the body, or COMMIT).
        let underlying = PGTransactionError.underlyingError(of: error)
        guard let pg = underlying as? PGError else { return underlying }
        if pg.isConnectionLoss || pg.kind == .configuration { return GrantsError.databaseUnavailable(pg.message) }
        switch pg.sqlState?.rawValue {
        // Append-only, state machine, closed, reversal: the database's own rules, its message says which.
        case "GR001", "GR002", "GR003", "GR004": return GrantsError.refused(pg.message)
        case "42501": return GrantsError.refused("not permitted: \(pg.message)")
        case "23514" where pg.constraint == "round_within_budget":
            return GrantsError.refused("the round's budget would be exceeded")
        case "23514" where pg.constraint == "disbursements_within_award":
            return GrantsError.refused("disbursements would exceed the grant's award")
        case "23514" where pg.constraint == "four_eyes":
            return GrantsError.refused("four-eyes: the attester scheduled the disbursement")
        default:
            if pg.isTransient { return pg }
            return GrantsError.internalError(pg.description)
        }
    }
}
