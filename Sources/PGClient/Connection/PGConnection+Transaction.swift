import CLibPQ

/// A transaction isolation level.
///
/// ```swift
/// try connection.transaction(isolation: .repeatableRead, readOnly: true) {
///     let a = try connection.query("SELECT count(*) FROM grants.grant")   // both reads see one snapshot
///     let b = try connection.query("SELECT sum(amount) FROM grants.grant")
/// }
/// ```
public enum PGIsolation: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PGConnection {
    /// Runs `body` in one transaction: COMMIT when it returns, ROLLBACK when it throws.
    ///
    /// Every failure is a ``PGTransactionError`` that says which step failed; the body's own error is always
    /// wrapped, in ``PGTransactionError/closureError`` (``PGTransactionError/underlyingError`` unwraps it). A
    /// ROLLBACK that fails afterwards is kept in ``PGTransactionError/rollbackError``, never in place of the
    /// original error, and marks the connection broken so no pool reuses it.
    /// Retrying on serialization failures is the pool's job (``PGPool/transaction(isolation:readOnly:retry:_:)``).
    ///
    /// ```swift
    /// do {
    ///     try connection.transaction { try connection.execute("UPDATE grants.grant SET amount = \(amount) WHERE id = \(id)") }
    /// } catch {
    ///     print(error.underlyingError)   // error is a PGTransactionError
    /// }
    /// ```
    @discardableResult
    public func transaction<T>(
        isolation: PGIsolation = .readCommitted, readOnly: Bool = false, _ body: () throws -> T
    ) throws(PGTransactionError) -> T {
        guard !isInTransaction else {
            throw PGTransactionError(beginError: PGError(kind: .usage, message: "a transaction is already open on this connection"))
        }
        let started = metrics == nil ? nil : ContinuousClock.now
        var outcome = PGConnectionMetrics.Outcome.failed
        defer { if let started { metrics?.recordTransaction(since: started, outcome) } }
        do throws(PGError) {
            try checkCancelled(nil)
            try simple("BEGIN ISOLATION LEVEL \(isolation.rawValue)\(readOnly ? " READ ONLY" : "")")
        } catch {
            throw PGTransactionError(beginError: error)
        }
        let value: T
        do {
            value = try body()
        } catch {
            let rollbackError = rollback()
            if rollbackError == nil { outcome = .rolledBack }
            throw PGTransactionError(closureError: error, rollbackError: rollbackError)
        }
        do throws(PGError) {
            let commit = try simple("COMMIT")
            if commit.commandTag == "ROLLBACK" {
                // The server turns COMMIT of a failed transaction into ROLLBACK: an error was swallowed in the body.
                throw PGError(
                    kind: .usage, sqlState: .inFailedSQLTransaction,
                    message: "the transaction had failed and was rolled back at COMMIT (an error was caught inside it)")
            }
        } catch {
            throw PGTransactionError(rollbackError: isInTransaction ? rollback() : nil, commitError: error)
        }
        outcome = .committed
        return value
    }

    /// Rolls back what is open and returns what went wrong doing so; if ROLLBACK fails, the connection is marked
    /// broken so no pool reuses it. Nothing is sent (and nil returned) when no transaction is open or the session
    /// is already gone: the server discards an open transaction with its session.
    func rollback() -> PGError? {
        guard PQstatus(handle) == CONNECTION_OK else {
            markBroken()
            return nil
        }
        guard isInTransaction else { return nil }
        guard let raw = PQexec(handle, "ROLLBACK") else {
            markBroken()
            return lost("ROLLBACK")
        }
        defer { PQclear(raw) }
        guard PQresultStatus(raw) == PGRES_COMMAND_OK else {
            markBroken()
            var error = PGError.from(result: raw, query: "ROLLBACK")
            if PQstatus(handle) != CONNECTION_OK { error.kind = .connection }
            return error
        }
        return nil
    }

    /// Rolls back what is open, for a pool taking a connection back; a failure marks the connection broken.
    func rollbackQuietly() {
        _ = rollback()
    }

    /// Runs one statement of the transaction's own (BEGIN, COMMIT) through the simple protocol.
    @discardableResult
    private func simple(_ sql: String) throws(PGError) -> PGResult {
        guard let raw = PQexec(handle, sql) else { throw lost(sql) }
        return try check(raw, query: sql)
    }
}
