import CoreMetrics
import PGClient
import Tracing

/// How an embedding service reaches the grants database, and optionally a hot standby for its reads.
///
/// ```swift
/// var database = try PGConfiguration(url: "postgresql://grants_staff@db.example/grants")
/// database["application_name"] = "grants-api"
/// var configuration = GrantsConfiguration(
///     database: database, replica: try PGConfiguration(url: "postgresql://grants_staff@standby.example/grants"), poolSize: 8)
/// configuration.replicaWaitLimit = .seconds(2)
/// let service = GrantsService(configuration: configuration)
/// ```
///
/// With a `replica`, reports and listings read from it, never less fresh than the primary (see
/// ``replicaWaitLimit``); writes only ever use `database`.
public struct GrantsConfiguration: Sendable {
    /// The primary: every write, and every read that is not a report or a listing.
    public var database: PGConfiguration
    /// A streaming-replication hot standby of `database` for reports and listings, or nil to read from the primary.
    public var replica: PGConfiguration?
    /// Connections in the pool (and in the replica's pool); each runs on a thread of its own. Size it to the
    /// database server, not to the number of callers: callers beyond it wait in the pool, which is cheaper than
    /// waiting inside PostgreSQL. Writes into one round queue on that round's lock whatever the pool, and more
    /// connections than the server has cores only add switching: on two cores, 16 concurrent callers approving and
    /// scheduling did about 2 100 operations a second on 4 connections and 1 300 on 16 (`Scripts/bench`, B3).
    public var poolSize: Int
    public var retry: PGRetryPolicy
    /// How long a read waits for the standby to replay what the primary had when the read began, before it
    /// reads the primary instead (and says why, in the log at notice level and through ``replicaNotices``).
    public var replicaWaitLimit: Duration
    /// When the primary cannot be reached, reports and listings read from the standby anyway and say how far
    /// behind it may be. Off by default: a read then fails as the primary is unavailable.
    public var allowStaleReads: Bool
    /// Where the library's metrics go (the pool's and its own); nil: the factory bootstrapped with
    /// `MetricsSystem`, which does nothing until a backend is bootstrapped.
    public var metricsFactory: (any MetricsFactory)?
    /// Where the library's spans go; nil: the tracer bootstrapped with `InstrumentationSystem` (a no-op by default).
    public var tracer: (any Tracer)?
    /// Told each time a read that would go to the replica does not (and why), or reads a standby without the
    /// primary; also logged at notice level. The CLI prints these on stderr.
    public var replicaNotices: (@Sendable (ReplicaNotice) -> Void)?

    public init(
        database: PGConfiguration, replica: PGConfiguration? = nil, poolSize: Int = 4, retry: PGRetryPolicy = .default,
        replicaWaitLimit: Duration = .seconds(3), allowStaleReads: Bool = false
    ) {
        self.database = database
        self.replica = replica
        self.poolSize = poolSize
        self.retry = retry
        self.replicaWaitLimit = replicaWaitLimit
        self.allowStaleReads = allowStaleReads
    }
}
