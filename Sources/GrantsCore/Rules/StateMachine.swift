/// A status with explicit allowed transitions; anything else is a typed ``GrantsError/invalidTransition(entity:key:from:to:)``.
///
/// ```swift
/// try DisbursementStatus.scheduled.checkTransition(to: .attested, entity: "disbursement", key: "17")
/// ```
public protocol StateMachine: RawRepresentable<String>, Hashable, Sendable, CaseIterable {
    /// The states each state may move to.
    static var transitions: [Self: Set<Self>] { get }
}

extension StateMachine {
    public func canTransition(to next: Self) -> Bool {
        Self.transitions[self]?.contains(next) ?? false
    }

    public func checkTransition(to next: Self, entity: String, key: String) throws(GrantsError) {
        guard canTransition(to: next) else {
            throw .invalidTransition(entity: entity, key: key, from: rawValue, to: next.rawValue)
        }
    }
}

/// An allocation round is open for awards until it is closed.
///
/// ```swift
/// let open = try await service.rounds.list().filter { $0.status == .open }
/// ```
public enum RoundStatus: String, StateMachine, Codable {
    case open, closed
    public static let transitions: [RoundStatus: Set<RoundStatus>] = [.open: [.closed]]
}

/// submitted → approved | rejected | withdrawn.
///
/// ```swift
/// let pending = try await service.applications.list(round: "2023:1", status: .submitted)
/// ```
public enum ApplicationStatus: String, StateMachine, Codable {
    case submitted, approved, rejected, withdrawn
    public static let transitions: [ApplicationStatus: Set<ApplicationStatus>] = [
        .submitted: [.approved, .rejected, .withdrawn]
    ]
}

/// active → closed (the unspent amount is reclaimed).
///
/// ```swift
/// let closed = try await service.grants.list(round: "2021:2").filter { $0.status == .closed }
/// ```
public enum GrantStatus: String, StateMachine, Codable {
    case active, closed
    public static let transitions: [GrantStatus: Set<GrantStatus>] = [.active: [.closed]]
}

/// scheduled → attested → paid; scheduled | attested → cancelled; attested → scheduled when the payee's account
/// changes after the attestation (the attestation is withdrawn). A paid disbursement is corrected by a
/// separate `reversal` entry, never changed. `repayment` is no disbursement's state: it is the status the
/// reports give money a grantee paid back (its own entries, see `RepaymentEntry` in `Grants`). `writeOff` and
/// `reclaim` are no disbursement's state either: they are the rows the reports give a grant's closing, the
/// uncollected claim given up and the undisbursed award released, both dated on the closing day.
///
/// ```swift
/// DisbursementStatus.attested.canTransition(to: .paid)   // true
/// DisbursementStatus.paid.canTransition(to: .cancelled)   // false: reverse it instead
/// ```
public enum DisbursementStatus: String, StateMachine, Codable {
    case scheduled, attested, paid, cancelled, reversal, repayment
    case writeOff = "write-off"
    case reclaim
    public static let transitions: [DisbursementStatus: Set<DisbursementStatus>] = [
        .scheduled: [.attested, .cancelled],
        .attested: [.paid, .cancelled, .scheduled],
    ]
}

/// A reporting requirement: due → received → approved; received → returned → received again; waived ends it
/// (from due, received or returned). Approved and waived are final.
///
/// ```swift
/// RequirementStatus.received.canTransition(to: .approved)   // true
/// RequirementStatus.approved.canTransition(to: .returned)   // false: approved is final
/// ```
public enum RequirementStatus: String, StateMachine, Codable {
    case due, received, approved, returned, waived
    public static let transitions: [RequirementStatus: Set<RequirementStatus>] = [
        .due: [.received, .waived],
        .received: [.approved, .returned, .waived],
        .returned: [.received, .waived],
    ]

    /// Whether the requirement is met for good: a tranche it holds back is released.
    public var releases: Bool { self == .approved || self == .waived }
}
