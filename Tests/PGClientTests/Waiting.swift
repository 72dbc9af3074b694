import Foundation
import PGClient

// Waiting for the server in tests: bounded polls that fail loudly when the bound is reached, never a measure of
// how long something took.

/// Polls (bounded) until the backend `pid` has exited.
func waitUntilGone(_ pid: Int32, monitor: PGConnection) throws {
    for _ in 0..<2_000 {
        if try monitor.query("SELECT 1 FROM pg_stat_activity WHERE pid = \(pid)").count == 0 { return }
        usleep(5_000)
    }
    throw PGError(kind: .usage, message: "backend \(pid) still runs after 10 s")
}

/// Polls `condition` until it holds, for up to about 30 s: a bound for a stuck test, not a measurement.
func eventually(_ condition: () throws -> Bool) async throws -> Bool {
    for _ in 0..<3_000 {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try condition()
}

/// What `pg_stat_activity` says backend `pid` is doing: its state (`active`, `idle`, …) and what it waits for
/// (`PgSleep`, `ClientRead`, …); nil for pid 0 or a backend that is gone.
func backendActivity(_ pid: Int32, _ monitor: PGConnection) throws -> (state: String?, waitEvent: String?)? {
    guard pid != 0 else { return nil }
    return try monitor.query("SELECT state, wait_event FROM pg_stat_activity WHERE pid = \(pid)").first?.decode((String?, String?).self)
}
