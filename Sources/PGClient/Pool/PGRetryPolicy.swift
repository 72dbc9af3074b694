/// When a transaction that hit a serialization failure or deadlock (40001/40P01) is tried again. A
/// read-only transaction whose connection was lost is also tried once more on a new connection. (A transaction
/// whose connection was gone before BEGIN completed never ran: the pool starts it again, outside this policy.)
///
/// ```swift
/// let pool = PGPool(configuration: configuration, size: 8)
/// try await pool.transaction(isolation: .serializable, retry: PGRetryPolicy(maxAttempts: 20, maxDelay: .seconds(1))) { connection in
///     try connection.execute("UPDATE counter SET n = n + 1")
/// }
/// ```
public struct PGRetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 8, baseDelay: Duration = .milliseconds(2), maxDelay: Duration = .milliseconds(250)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let `default` = PGRetryPolicy()
    public static let never = PGRetryPolicy(maxAttempts: 1)

    /// Exponential backoff with full jitter, capped.
    func delay(afterAttempt attempt: Int) -> Duration {
        let exponent = min(attempt - 1, 16)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0...max(nanos, 1)))
    }
}
