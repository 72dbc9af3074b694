/// Why a transaction failed, with each step's failure kept apart: BEGIN, the body, COMMIT, and a ROLLBACK that
/// failed as well. Every failure of ``PGConnection/transaction(isolation:readOnly:_:)`` is one of these, the
/// body's own error included (in ``closureError``), so there is one shape to handle; ``underlyingError`` is the
/// error that made the transaction fail, for code that only wants that.
///
/// A ROLLBACK that fails never hides the error that caused it: it is kept in ``rollbackError`` beside it (and the
/// connection is not reused).
///
/// ```swift
/// do {
///     try connection.transaction { try connection.execute("INSERT INTO t (id) VALUES (\(id))") }
/// } catch let error as PGTransactionError {
///     if let constraint = (error.underlyingError as? PGError)?.constraint { print("refused by \(constraint)") }
///     if let rollback = error.rollbackError { print("and ROLLBACK failed too: \(rollback)") }
/// }
/// ```
public struct PGTransactionError: Error, Sendable, CustomStringConvertible {
    /// BEGIN failed, so nothing of the body ran. Through ``PGPool/transaction(isolation:readOnly:retry:_:)``
    /// this is also where a failure to get a connection for the transaction is reported.
    public let beginError: PGError?
    /// What the body threw; the transaction was rolled back.
    public let closureError: (any Error)?
    /// ROLLBACK, after the body or COMMIT failed, failed as well. Nil when no ROLLBACK was needed, or when the
    /// session was already gone (the server discards an open transaction with its session).
    public let rollbackError: PGError?
    /// COMMIT failed (for instance a serialization failure under SERIALIZABLE, a deferred constraint, the
    /// connection lost: then whether the transaction landed is unknown), or the server turned COMMIT into ROLLBACK
    /// because an error had been caught inside the body (SQLSTATE 25P02).
    public let commitError: PGError?

    init(
        beginError: PGError? = nil, closureError: (any Error)? = nil, rollbackError: PGError? = nil, commitError: PGError? = nil
    ) {
        self.beginError = beginError
        self.closureError = closureError
        self.rollbackError = rollbackError
        self.commitError = commitError
    }

    /// The error that made the transaction fail: ``beginError``, else ``closureError``, else ``commitError``.
    public var underlyingError: any Error {
        if let beginError { return beginError }
        if let closureError { return closureError }
        if let commitError { return commitError }
        // Not reachable through this library: a ROLLBACK is only run after one of the above failed.
        return rollbackError ?? PGError(kind: .usage, message: "a transaction failed without a recorded cause")
    }

    /// `error`'s ``underlyingError`` when it is a `PGTransactionError`, else `error` itself: for code that handles
    /// errors from transactions and from elsewhere alike.
    ///
    /// ```swift
    /// catch {
    ///     if let pg = PGTransactionError.underlyingError(of: error) as? PGError, pg.isConnectionLoss { … }
    /// }
    /// ```
    public static func underlyingError(of error: any Error) -> any Error {
        (error as? PGTransactionError)?.underlyingError ?? error
    }

    /// The underlying error when it came from PostgreSQL (or the connection).
    var pgError: PGError? { underlyingError as? PGError }

    public var description: String {
        var parts: [String] = []
        if let beginError { parts.append("BEGIN failed: \(beginError)") }
        if let closureError { parts.append("the transaction's body failed: \(closureError)") }
        if let commitError { parts.append("COMMIT failed: \(commitError)") }
        if let rollbackError { parts.append("ROLLBACK failed as well: \(rollbackError)") }
        return "transaction failed; " + (parts.isEmpty ? "no cause recorded" : parts.joined(separator: "; "))
    }
}
