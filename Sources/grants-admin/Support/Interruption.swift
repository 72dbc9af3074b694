import Foundation
import Synchronization

/// SIGINT (Ctrl-C) and SIGTERM stop a command promptly and cleanly.
///
/// The command runs as a task of its own. A signal cancels that task: the pool cancels the query on the server
/// (a transaction that was not committed is rolled back), row and COPY loops stop at their next row, and the
/// command unwinds through its own clean-up (an `--output` file's temporary file).
/// Then the process says so in one line on stderr and exits 130 (SIGINT) or 143 (SIGTERM). A second signal
/// does not wait for that: it removes the output's temporary file and exits at once.
///
/// The handler only writes the signal's number into a pipe (async-signal-safe); a thread of its own reads
/// the pipe and does the rest.
enum Interruption {
    /// The first signal received, 0 while there is none.
    private static let received = Atomic<Int32>(0)
    private static let state = Mutex<(task: Task<Void, any Error>?, cleanups: [Int: @Sendable () -> Void], next: Int)>(
        (nil, [:], 0))
    // Written once in `install()` before a handler can run; read by the handler.
    private nonisolated(unsafe) static var pipeWriter: Int32 = -1

    static let signals: [Int32] = [SIGINT, SIGTERM]

    /// The signal that interrupted the command, if one did.
    static var signal: Int32? {
        let value = received.load(ordering: .acquiring)
        return value == 0 ? nil : value
    }

    /// The contract's exit code for a signal: 128 + its number (130 for SIGINT, 143 for SIGTERM).
    static func exitCode(_ signal: Int32) -> Int32 { 128 + signal }

    static func name(_ signal: Int32) -> String { signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)" }

    /// The one line said on stderr when a signal stopped the command.
    static func message(_ signal: Int32, finished: Bool) -> String {
        finished
            ? "interrupted by \(name(signal)) as the command finished: what it did was done before the signal"
            : "interrupted by \(name(signal)): stopped; nothing it had not committed was kept"
    }

    /// Installs the handlers and runs `body` as a task a signal cancels. Returns the body's outcome.
    static func run(_ body: @escaping @Sendable () async throws -> Void) async -> Result<Void, any Error> {
        install()
        let task = Task { try await body() }
        let cancelNow = state.withLock { state in
            state.task = task
            return received.load(ordering: .acquiring) != 0
        }
        if cancelNow { task.cancel() }
        return await task.result
    }

    /// Registers work that must happen even when a second signal ends the process at once (removing a
    /// temporary file); returns a key for ``forget(_:)`` once the work is no longer needed.
    static func onForcedExit(_ cleanup: @escaping @Sendable () -> Void) -> Int {
        state.withLock { state in
            state.next += 1
            state.cleanups[state.next] = cleanup
            return state.next
        }
    }

    static func forget(_ key: Int) {
        _ = state.withLock { $0.cleanups.removeValue(forKey: key) }
    }

    private static func install() {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        pipeWriter = fds[1]
        let reader = fds[0]
        let thread = Thread { watch(reader) }
        thread.stackSize = 1 << 18
        thread.start()
        for signal in signals {
            var action = sigaction()
            #if os(Linux)
                action.__sigaction_handler.sa_handler = { signal in
                    var byte = UInt8(truncatingIfNeeded: signal)
                    _ = write(Interruption.pipeWriter, &byte, 1)
                }
            #else
                action.__sigaction_u.__sa_handler = { signal in
                    var byte = UInt8(truncatingIfNeeded: signal)
                    _ = write(Interruption.pipeWriter, &byte, 1)
                }
            #endif
            sigemptyset(&action.sa_mask)
            // SA_RESTART: a blocking call on another thread (a write, libpq's poll) carries on instead of failing
            // with EINTR; the command stops through its task's cancellation instead.
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
    }

    /// The pipe's reader: the first signal cancels the command's task, a second one ends the process.
    private static func watch(_ reader: Int32) {
        var byte: UInt8 = 0
        while true {
            let count = read(reader, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return }
            let signal = Int32(byte)
            let (first, _) = received.compareExchange(expected: 0, desired: signal, ordering: .acquiringAndReleasing)
            if first {
                let task = state.withLock { $0.task }
                task?.cancel()
            } else {
                let cleanups = state.withLock { Array($0.cleanups.values) }
                for cleanup in cleanups { cleanup() }
                let line = "grants-admin: \(name(signal)) again: stopped at once\n"
                _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
                _exit(exitCode(received.load(ordering: .acquiring)))
            }
        }
    }
}
