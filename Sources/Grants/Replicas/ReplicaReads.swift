import CoreMetrics
import Logging
import PGClient
import Synchronization

/// The hot standby, reachable for reads only: its pool is private to this type, whose one entry point runs
/// a body in a `READ ONLY` transaction, and the library's write path (`GrantsService.write`) only ever takes
/// the primary's pool. (A standby refuses writes besides, with SQLSTATE 25006.)
///
/// Freshness: a read first asks the primary for its WAL insert position (one round trip) and waits until the
/// standby has replayed it, so it sees at least what the primary had committed when the read began. The insert
/// position rather than `pg_current_wal_lsn()` (the write position): with `synchronous_commit = off` a commit is
/// visible before its WAL record is written out, and would be missed. Past the wait limit, or when the standby is
/// down or not in recovery, the read goes to the primary and says why.
final class ReplicaReads: Sendable {
    private let pool: PGPool
    private let primary: PGPool
    private let waitLimit: Duration
    private let allowStale: Bool
    private let logger: Logger
    private let metrics: GrantsMetrics
    private let notices: (@Sendable (ReplicaNotice) -> Void)?
    /// After the standby could not be reached, reads skip it until then rather than each paying a failed connect.
    private let unreachableUntil = Mutex<ContinuousClock.Instant?>(nil)
    static let unreachablePause = Duration.seconds(5)

    init(
        replica: PGConfiguration, primary: PGPool, configuration: GrantsConfiguration, logger: Logger, metrics: GrantsMetrics,
        metricsFactory: any MetricsFactory
    ) {
        pool = PGPool(
            configuration: replica, size: configuration.poolSize, name: "replica", logger: logger, metricsFactory: metricsFactory)
        self.primary = primary
        waitLimit = configuration.replicaWaitLimit
        allowStale = configuration.allowStaleReads
        self.logger = logger
        self.metrics = metrics
        notices = configuration.replicaNotices
    }

    func close() async { await pool.close() }

    /// Where a read goes.
    enum Route: Equatable {
        case replica
        case primary(ReplicaFallbackReason)
        case stale(behind: Duration?)
    }

    /// Runs `body` in a read-only REPEATABLE READ transaction on the standby once it has caught up, else on the
    /// primary. `rerunnable`: the body only returns a value (a listing), so a failure on the standby may be run
    /// again on the primary; an export that writes as it goes is only moved while nothing of it has run.
    func read<T: Sendable>(
        retry: PGRetryPolicy, rerunnable: Bool, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        switch try await route() {
        case .replica:
            do {
                let result = try await pool.transaction(isolation: .repeatableRead, readOnly: true, retry: retry, body)
                metrics.replicaReads.increment()
                GrantsService.markReadFrom("replica")
                return result
            } catch let error as PGTransactionError
                where !Task.isCancelled
                && (rerunnable ? PGTransactionError.underlyingError(of: error) is PGError : error.beginError != nil)
            {
                fellBack(.failed, error)
            }
        case .primary(let reason):
            fellBack(reason, nil)
        case .stale(let behind):
            let notice = ReplicaNotice.staleRead(behind: behind)
            logger.notice("\(notice)")
            notices?(notice)
            let result = try await pool.transaction(isolation: .repeatableRead, readOnly: true, retry: retry, body)
            metrics.staleReads.increment()
            GrantsService.markReadFrom("stale_standby")
            return result
        }
        let result = try await primary.transaction(isolation: .repeatableRead, readOnly: true, retry: retry, body)
        GrantsService.markReadFrom("primary")
        return result
    }

    private func fellBack(_ reason: ReplicaFallbackReason, _ error: (any Error)?) {
        metrics.fellBack(reason)
        let notice = ReplicaNotice.readFromPrimary(reason)
        var metadata: Logger.Metadata = ["reason": "\(reason.rawValue)"]
        if let error, let pg = PGTransactionError.underlyingError(of: error) as? PGError {
            metadata["sqlstate"] = "\(pg.sqlState?.rawValue ?? "")"
        }
        logger.notice("\(notice)", metadata: metadata)
        notices?(notice)
    }

    /// Decides where a read goes: the standby once it has replayed the primary's position, else the primary; with
    /// the primary unreachable and stale reads allowed, the standby as it is.
    func route() async throws -> Route {
        let target: WALPosition
        do {
            target = try await primary.withConnection { try Self.primaryPosition($0) }
        } catch let primaryError as PGError where primaryError.isConnectionLoss {
            guard allowStale, !skipsStandby() else { throw primaryError }
            // The standby answers, or the caller hears of the primary being down, which is what matters to it.
            let behind: Duration?
            do {
                behind = try await pool.withConnection { try Self.replayDelay($0) }
            } catch {
                throw primaryError
            }
            return .stale(behind: behind)
        }
        if skipsStandby() { return .primary(.unavailable) }
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started.advanced(by: waitLimit)
        var pause = Duration.milliseconds(1)
        while true {
            let standby: (recovering: Bool, replayed: WALPosition?)
            do {
                standby = try await pool.withConnection { try Self.standbyPosition($0) }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.debug("the standby cannot be reached", metadata: ["error": "\(error)"])
                unreachableUntil.withLock { $0 = clock.now.advanced(by: Self.unreachablePause) }
                return .primary(.unavailable)
            }
            guard standby.recovering else { return .primary(.notStandby) }
            if let replayed = standby.replayed, replayed >= target {
                metrics.replicaWait.recordNanoseconds(Self.nanoseconds(started.duration(to: clock.now)))
                return .replica
            }
            let now = clock.now
            if now >= deadline { return .primary(.lagging) }
            try await Task.sleep(for: min(pause, now.duration(to: deadline)))
            pause = min(pause * 2, .milliseconds(20))
        }
    }

    private func skipsStandby() -> Bool {
        unreachableUntil.withLock { until in
            guard let end = until else { return false }
            if ContinuousClock.now < end { return true }
            until = nil
            return false
        }
    }

    // MARK: Positions

    /// The primary's WAL insert position, taken back to the page start when it points just past a page header:
    /// at a page boundary the insert position counts the next page's header, which no record ends in, while a
    /// standby's replay position stops at the boundary.
    static func primaryPosition(_ connection: PGConnection) throws -> WALPosition {
        let row = try connection.query(
            """
            SELECT pg_current_wal_insert_lsn()::text, current_setting('wal_block_size')::int,
                   (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')
            """)[0]
        guard let position = WALPosition(try row.decode(String.self, column: 0)) else {
            throw PGError(kind: .decoding, message: "the primary's WAL position is not an LSN")
        }
        return position.recordEnd(
            pageSize: UInt64(try row.decode(Int32.self, column: 1)), segmentSize: UInt64(try row.decode(Int64.self, column: 2)))
    }

    /// Whether the replica server is in recovery, and how far it has replayed (nil when it is not a standby).
    static func standbyPosition(_ connection: PGConnection) throws -> (recovering: Bool, replayed: WALPosition?) {
        let row = try connection.query("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text")[0]
        return (try row.decode(Bool.self, column: 0), try row.decode(String?.self, column: 1).flatMap(WALPosition.init))
    }

    /// How long ago the last transaction the standby replayed committed on the primary: the most its data can be
    /// behind (nil when it cannot tell: nothing replayed yet, or not a standby).
    static func replayDelay(_ connection: PGConnection) throws -> Duration? {
        let row = try connection.query(
            """
            SELECT pg_is_in_recovery(),
                   (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::bigint
            """)[0]
        guard try row.decode(Bool.self, column: 0), let milliseconds = try row.decode(Int64?.self, column: 1) else { return nil }
        return .milliseconds(max(0, milliseconds))
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, overflow) = duration.components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : seconds &+ duration.components.attoseconds / 1_000_000_000
    }
}

/// A position in the write-ahead log (`pg_lsn`, written `16/B374D848`).
struct WALPosition: Comparable, Sendable, CustomStringConvertible {
    let value: UInt64

    init(value: UInt64) { self.value = value }

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16),
            high <= UInt64(UInt32.max), low <= UInt64(UInt32.max)
        else { return nil }
        value = high << 32 | low
    }

    static func < (a: WALPosition, b: WALPosition) -> Bool { a.value < b.value }

    var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    /// Where the last record before this insert position ended (see ``ReplicaReads/primaryPosition(_:)``):
    /// a short page header is 24 bytes, a segment's first page has a long one of 40.
    func recordEnd(pageSize: UInt64, segmentSize: UInt64) -> WALPosition {
        guard pageSize > 0, segmentSize > 0 else { return self }
        let offset = value % pageSize
        if offset == 24 || (offset == 40 && value % segmentSize == 40) { return WALPosition(value: value - offset) }
        return self
    }
}

extension ReplicaReads {
    /// Asks both servers; never throws: what cannot be asked is nil (or the state says the standby is unreachable).
    func status() async -> ReplicaStatus {
        let primaryPosition = try? await primary.withConnection { try Self.primaryPosition($0) }
        do {
            return try await pool.withConnection { connection in
                let row = try connection.query(
                    """
                    SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,
                           CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,
                           (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::bigint
                    """)[0]
                let replayed = try row.decode(String?.self, column: 1).flatMap(WALPosition.init)
                let lag = primaryPosition.flatMap { target in replayed.map { target.value > $0.value ? target.value - $0.value : 0 } }
                return ReplicaStatus(
                    state: try row.decode(Bool.self, column: 0) ? .standby : .notStandby,
                    replayLagBytes: lag,
                    lastReplayAge: try row.decode(Int64?.self, column: 3).map { .milliseconds(max(0, $0)) },
                    replayPaused: try row.decode(Bool.self, column: 2),
                    replayedPosition: replayed?.description,
                    primaryPosition: primaryPosition?.description)
            }
        } catch {
            let cause = (error as? PGError)?.message ?? "\(error)"
            return ReplicaStatus(
                state: .unreachable(cause: cause), replayLagBytes: nil, lastReplayAge: nil, replayPaused: false, replayedPosition: nil,
                primaryPosition: primaryPosition?.description)
        }
    }
}
