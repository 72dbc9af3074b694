import Dispatch
import Foundation
import Synchronization
import GrantsCore

/// Runs `body` over `0..<count` in contiguous chunks, one per core at once when there are at least `minimum` items
/// (else in one chunk, on the caller's thread), and gives the chunks' results in order.
///
/// A large manifest is decoded, checked and keyed this way: each grant stands alone, and the database is not yet working,
/// so the second core would otherwise idle.
package func inChunks<T: Sendable>(_ count: Int, minimum: Int = 2000, _ body: @Sendable (Range<Int>) -> T) -> [T] {
    let parts = count >= minimum ? max(1, min(Cores.available, 8)) : 1
    guard parts > 1 else { return [body(0..<count)] }
    let size = (count + parts - 1) / parts
    let results = Mutex<[Int: T]>([:])
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        let result = body((part * size)..<min(count, (part + 1) * size))
        results.withLock { $0[part] = result }
    }
    return results.withLock { found in (0..<parts).compactMap { found[$0] } }
}

enum Cores {
    /// The cores this process may run on.
    static let available = ProcessInfo.processInfo.activeProcessorCount
}
