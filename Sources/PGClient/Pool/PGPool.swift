import Foundation
import Logging
import Synchronization

/// A fixed set of connections for async callers. Each connection lives on a thread of the pool's own, so
/// blocking libpq calls never run on Swift's cooperative pool; a connection goes back only when idle, and
/// one that was lost is replaced on its next use. Cancelling the calling task cancels the running query.
///
/// ```swift
/// let pool = PGPool(configuration: try PGConfiguration(url: url), size: 4, logger: logger)
/// let count = try await pool.withConnection { connection in
///     try connection.query("SELECT count(*) FROM grants.grant").first!.decode(Int64.self, column: 0)
/// }
/// try await pool.transaction(isolation: .serializable) { connection in … }   // retried on 40001/40P01
/// await pool.close()
/// ```
public final class PGPool: Sendable {
    public let configuration: PGConfiguration
    public let size: Int
    let logger: Logger
    let checksIdleConnections: Bool
    private let slots: [Slot]
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var free: [Int]
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Int, Error>)] = []
        var cancelledWaiters: Set<UInt64> = []
        var nextWaiter: UInt64 = 0
        var closed = false
    }

    /// One connection and the thread it runs on.
    final class Slot: @unchecked Sendable {
        // @unchecked: `connection` is only read or written by jobs on `worker`, which runs one at a time.
        let worker: PGWorkerThread
        var connection: PGConnection?

        init(name: String) { worker = PGWorkerThread(name: name) }
    }

    public convenience init(configuration: PGConfiguration, size: Int = 4, logger: Logger = Logger(label: "pg.pool")) {
        self.init(configuration: configuration, size: size, logger: logger, checksIdleConnections: true)
    }

    /// `checksIdleConnections: false` hands out idle connections unchecked: only for tests of what happens when a
    /// lost session gets past the check.
    init(configuration: PGConfiguration, size: Int, logger: Logger = Logger(label: "pg.pool"), checksIdleConnections: Bool) {
        self.configuration = configuration
        self.size = max(1, size)
        self.logger = logger
        self.checksIdleConnections = checksIdleConnections
        slots = (0..<max(1, size)).map { Slot(name: "pg-pool-\($0)") }
        state = Mutex(State(free: Array((0..<max(1, size)).reversed())))
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
        let configuration = configuration
        let logger = logger
        let checksIdle = checksIdleConnections
        return try await withTaskCancellationHandler {
            try await slot.worker.run {
                let connection = try Self.usableConnection(slot, configuration: configuration, checksIdle: checksIdle, logger: logger)
                try cancellation.attach(connection.cancelToken)
                defer {
                    cancellation.detach()
                    if !connection.isIdle {
                        connection.rollbackQuietly()
                        if !connection.isIdle {
                            logger.debug("dropping a connection that did not return idle")
                            slot.connection = nil
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
            defer { state.waiters.removeAll() }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume(throwing: Self.closedError) }
        // Wait for the connections in use to come back, then close them on their own threads.
        while state.withLock({ $0.free.count }) < size {
            try? await Task.sleep(for: .milliseconds(5))
        }
        for slot in slots {
            try? await slot.worker.run { slot.connection = nil }
            slot.worker.stop()
        }
    }

    static let closedError = PGError(kind: .connection, message: "the connection pool is closed")

    // MARK: Slots

    private static func usableConnection(
        _ slot: Slot, configuration: PGConfiguration, checksIdle: Bool, logger: Logger
    ) throws -> PGConnection {
        if let existing = slot.connection {
            if checksIdle ? existing.checkAlive() : existing.isIdle { return existing }
            logger.debug("replacing a lost connection")
            slot.connection = nil
        }
        let connection = try PGConnection(configuration: configuration)
        slot.connection = connection
        return connection
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
                    if let index = state.free.popLast() { return .success(index) }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Int, Error>? in
                if let position = state.waiters.firstIndex(where: { $0.id == id }) {
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
