import Foundation

/// Runs blocking work (libpq calls that may wait a long time, such as DROP DATABASE waiting for every backend
/// in the cluster) on a thread of its own, so it never holds one of the few threads of Swift's cooperative pool.
/// With two cores that pool has two threads: two tests blocked in DROP DATABASE would otherwise stop every other
/// test, including the one whose progress the DROP is waiting for.
public enum Blocking {
    @discardableResult
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}
