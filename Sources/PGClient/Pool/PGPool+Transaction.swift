extension PGPool {
    /// Runs `body` in a transaction on one of the pool's connections and retries it whole on serialization
    /// failures and deadlocks (40001/40P01, at any step, COMMIT included), as `retry` allows.
    ///
    /// A lost connection: when BEGIN itself failed for it, nothing of the body was sent, and the transaction is
    /// started again on a fresh connection, up to twice, reads and writes alike, whatever `retry` says. A loss
    /// later, in the body or at COMMIT, is ambiguous for a write (its COMMIT may have landed): a write is never run
    /// again then, and the caller gets the error. A read-only transaction changed nothing and is run once more on
    /// a new connection.
    ///
    /// Errors: a ``PGTransactionError`` for every failure of the transaction (the last attempt's, when it was
    /// retried), with a failure to get a connection for it (connect failed, pool closed, task cancelled before it
    /// had a connection) in ``PGTransactionError/beginError``; the body's own error is in
    /// ``PGTransactionError/closureError``. Only a task cancelled while it waits for a free connection or between
    /// attempts gets Swift's `CancellationError` instead.
    ///
    /// ```swift
    /// do {
    ///     try await pool.transaction(isolation: .serializable) { connection in
    ///         try connection.execute("UPDATE counter SET n = n + 1")
    ///     }
    /// } catch let error as PGTransactionError {
    ///     print(error.underlyingError)
    /// }
    /// ```
    @discardableResult
    public func transaction<T: Sendable>(
        isolation: PGIsolation = .readCommitted, readOnly: Bool = false, retry: PGRetryPolicy = .default,
        _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        var attempt = 1
        var restarts = 0
        while true {
            let failure: PGTransactionError
            var hadConnection = true
            do {
                return try await withConnection { connection in
                    try connection.transaction(isolation: isolation, readOnly: readOnly) { try body(connection) }
                }
            } catch let error as PGTransactionError {
                failure = error
            } catch let error as PGError {
                // No connection for the transaction: it could not begin.
                failure = PGTransactionError(beginError: error)
                hadConnection = false
            }
            guard let error = failure.pgError else { throw failure }
            if hadConnection, failure.beginError?.isConnectionLoss == true, restarts < Self.maxRestartsAfterLostBegin {
                // The session was gone before BEGIN completed (it ended while the connection sat idle), so nothing of
                // the body reached the server: starting again on a fresh connection is safe, for writes too. This is
                // not a retry of the transaction and takes none of the policy's attempts.
                logger.debug("starting a transaction again on a fresh connection", metadata: ["error": "\(error.message)"])
                metrics.retried(.lostBeforeBegin)
                restarts += 1
            } else if error.isTransient && attempt < retry.maxAttempts {
                logger.debug("retrying transaction", metadata: ["attempt": "\(attempt)", "sqlstate": "\(error.sqlState?.rawValue ?? "")"])
                metrics.retried(error.sqlState == .deadlockDetected ? .deadlock : .serializationFailure)
                try await Task.sleep(for: retry.delay(afterAttempt: attempt))
                attempt += 1
            } else if readOnly && error.isConnectionLoss && attempt == 1 && retry.maxAttempts > 1 {
                // A read-only transaction changed nothing, so it is safe to run again, once, on a new connection:
                // a server that ended the session (a restart, pg_terminate_backend) is not an error to the caller
                // if it is back. A write is never retried here, since its COMMIT may have landed.
                logger.debug("retrying a read-only transaction on a new connection", metadata: ["error": "\(error.message)"])
                metrics.retried(.readOnlyLost)
                attempt += 1
            } else {
                throw failure
            }
        }
    }

    /// How many times a transaction whose connection was lost before BEGIN completed is started again.
    static let maxRestartsAfterLostBegin = 2

    /// Runs `body`, which sends exactly one statement, outside a transaction block: the server runs that
    /// statement as a transaction of its own and commits it before it answers. One round trip, and no lock the
    /// statement takes is held while a reply travels to the client and a COMMIT comes back, which is what keeps a
    /// hot row (a round's totals) from queueing writers behind a busy client.
    ///
    /// Retried whole on serialization failures and deadlocks as `retry` allows, since a failed statement changed
    /// nothing. A lost connection is never retried: the statement may have committed. Errors are the statement's
    /// ``PGError``, or a ``PGError`` for a failure to get a connection.
    ///
    /// ```swift
    /// let id = try await pool.autocommit { connection in
    ///     try connection.query("SELECT grants_api.approve(…)")[0].decode(Int64.self, column: 0)
    /// }
    /// ```
    public func autocommit<T: Sendable>(
        retry: PGRetryPolicy = .default, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await withConnection { connection in
                    let start = ContinuousClock.now
                    do {
                        let result = try body(connection)
                        self.metrics.connection?.recordTransaction(since: start, .committed)
                        return result
                    } catch {
                        self.metrics.connection?.recordTransaction(since: start, .failed)
                        throw error
                    }
                }
            } catch let error as PGError where error.isTransient && attempt < retry.maxAttempts {
                logger.debug("retrying statement", metadata: ["attempt": "\(attempt)", "sqlstate": "\(error.sqlState?.rawValue ?? "")"])
                metrics.retried(error.sqlState == .deadlockDetected ? .deadlock : .serializationFailure)
                try await Task.sleep(for: retry.delay(afterAttempt: attempt))
                attempt += 1
            }
        }
    }
}
