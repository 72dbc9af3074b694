import CLibPQ

/// The statements one session has prepared, by SQL text and parameter types, and whether it may prepare any.
struct PGPreparedStatements {
    struct Key: Hashable {
        let sql: String
        let types: [UInt32]
    }

    /// A bound on what one session keeps: the statements of a program are few, and anything beyond is run unprepared.
    static let limit = 64

    var names: [Key: String] = [:]
    var nextNumber = 1
    /// Whether this session is the server backend it says it is (see `PGConnection.sessionKeepsPreparedStatements`);
    /// nil until asked.
    var sessionIsDirect: Bool?
    /// Set while ``PGConnection/preparingStatements(_:)`` runs its body.
    var preferred = false
}

extension PGConnection {
    /// Runs `body` with every ``query(_:)`` it makes on this connection sent as a prepared statement of the session
    /// (see ``queryPrepared(_:)``). For bodies that run a fixed set of statements, such as one call of a database
    /// function per request.
    ///
    /// ```swift
    /// try connection.preparingStatements { try connection.query("SELECT * FROM grants_api.approve(…)") }
    /// ```
    public func preparingStatements<T>(_ body: () throws -> T) rethrows -> T {
        let outer = preparedStatements.preferred
        preparedStatements.preferred = true
        defer { preparedStatements.preferred = outer }
        return try body()
    }

    /// Runs `query` as a statement prepared on this session: the first call with a given SQL text (and parameter
    /// types) prepares it, later ones only bind and execute, so the server parses and plans it once per session
    /// instead of on every call. One round trip per call, like ``query(_:)``, after the first.
    ///
    /// Through a pooler that hands each transaction to any of its server sessions (pgbouncer in transaction mode),
    /// a statement prepared in one session would be missing in the next: there, and for a session past its limit
    /// of prepared statements, this is ``query(_:)``. A prepared statement that went missing (`DISCARD ALL`) or
    /// whose result type changed (a migration redefined the function) is prepared again, when the failed attempt
    /// left no transaction open.
    @discardableResult
    public func queryPrepared(_ query: PGQuery) throws -> PGResult {
        guard sessionKeepsPreparedStatements() else { return try unprepared(query) }
        let key = PGPreparedStatements.Key(sql: query.sql, types: query.bindings.map(\.type.rawValue))
        if let name = preparedStatements.names[key] {
            do {
                return try executePrepared(name, query)
            } catch let error as PGError where Self.preparedStatementIsStale(error) && !isInTransaction && !isBroken {
                preparedStatements.names[key] = nil
                if error.sqlState != .invalidSQLStatementName { try? execute(unsafeScript: "DEALLOCATE \(name)") }
            }
        }
        guard preparedStatements.names.count < PGPreparedStatements.limit else { return try unprepared(query) }
        let name = "pgclient_\(preparedStatements.nextNumber)"
        preparedStatements.nextNumber += 1
        try prepare(name, query)
        preparedStatements.names[key] = name
        return try executePrepared(name, query)
    }

    /// A prepared statement that must be prepared again: gone from the session, or planned for another result type.
    static func preparedStatementIsStale(_ error: PGError) -> Bool {
        error.sqlState == .invalidSQLStatementName
            || (error.sqlState == .featureNotSupported && error.message.contains("cached plan must not change result type"))
    }

    /// Whether statements prepared on this session stay there: the server's own backend answers (its process id is
    /// the one the connection was given), not a pooler that gave the client a process id of its own. Asked once.
    func sessionKeepsPreparedStatements() -> Bool {
        if let known = preparedStatements.sessionIsDirect { return known }
        guard !isInTransaction, let rows = try? unprepared("SELECT pg_catalog.pg_backend_pid()"), rows.count == 1,
            let pid = try? rows[0].decode(Int32.self, column: 0)
        else { return false }
        let direct = pid == PQbackendPID(handle)
        preparedStatements.sessionIsDirect = direct
        return direct
    }

    private func prepare(_ name: String, _ query: PGQuery) throws {
        let started = statementStarts()
        defer { statementEnded(started) }
        try checkCancelled(query)
        let types = query.bindings.map { Oid($0.type.rawValue) }
        let result = types.withUnsafeBufferPointer { types in
            PQprepare(handle, name, query.sql, Int32(types.count), types.baseAddress)
        }
        _ = try check(result, query: query.sql)
    }

    private func executePrepared(_ name: String, _ query: PGQuery) throws -> PGResult {
        let started = statementStarts()
        defer { statementEnded(started) }
        try checkCancelled(query)
        let result = try withParameters(query) { count, _, values, lengths, formats in
            PQexecPrepared(handle, name, count, values, lengths, formats, PGFormat.binary.rawValue)
        }
        return try check(result, query: query.sql)
    }
}
