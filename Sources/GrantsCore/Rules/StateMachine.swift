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

/// scheduled → attested → paid; scheduled | attested → cancelled. A paid disbursement is corrected by a
/// separate `reversal` entry, never changed.
///
/// ```swift
/// DisbursementStatus.attested.canTransition(to: .paid)   // true
/// DisbursementStatus.paid.canTransition(to: .cancelled)   // false: reverse it instead
/// ```
public enum DisbursementStatus: String, StateMachine, Codable {
    case scheduled, attested, paid, cancelled, reversal
    public static let transitions: [DisbursementStatus: Set<DisbursementStatus>] = [
        .scheduled: [.attested, .cancelled],
        .attested: [.paid, .cancelled],
    ]
}

/// Inception (a short preparatory phase) or project.
///
/// ```swift
/// let inception = manifest.grants.filter { $0.phase == .inception }
/// ```
public enum Phase: String, Sendable, Codable, CaseIterable {
    case inception, project
}

/// A Swedish municipality (*kommun*), a region, or any other organisation (most partners abroad).
///
/// ```swift
/// NewOrganisation(name: "Region Gotland", country: "SE", kind: .region)
/// ```
public enum OrganisationKind: String, Sendable, Codable, CaseIterable {
    case municipality, region, other
}
