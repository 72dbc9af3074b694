/// What a read that could go to the replica did instead, for the caller to show (the CLI prints it on stderr).
///
/// ```swift
/// var configuration = GrantsConfiguration(database: primary, replica: standby)
/// configuration.replicaNotices = { notice in print("grants: \(notice)") }
/// // grants: read from the primary: the standby had not replayed the primary's position within 3 s
/// ```
public enum ReplicaNotice: Sendable, Equatable, CustomStringConvertible {
    /// The read went to the primary instead of the replica.
    case readFromPrimary(ReplicaFallbackReason)
    /// The primary could not be reached and the caller allows stale reads: the read came from the standby,
    /// which may be behind the primary by up to `behind` (nil: the standby cannot tell).
    case staleRead(behind: Duration?)

    public var description: String {
        switch self {
        case .readFromPrimary(let reason): "read from the primary: \(reason.explanation)"
        case .staleRead(let behind):
            "the primary cannot be reached: read from the standby, "
                + (behind.map { "which may be up to \(Self.seconds($0)) behind" } ?? "which cannot tell how far behind it is")
        }
    }

    /// `1.250 s`: milliseconds are as fine as a replay lag is worth telling.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = max(0, duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) s"
    }
}

/// Why a read that would go to the replica went to the primary; the `reason` dimension of the
/// `grants_replica_fallbacks_total` counter.
///
/// ```swift
/// if case .readFromPrimary(.lagging) = notice { alertOperator() }
/// ```
public enum ReplicaFallbackReason: String, Sendable, CaseIterable {
    /// The standby could not be reached.
    case unavailable = "replica_unavailable"
    /// The replica server is not in recovery (`pg_is_in_recovery()` is false): not a standby, or promoted.
    case notStandby = "not_standby"
    /// The standby had not replayed the primary's position within the wait limit.
    case lagging
    /// The read failed on the standby after it had caught up (a conflict with recovery, a lost connection);
    /// it was run again on the primary.
    case failed = "replica_failed"

    var explanation: String {
        switch self {
        case .unavailable: "the standby cannot be reached"
        case .notStandby: "the replica server is not a standby (not in recovery)"
        case .lagging: "the standby had not replayed the primary's position within the wait limit"
        case .failed: "the read failed on the standby"
        }
    }
}
