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
    /// The body's own error is what you catch (not wrapped) unless BEGIN or COMMIT itself failed; a ROLLBACK
    /// that fails afterwards marks the connection broken and never replaces the original error.
    /// Retrying on serialization failures is the pool's job (``PGPool/transaction(isolation:readOnly:retry:_:)``).
    @discardableResult
    public func transaction<T>(
        isolation: PGIsolation = .readCommitted, readOnly: Bool = false, _ body: () throws -> T
    ) throws -> T {
        guard !isInTransaction else {
            throw PGError(kind: .usage, message: "a transaction is already open on this connection")
        }
        try execute(unsafeScript: "BEGIN ISOLATION LEVEL \(isolation.rawValue)\(readOnly ? " READ ONLY" : "")")
        let value: T
        do {
            value = try body()
        } catch {
            rollbackQuietly()
            throw error
        }
        let commit: PGResult
        do {
            guard let raw = PQexec(handle, "COMMIT") else { throw lost("COMMIT") }
            commit = try check(raw, query: "COMMIT")
        } catch {
            if isInTransaction { rollbackQuietly() }
            throw error
        }
        if commit.commandTag == "ROLLBACK" {
            // The server turns COMMIT of a failed transaction into ROLLBACK: an error was swallowed in the body.
            throw PGError(
                kind: .usage, sqlState: .inFailedSQLTransaction,
                message: "the transaction had failed and was rolled back at COMMIT (an error was caught inside it)")
        }
        return value
    }

    /// Rolls back what is open; if even that fails, the connection is marked broken so no pool reuses it.
    func rollbackQuietly() {
        guard PQstatus(handle) == CONNECTION_OK, isInTransaction else {
            if PQstatus(handle) != CONNECTION_OK { markBroken() }
            return
        }
        guard let raw = PQexec(handle, "ROLLBACK") else {
            markBroken()
            return
        }
        if PQresultStatus(raw) != PGRES_COMMAND_OK { markBroken() }
        PQclear(raw)
    }
}
