import Foundation
import Synchronization

extension Reports {
    /// Starts an export and returns its bytes as an async sequence of chunks, for consumers that write
    /// asynchronously: an HTTP response body, a socket, an upload.
    ///
    /// It returns once the export has produced its first chunk, or has finished, so an error that comes
    /// before any byte (the database is down, a filter the server refuses) is thrown here, where a caller can
    /// still choose a status code. Errors after that end the sequence with the error.
    ///
    /// Memory stays flat: the export runs on a pool connection and waits while `buffering` chunks (64 KiB
    /// each) are not yet taken. When the consumer stops early (it is cancelled, or drops the sequence and its
    /// iterator), the export is cancelled on the server and its connection goes back to the pool. A consumer
    /// that stays but stops reading holds the connection and its snapshot open, as any slow client of a
    /// streaming query does; give the consumer a timeout if that matters (an HTTP server's idle timeout does).
    ///
    /// ```swift
    /// let chunks = try await service.reports.disbursementStream(ReportFilter(round: "2021:2"), format: .csv)
    /// for try await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
    /// ```
    public func disbursementStream(
        _ filter: ReportFilter, format: DisbursementFormat, options: ExportOptions = ExportOptions(), buffering: Int = 4
    ) async throws(GrantsError) -> ExportStream {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let gate = ExportGate(capacity: max(1, buffering))
        let service = service
        let task = Task {
            do {
                let output = ReportOutput.sink { chunk in
                    try gate.waitForRoom()
                    gate.markStarted(nil)
                    continuation.yield(chunk)
                }
                try await service.reports.disbursements(filter, format: format, options: options, to: output)
                gate.markStarted(nil)
                continuation.finish()
            } catch {
                gate.markStarted(error)
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in
            gate.cancel()
            task.cancel()
        }
        let lifetime = ExportLifetime(gate: gate, task: task)
        do {
            try await withTaskCancellationHandler {
                try await gate.started()
            } onCancel: {
                gate.cancel()
                task.cancel()
            }
        } catch {
            throw DatabaseRules.translate(error)
        }
        return ExportStream(stream: stream, lifetime: lifetime)
    }
}

/// The chunks of a running export (see ``Reports/disbursementStream(_:format:options:buffering:)``).
/// Iterate it once.
///
/// ```swift
/// let chunks = try await service.reports.disbursementStream(ReportFilter(), format: .json)
/// var bytes = 0
/// for try await chunk in chunks { bytes += chunk.count }
/// ```
public struct ExportStream: AsyncSequence, Sendable {
    /// A chunk of the export's bytes, about 64 KiB (the last one shorter).
    ///
    /// ```swift
    /// let first: [UInt8]? = try await chunks.first { _ in true }
    /// ```
    public typealias Element = [UInt8]
    let stream: AsyncThrowingStream<[UInt8], any Error>
    let lifetime: ExportLifetime

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), lifetime: lifetime)
    }

    /// Takes the chunks in order; each one taken lets the export produce another.
    ///
    /// ```swift
    /// var iterator = chunks.makeAsyncIterator()
    /// while let chunk = try await iterator.next() { try await socket.write(chunk) }
    /// ```
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
        let lifetime: ExportLifetime

        public typealias Failure = GrantsError

        public mutating func next() async throws(GrantsError) -> [UInt8]? {
            let chunk: [UInt8]?
            do {
                chunk = try await base.next()
            } catch {
                throw DatabaseRules.translate(error)
            }
            if chunk != nil { lifetime.gate.release() }
            return chunk
        }
    }
}

/// Cancels the export when the last copy of its stream and iterator is gone, so an export nobody reads
/// does not hold a pool connection.
final class ExportLifetime: Sendable {
    let gate: ExportGate
    let task: Task<Void, Never>

    init(gate: ExportGate, task: Task<Void, Never>) {
        self.gate = gate
        self.task = task
    }

    deinit {
        gate.cancel()
        task.cancel()
    }
}

/// Back-pressure between the exporting pool thread (which may block) and the async consumer, and the
/// one-time signal that the export has started.
final class ExportGate: Sendable {
    private let room: DispatchSemaphore
    private let cancelled = Atomic<Bool>(false)
    private let state = Mutex<StartState>(.waiting(nil))

    enum StartState {
        case waiting(CheckedContinuation<Void, any Error>?)
        case started(error: (any Error)?)
    }

    init(capacity: Int) {
        // Created at 0 and raised: libdispatch traps when a semaphore is freed below its initial value,
        // which an export abandoned with chunks in flight would otherwise do.
        room = DispatchSemaphore(value: 0)
        for _ in 0..<capacity { room.signal() }
    }

    /// On the exporting thread: blocks until the consumer has room for another chunk.
    func waitForRoom() throws {
        room.wait()
        if cancelled.load(ordering: .acquiring) {
            room.signal()  // let any other waiter see the cancellation too
            throw CancellationError()
        }
    }

    /// The consumer took a chunk.
    func release() { room.signal() }

    func cancel() {
        cancelled.store(true, ordering: .releasing)
        room.signal()
        markStarted(CancellationError())
    }

    /// The first chunk is ready, or the export ended (with `error` if it failed). Only the first call counts.
    func markStarted(_ error: (any Error)?) {
        let waiter: CheckedContinuation<Void, any Error>? = state.withLock { state in
            guard case .waiting(let waiter) = state else { return nil }
            state = .started(error: error)
            return waiter
        }
        if let error { waiter?.resume(throwing: error) } else { waiter?.resume() }
    }

    func started() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: (any Error)?? = state.withLock { state in
                switch state {
                case .waiting:
                    state = .waiting(continuation)
                    return nil
                case .started(let error):
                    return .some(error)
                }
            }
            guard let outcome else { return }
            if let error = outcome { continuation.resume(throwing: error) } else { continuation.resume() }
        }
    }
}
