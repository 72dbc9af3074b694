import CoreMetrics

/// The metrics a pool records into, made once per pool (the labels are listed in ``PGPool``'s documentation).
struct PGPoolMetrics: Sendable {
    let inUse: Gauge
    let idle: Gauge
    let waiting: Gauge
    let opened: Counter
    let lostIdle: Counter
    let lostInUse: Counter
    let retries: [RetryReason: Counter]
    /// Nil when the factory is swift-metrics' no-op one: then connections do not even read the clock.
    let connection: PGConnectionMetrics?

    enum RetryReason: String, CaseIterable, Sendable {
        case serializationFailure = "serialization_failure"
        case deadlock
        case lostBeforeBegin = "lost_before_begin"
        case readOnlyLost = "read_only_lost"
    }

    init(pool name: String, factory: any MetricsFactory) {
        let pool = [("pool", name)]
        inUse = Gauge(label: "pg_pool_connections_in_use", dimensions: pool, factory: factory)
        idle = Gauge(label: "pg_pool_connections_idle", dimensions: pool, factory: factory)
        waiting = Gauge(label: "pg_pool_tasks_waiting", dimensions: pool, factory: factory)
        opened = Counter(label: "pg_pool_connections_opened_total", dimensions: pool, factory: factory)
        lostIdle = Counter(label: "pg_pool_connections_lost_total", dimensions: pool + [("when", "idle")], factory: factory)
        lostInUse = Counter(label: "pg_pool_connections_lost_total", dimensions: pool + [("when", "in_use")], factory: factory)
        var retries: [RetryReason: Counter] = [:]
        for reason in RetryReason.allCases {
            retries[reason] = Counter(
                label: "pg_transaction_retries_total", dimensions: pool + [("reason", reason.rawValue)], factory: factory)
        }
        self.retries = retries
        connection = factory is NOOPMetricsHandler ? nil : PGConnectionMetrics(dimensions: pool, factory: factory)
    }

    func retried(_ reason: RetryReason) {
        retries[reason]?.increment()
    }
}

/// The timers a pool's connections record into.
struct PGConnectionMetrics: Sendable {
    let statement: Timer
    let committed: Timer
    let rolledBack: Timer
    let failed: Timer

    init(dimensions: [(String, String)], factory: any MetricsFactory) {
        statement = Timer(label: "pg_statement_duration_seconds", dimensions: dimensions, factory: factory)
        func transaction(_ outcome: String) -> Timer {
            Timer(label: "pg_transaction_duration_seconds", dimensions: dimensions + [("outcome", outcome)], factory: factory)
        }
        committed = transaction("committed")
        rolledBack = transaction("rolled_back")
        failed = transaction("failed")
    }

    /// How a transaction ended, for its duration's `outcome`.
    enum Outcome {
        case committed
        /// The body threw and the transaction was rolled back.
        case rolledBack
        /// BEGIN, COMMIT or the ROLLBACK failed.
        case failed
    }

    func recordStatement(since start: ContinuousClock.Instant) {
        statement.recordNanoseconds(start.duration(to: .now).nanoseconds)
    }

    func recordTransaction(since start: ContinuousClock.Instant, _ outcome: Outcome) {
        let timer =
            switch outcome {
            case .committed: committed
            case .rolledBack: rolledBack
            case .failed: failed
            }
        timer.recordNanoseconds(start.duration(to: .now).nanoseconds)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating (a statement does not run for 292 years, but the arithmetic must not trap).
    fileprivate var nanoseconds: Int64 {
        let (seconds, overflow) = components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return components.seconds < 0 ? .min : .max }
        let (total, overflowed) = seconds.addingReportingOverflow(components.attoseconds / 1_000_000_000)
        return overflowed ? .max : total
    }
}
