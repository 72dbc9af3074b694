import CLibPQ
import Foundation
import Synchronization

/// One libpq connection. Not thread-safe: use it from one thread at a time (a ``PGPool`` guarantees that).
///
/// ```swift
/// let connection = try PGConnection(configuration: try PGConfiguration(url: url))
/// let rows = try connection.query("SELECT name FROM grants.organisation WHERE country = \(country)")
/// for row in rows { print(try row.decode(String.self, column: 0)) }
/// ```
public final class PGConnection {
    let handle: OpaquePointer
    /// Cancels the running statement from another thread; also remembers that a cancel was asked for.
    let cancelToken: PGCancelToken
    /// Set when the connection must not be reused (lost, or left mid-protocol).
    public private(set) var isBroken = false
    /// Set by libpq's notice receiver; kept alive by the connection for as long as libpq may call it.
    let sessionEnd = PGSessionEnd()
    /// Where statement and transaction durations go: set by the pool that owns the connection, when metrics are on.
    var metrics: PGConnectionMetrics?
    /// The statements this session has prepared (``queryPrepared(_:)``).
    var preparedStatements = PGPreparedStatements()

    /// Connects with `PQconnectdbParams`. On failure the half-made connection is finished once and a
    /// `.connection` error (without the password) is thrown.
    public init(configuration: PGConfiguration) throws {
        let keywords = configuration.parameters.map { strdup($0.keyword) }
        let values = configuration.parameters.map { strdup($0.value) }
        defer {
            for pointer in keywords { free(pointer) }
            for pointer in values { free(pointer) }
        }
        let expand: Int32 = configuration["dbname"]?.contains("://") == true ? 1 : 0
        let raw: OpaquePointer? = (keywords.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { k in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, expand)
            }
        }
        guard let raw else { throw PGError(kind: .connection, message: "out of memory creating a connection") }
        guard PQstatus(raw) == CONNECTION_OK else {
            let error = PGError.connection(raw)
            PQfinish(raw)
            throw error
        }
        handle = raw
        cancelToken = PGCancelToken(handle: raw)
        // Server notices (NOTICE, WARNING) would otherwise go to stderr of whatever program embeds this; the
        // receiver keeps only whether the server ended the session while the connection was idle.
        PQsetNoticeReceiver(raw, PGSessionEnd.receiver, Unmanaged.passUnretained(sessionEnd).toOpaque())
    }

    deinit { PQfinish(handle) }

    /// The server's process id for this session (useful to `pg_terminate_backend` it in tests).
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// The server version as an integer, e.g. 150018.
    public var serverVersion: Int32 { PQserverVersion(handle) }

    /// Whether the connection is open and idle outside a transaction: the only state a pool takes back.
    public var isIdle: Bool {
        !isBroken && PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// Whether a transaction is open on this connection.
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    func markBroken() { isBroken = true }

    // MARK: Statements

    /// Runs a statement and returns its whole result (use ``forEachRow(_:_:)`` for large reads). Inside
    /// ``preparingStatements(_:)``, as a prepared statement of the session (``queryPrepared(_:)``).
    @discardableResult
    public func query(_ query: PGQuery) throws -> PGResult {
        if preparedStatements.preferred { return try queryPrepared(query) }
        return try unprepared(query)
    }

    /// The statement parsed and planned for this call alone (the unnamed statement of the extended protocol).
    func unprepared(_ query: PGQuery) throws -> PGResult {
        let started = statementStarts()
        defer { statementEnded(started) }
        try checkCancelled(query)
        let result = try withParameters(query) { count, types, values, lengths, formats in
            PQexecParams(handle, query.sql, count, types, values, lengths, formats, PGFormat.binary.rawValue)
        }
        return try check(result, query: query.sql)
    }

    /// Sends `query`, runs `meanwhile` while the server executes it, then waits for the query's result: the
    /// client's own work overlaps the server's instead of following it. `meanwhile` must not use this connection.
    /// The query's error, if any, is thrown first; else `meanwhile`'s.
    ///
    /// ```swift
    /// let (rows, next) = try connection.query("INSERT … RETURNING id") { nextStatementsArrays() }
    /// ```
    public func query<T>(_ query: PGQuery, meanwhile: () throws -> T) throws -> (result: PGResult, meanwhile: T) {
        let started = statementStarts()
        defer { statementEnded(started) }
        try checkCancelled(query)
        let sent = try withParameters(query) { count, types, values, lengths, formats in
            PQsendQueryParams(handle, query.sql, count, types, values, lengths, formats, PGFormat.binary.rawValue)
        }
        guard sent == 1 else { throw lost(query.sql) }
        let value = Result { try meanwhile() }
        let first = PQgetResult(handle)
        drainResults()
        let result = try check(first, query: query.sql)
        return (result, try value.get())
    }

    /// Runs a statement for its effect; returns the number of rows affected.
    @discardableResult
    public func execute(_ query: PGQuery) throws -> Int {
        try self.query(query).affectedRows
    }

    /// Runs one or more `;`-separated statements through the simple protocol, without parameters
    /// (migrations, `BEGIN`, `SET LOCAL`). Never pass input-derived text.
    public func execute(unsafeScript sql: String) throws {
        let started = statementStarts()
        defer { statementEnded(started) }
        try checkCancelled(nil)
        guard let result = PQexec(handle, sql) else { throw lost(nil) }
        _ = try check(result, query: String(sql.prefix(200)))
    }

    /// Streams the rows of a query one at a time (libpq single-row mode), so memory stays flat.
    /// Returns the number of rows.
    @discardableResult
    public func forEachRow(_ query: PGQuery, _ body: (PGRow) throws -> Void) throws -> Int {
        let started = statementStarts()
        defer { statementEnded(started) }
        try checkCancelled(query)
        let sent = try withParameters(query) { count, types, values, lengths, formats in
            PQsendQueryParams(handle, query.sql, count, types, values, lengths, formats, PGFormat.binary.rawValue)
        }
        guard sent == 1 else { throw lost(query.sql) }
        guard PQsetSingleRowMode(handle) == 1 else {
            drainResults()
            throw PGError(kind: .usage, message: "could not enter single-row mode", query: query.sql)
        }
        var rows = 0
        var failure: Error?
        while let raw = PQgetResult(handle) {
            let status = PQresultStatus(raw)
            if failure != nil {
                PQclear(raw)
                continue
            }
            if status == PGRES_SINGLE_TUPLE {
                let result = PGResult(raw)
                do {
                    // A cancel asked for while rows are still arriving stops here, not after the rows already on
                    // their way: the server may have sent thousands before it saw the cancel.
                    try checkCancelled(query)
                    try body(PGRow(result: result, index: 0))
                    rows += 1
                } catch {
                    failure = error
                    // Stop the server from sending the rest; what is already in flight is discarded above.
                    requestServerCancel()
                }
            } else if status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK {
                PQclear(raw)
            } else {
                failure = PGError.from(result: raw, query: query.sql)
                PQclear(raw)
            }
        }
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
        if let failure { throw failure }
        return rows
    }

    // MARK: Internals

    /// The start of a statement, when its duration is recorded.
    func statementStarts() -> ContinuousClock.Instant? {
        metrics == nil ? nil : .now
    }

    func statementEnded(_ started: ContinuousClock.Instant?) {
        if let started { metrics?.recordStatement(since: started) }
    }

    func checkCancelled(_ query: PGQuery?) throws(PGError) {
        if cancelToken.isRequested {
            throw PGError(kind: .cancelled, message: "cancelled before the statement was sent", query: query?.sql)
        }
        if isBroken {
            throw PGError(kind: .connection, message: "the connection was lost earlier and cannot be reused", query: query?.sql)
        }
    }

    func lost(_ query: String?) -> PGError {
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
        return PGError.connection(handle, query: query)
    }

    func check(_ result: OpaquePointer?, query: String?) throws(PGError) -> PGResult {
        guard let result else { throw lost(query) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE, PGRES_EMPTY_QUERY:
            return PGResult(result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            PQclear(result)
            isBroken = true
            throw PGError(kind: .usage, message: "COPY needs copyIn/copyOut, not query/execute", query: query)
        default:
            var error = PGError.from(result: result, query: query)
            PQclear(result)
            if PQstatus(handle) != CONNECTION_OK {
                isBroken = true
                error.kind = .connection
            }
            if error.sqlState == .queryCanceled, cancelToken.isRequested { error.kind = .cancelled }
            throw error
        }
    }

    func drainResults() {
        while let raw = PQgetResult(handle) { PQclear(raw) }
    }

    func requestServerCancel() {
        guard let cancel = PQgetCancel(handle) else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, 256)
        PQfreeCancel(cancel)
    }

    /// Lays the bindings out as the C arrays `PQexecParams` takes. Text values must be NUL-terminated for
    /// libpq, so a text value that itself holds a NUL would be cut short silently: that is refused instead.
    func withParameters<R>(
        _ query: PGQuery,
        _ body: (
            Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?
        ) throws -> R
    ) throws -> R {
        let bindings = query.bindings
        if bindings.isEmpty { return try body(0, nil, nil, nil, nil) }
        var storage: [UInt8] = []
        storage.reserveCapacity(bindings.reduce(0) { $0 + ($1.bytes?.count ?? 0) + 1 })
        var offsets: [Int?] = []
        var lengths: [Int32] = []
        for (index, binding) in bindings.enumerated() {
            guard let bytes = binding.bytes else {
                offsets.append(nil)
                lengths.append(0)
                continue
            }
            if binding.format == .text ? bytes.contains(0) : binding.isTextArrayWithNUL {
                throw PGError(
                    kind: .usage, message: "parameter $\(index + 1) holds a NUL character, which PostgreSQL text cannot store",
                    query: query.sql)
            }
            guard bytes.count < Int32.max else {
                throw PGError(kind: .usage, message: "parameter $\(index + 1) is larger than 2 GiB", query: query.sql)
            }
            offsets.append(storage.count)
            lengths.append(Int32(bytes.count))
            storage += bytes
            storage.append(0)
        }
        let types = bindings.map { Oid($0.type.rawValue) }
        let formats = bindings.map { $0.format.rawValue }
        return try storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset.map { (base + $0).assumingMemoryBound(to: CChar.self) }
            }
            return try body(Int32(bindings.count), types, values, lengths, formats)
        }
    }
}

/// Cancels the statement running on one connection, from any thread: libpq documents `PQcancel` as safe to
/// call from another thread with its own `PGcancel` object.
final class PGCancelToken: Sendable {
    // The PGcancel object is created once, used only through PQcancel and freed in deinit.
    private nonisolated(unsafe) let cancel: OpaquePointer?
    private let requested = Atomic<Bool>(false)

    init(handle: OpaquePointer) {
        cancel = PQgetCancel(handle)
    }

    deinit { if let cancel { PQfreeCancel(cancel) } }

    var isRequested: Bool { requested.load(ordering: .acquiring) }

    func reset() { requested.store(false, ordering: .releasing) }

    /// Marks the connection's work as cancelled and asks the server to stop the running statement.
    func send() {
        requested.store(true, ordering: .releasing)
        guard let cancel else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, 256)
    }
}
