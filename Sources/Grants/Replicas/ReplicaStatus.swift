/// How the configured replica stands against the primary, for `grants-admin db status` and health checks.
///
/// ```swift
/// if let replica = try await service.replicaStatus(), let lag = replica.replayLagBytes, lag > 16 << 20 {
///     logger.warning("the standby is \(lag) bytes behind")
/// }
/// ```
public struct ReplicaStatus: Sendable, Equatable {
    /// What the replica server is.
    public enum State: Sendable, Equatable {
        /// A hot standby in recovery: reads can go to it.
        case standby
        /// In recovery no more, or never was (`pg_is_in_recovery()` is false): reads go to the primary.
        case notStandby
        /// It cannot be reached; `cause` is the connection's error.
        case unreachable(cause: String)
    }

    public var state: State
    /// Bytes of WAL the primary has that the standby has not replayed (nil when either cannot be asked).
    public var replayLagBytes: UInt64?
    /// How long ago the last transaction the standby replayed committed: how far behind its data may be when
    /// the primary is busy (on an idle primary it grows while nothing is behind; read it with `replayLagBytes`).
    public var lastReplayAge: Duration?
    /// Whether replay is paused (`pg_wal_replay_pause()`).
    public var replayPaused: Bool
    /// The standby's replay position and the primary's, as PostgreSQL writes them (`0/3000148`).
    public var replayedPosition: String?
    public var primaryPosition: String?
}
