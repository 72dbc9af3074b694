import CLibPQ
import Foundation

/// Feeds `COPY … FROM STDIN` in chunks; data goes to the server as it is written, never held whole.
///
/// ```swift
/// let rows = try connection.copyIn("COPY grants.import (reference, amount) FROM STDIN") { writer in
///     for (reference, amount) in items { try writer.write("\(reference)\t\(amount)\n") }
/// }
/// ```
public final class PGCopyWriter {
    let connection: PGConnection
    private var buffer: [UInt8] = []
    private let flushThreshold = 256 * 1024
    public private(set) var bytesWritten = 0

    init(connection: PGConnection) {
        self.connection = connection
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    /// Appends raw bytes (already in the COPY format the statement declares).
    public func write(_ bytes: some Sequence<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { try flush() }
    }

    /// Appends the UTF-8 bytes of a string.
    public func write(_ text: String) throws {
        try write(text.utf8)
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        // A cancelled task's COPY stops at its next chunk and is aborted: the server keeps none of it.
        try connection.checkCancelled(nil)
        let sent = buffer.withUnsafeBufferPointer { pointer in
            pointer.withMemoryRebound(to: CChar.self) {
                PQputCopyData(connection.handle, $0.baseAddress, Int32($0.count))
            }
        }
        guard sent == 1 else { throw connection.lost("COPY FROM STDIN") }
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}

extension PGConnection {
    /// Runs `COPY … FROM STDIN` and lets `produce` write the data. If `produce` throws, the COPY is aborted
    /// on the server (nothing of it is kept) and the producer's error is rethrown.
    /// Returns the number of rows the server loaded.
    ///
    /// ```swift
    /// try connection.copyIn("COPY t (id, name) FROM STDIN (FORMAT csv)") { writer in
    ///     for (id, name) in rows { try writer.write("\(id),\(csvQuoted(name))\n") }
    /// }
    /// ```
    @discardableResult
    public func copyIn(_ query: PGQuery, _ produce: (PGCopyWriter) throws -> Void) throws -> Int {
        let started = statementStarts()
        defer { statementEnded(started) }
        try startCopy(query, expecting: PGRES_COPY_IN)
        let writer = PGCopyWriter(connection: self)
        var producerError: Error?
        do {
            try produce(writer)
            try writer.flush()
        } catch {
            producerError = error
        }
        let ended = producerError == nil ? PQputCopyEnd(handle, nil) : PQputCopyEnd(handle, "aborted by the client")
        guard ended == 1 else { throw producerError ?? lost(query.sql) }
        var serverError: Error?
        var rows = 0
        while let raw = PQgetResult(handle) {
            if PQresultStatus(raw) == PGRES_COMMAND_OK {
                rows = Int(String(cString: PQcmdTuples(raw))) ?? 0
                PQclear(raw)
            } else {
                serverError = serverError ?? PGError.from(result: raw, query: query.sql)
                PQclear(raw)
            }
        }
        if PQstatus(handle) != CONNECTION_OK { markBroken() }
        if let producerError { throw producerError }
        if let serverError { throw serverError }
        return rows
    }

    /// Runs `COPY … TO STDOUT` and hands each chunk (one row in text/CSV formats) to `consume` as it
    /// arrives. If `consume` throws, the server is asked to cancel and the rest is discarded.
    /// Returns the number of rows.
    @discardableResult
    public func copyOut(_ query: PGQuery, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let started = statementStarts()
        defer { statementEnded(started) }
        try startCopy(query, expecting: PGRES_COPY_OUT)
        var consumerError: Error?
        while true {
            var chunk: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &chunk, 0)
            if length > 0, let chunk {
                if consumerError == nil {
                    do {
                        try checkCancelled(query)
                        try consume(UnsafeRawBufferPointer(start: chunk, count: Int(length)))
                    } catch {
                        consumerError = error
                        requestServerCancel()
                    }
                }
                PQfreemem(chunk)
            } else {
                break
            }
        }
        var serverError: Error?
        var rows = 0
        while let raw = PQgetResult(handle) {
            if PQresultStatus(raw) == PGRES_COMMAND_OK {
                rows = Int(String(cString: PQcmdTuples(raw))) ?? 0
            } else if serverError == nil {
                serverError = PGError.from(result: raw, query: query.sql)
            }
            PQclear(raw)
        }
        if PQstatus(handle) != CONNECTION_OK { markBroken() }
        if let consumerError { throw consumerError }
        if let serverError { throw serverError }
        return rows
    }

    private func startCopy(_ query: PGQuery, expecting status: ExecStatusType) throws {
        guard query.bindings.isEmpty else {
            throw PGError(
                kind: .usage, message: "COPY cannot take bound parameters; filter through a query or a temporary table", query: query.sql)
        }
        try checkCancelled(query)
        guard let raw = PQexec(handle, query.sql) else { throw lost(query.sql) }
        let got = PQresultStatus(raw)
        if got == status {
            PQclear(raw)
            return
        }
        defer { PQclear(raw) }
        if got == PGRES_FATAL_ERROR || got == PGRES_NONFATAL_ERROR || got == PGRES_BAD_RESPONSE {
            throw PGError.from(result: raw, query: query.sql)
        }
        throw PGError(kind: .usage, message: "the statement is not the expected COPY direction", query: query.sql)
    }
}
