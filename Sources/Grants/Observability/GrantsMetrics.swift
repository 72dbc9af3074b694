import CoreMetrics

/// The library's own metrics, beside the pool's (`pg_pool_*`, `pg_transaction_*`, `pg_statement_*`, each with a
/// `pool` dimension: `primary` or `replica`). Labels and dimensions never hold SQL, values or names.
///
/// | label | kind | dimensions |
/// | --- | --- | --- |
/// | `grants_replica_reads_total` | counter | `server`: `replica`, `primary` (a fallback), `stale_standby` (`allowStaleReads`) |
/// | `grants_replica_fallbacks_total` | counter | `reason`: see ``ReplicaFallbackReason`` |
/// | `grants_replica_wait_seconds` | timer | (how long a read waited for the standby to catch up) |
/// | `grants_write_retries_total` | counter | `reason`: `idempotency_key` (a concurrent request with the same key committed first) |
struct GrantsMetrics: Sendable {
    let replicaReads: Counter
    let primaryReads: Counter
    let staleReads: Counter
    let fallbacks: [ReplicaFallbackReason: Counter]
    let replicaWait: Timer
    let idempotencyRetries: Counter

    init(factory: any MetricsFactory) {
        func reads(_ server: String) -> Counter {
            Counter(label: "grants_replica_reads_total", dimensions: [("server", server)], factory: factory)
        }
        replicaReads = reads("replica")
        primaryReads = reads("primary")
        staleReads = reads("stale_standby")
        var fallbacks: [ReplicaFallbackReason: Counter] = [:]
        for reason in ReplicaFallbackReason.allCases {
            fallbacks[reason] = Counter(
                label: "grants_replica_fallbacks_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.fallbacks = fallbacks
        replicaWait = Timer(label: "grants_replica_wait_seconds", factory: factory)
        idempotencyRetries = Counter(
            label: "grants_write_retries_total", dimensions: [("reason", "idempotency_key")], factory: factory)
    }

    func fellBack(_ reason: ReplicaFallbackReason) {
        fallbacks[reason]?.increment()
        primaryReads.increment()
    }
}
