import CoreMetrics
import Foundation
import Logging
import Synchronization

/// A fixed set of connections for async callers. Each connection lives on a thread of the pool's own, so
/// blocking libpq calls never run on Swift's cooperative pool; a connection goes back only when idle, and
/// one that was lost is replaced on its next use. Cancelling the calling task cancels the running query.
///
/// ```swift
/// let pool = PGPool(configuration: try PGConfiguration(url: url), size: 4, name: "grants", logger: logger)
/// let count = try await pool.withConnection { connection in
///     try connection.query("SELECT count(*) FROM grants.grant").first!.decode(Int64.self, column: 0)
/// }
/// try await pool.transaction(isolation: .serializable) { connection in … }   // retried on 40001/40P01
/// await pool.close()
/// ```
///
/// ## Metrics
///
/// The pool reports through swift-metrics, to the factory given at init (by default the one bootstrapped with
/// `MetricsSystem`, which does nothing until a backend is bootstrapped). Every metric carries the pool's name in
/// the `pool` dimension; labels and dimensions never hold SQL or values.
///
/// | label | kind | other dimensions |
/// | --- | --- | --- |
/// | `pg_pool_connections_in_use` | gauge | |
/// | `pg_pool_connections_idle` | gauge (open and free) | |
/// | `pg_pool_tasks_waiting` | gauge (for a free connection) | |
/// | `pg_pool_connections_opened_total` | counter | |
/// | `pg_pool_connections_lost_total` | counter | `when`: `idle` (found at checkout), `in_use` (dropped after use) |
/// | `pg_transaction_retries_total` | counter | `reason`: `serialization_failure`, `deadlock`, `lost_before_begin`, `read_only_lost` |
/// | `pg_statement_duration_seconds` | timer | |
/// | `pg_transaction_duration_seconds` | timer | `outcome`: `committed`, `rolled_back`, `failed` |
public final class PGPool: Sendable {
    public let configuration: PGConfiguration
    public let size: Int
    /// The pool's name in its metrics' `pool` dimension, to tell two pools of one process apart.
    public let name: String
    let logger: Logger
    let metrics: PGPoolMetrics
    let checksIdleConnections: Bool
    private let slots: [Slot]
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var free: [Int]
        /// Whether each slot holds an open connection, for the idle gauge.
        var open: [Bool]
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Int, Error>)] = []
        var cancelledWaiters: Set<UInt64> = []
        var nextWaiter: UInt64 = 0
        var closed = false

        /// Sets the gauges from this state; called under the lock, so the last value recorded is the current one.
        func publish(_ metrics: PGPoolMetrics) {
            metrics.inUse.record(open.count - free.count)
            metrics.idle.record(free.count { open[$0] })
            metrics.waiting.record(waiters.count)
        }
    }

    /// One connection and the thread it runs on.
    final class Slot: @unchecked Sendable {
        // @unchecked: `connection` is only read or written by jobs on `worker`, which runs one at a time.
        let index: Int
        let worker: PGWorkerThread
        var connection: PGConnection?

        init(index: Int) {
            self.index = index
            worker = PGWorkerThread(name: "pg-pool-\(index)")
        }
    }

    /// A pool of `size` connections made from `configuration` as they are first needed. `name` goes into the
    /// `pool` dimension of its metrics; `metricsFactory` is where they go (a `TestMetrics` in tests, say).
    public convenience init(
        configuration: PGConfiguration, size: Int = 4, name: String = "default", logger: Logger = Logger(label: "pg.pool"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.init(
            configuration: configuration, size: size, name: name, logger: logger, metricsFactory: metricsFactory,
            checksIdleConnections: true)
    }

    /// `checksIdleConnections: false` hands out idle connections unchecked: only for tests of what happens when a
    /// lost session gets past the check.
    init(
        configuration: PGConfiguration, size: Int, name: String = "default", logger: Logger = Logger(label: "pg.pool"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory, checksIdleConnections: Bool
    ) {
        self.configuration = configuration
        self.size = max(1, size)
        self.name = name
        self.logger = logger
        metrics = PGPoolMetrics(pool: name, factory: metricsFactory)
        self.checksIdleConnections = checksIdleConnections
        slots = (0..<max(1, size)).map { Slot(index: $0) }
        state = Mutex(State(free: Array((0..<max(1, size)).reversed()), open: Array(repeating: false, count: max(1, size))))
        state.withLock { $0.publish(metrics) }
    }

    deinit {
        for slot in slots { slot.worker.stop() }
    }

    /// Runs `body` with a connection of its own, on one of the pool's threads.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let index = try await acquire()
        defer { release(index) }
        let slot = slots[index]
        let cancellation = Cancellation()
        return try await withTaskCancellationHandler {
            try await slot.worker.run {
                let connection = try self.usableConnection(slot)
                try cancellation.attach(connection.cancelToken)
                defer {
                    cancellation.detach()
                    if !connection.isIdle {
                        connection.rollbackQuietly()
                        if !connection.isIdle {
                            self.logger.debug("dropping a connection that did not return idle")
                            self.metrics.lostInUse.increment()
                            self.setConnection(nil, of: slot)
                        }
                    }
                }
                return try body(connection)
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// Finishes every connection and stops the threads; waiting and later callers get a `.connection` error.
    public func close() async {
        let waiters = state.withLock { state in
            state.closed = true
            defer {
                state.waiters.removeAll()
                state.publish(metrics)
            }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume(throwing: Self.closedError) }
        // Wait for the connections in use to come back, then close them on their own threads.
        while state.withLock({ $0.free.count }) < size {
            try? await Task.sleep(for: .milliseconds(5))
        }
        for slot in slots {
            try? await slot.worker.run { self.setConnection(nil, of: slot) }
            slot.worker.stop()
        }
    }

    static let closedError = PGError(kind: .connection, message: "the connection pool is closed")

    // MARK: Slots

    /// The slot's connection if it can be vouched for, else a new one. Runs on the slot's thread.
    private func usableConnection(_ slot: Slot) throws -> PGConnection {
        if let existing = slot.connection {
            if checksIdleConnections ? existing.checkAlive() : existing.isIdle { return existing }
            logger.debug("replacing a lost connection")
            metrics.lostIdle.increment()
            setConnection(nil, of: slot)
        }
        let connection = try PGConnection(configuration: configuration)
        connection.metrics = metrics.connection
        metrics.opened.increment()
        setConnection(connection, of: slot)
        return connection
    }

    /// Runs on the slot's thread; a connection set to nil is finished (`PQfinish`) here.
    private func setConnection(_ connection: PGConnection?, of slot: Slot) {
        slot.connection = connection
        state.withLock { state in
            state.open[slot.index] = connection != nil
            state.publish(metrics)
        }
    }

    private func acquire() async throws -> Int {
        try Task.checkCancellation()
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, Error>) in
                let immediate: Result<Int, Error>? = state.withLock { state in
                    if state.closed { return .failure(Self.closedError) }
                    if state.cancelledWaiters.remove(id) != nil { return .failure(CancellationError()) }
                    defer { state.publish(metrics) }
                    if let index = state.free.popLast() { return .success(index) }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Int, Error>? in
                if let position = state.waiters.firstIndex(where: { $0.id == id }) {
                    defer { state.publish(metrics) }
                    return state.waiters.remove(at: position).continuation
                }
                state.cancelledWaiters.insert(id)
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release(_ index: Int) {
        let next = state.withLock { state -> CheckedContinuation<Int, Error>? in
            // A cancel that raced with a successful acquire leaves its id behind; it is harmless but kept small.
            if state.cancelledWaiters.count > 1024 { state.cancelledWaiters.removeAll() }
            defer { state.publish(metrics) }
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.free.append(index)
            return nil
        }
        next?.resume(returning: index)
    }
}

/// Ties one task's cancellation to the connection it is using at the moment.
private final class Cancellation: Sendable {
    private let state = Mutex<(cancelled: Bool, token: PGCancelToken?)>((false, nil))

    func attach(_ token: PGCancelToken) throws {
        try state.withLock { state in
            if state.cancelled {
                throw PGError(kind: .cancelled, message: "the task was cancelled before it got a connection")
            }
            token.reset()
            state.token = token
        }
    }

    func detach() {
        state.withLock { $0.token = nil }
    }

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            state.token?.send()
        }
    }
}
