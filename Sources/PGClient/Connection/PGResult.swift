import CLibPQ

/// The whole result of a statement, rows in binary format. Iterate it for ``PGRow``s.
///
/// ```swift
/// let result = try connection.query("SELECT reference, awarded FROM grants.grant")
/// for row in result {
///     let (reference, awarded) = try row.decode((String, Int64).self)
/// }
/// ```
public final class PGResult: RandomAccessCollection {
    let raw: OpaquePointer
    public let count: Int
    public let columnCount: Int

    init(_ raw: OpaquePointer) {
        self.raw = raw
        count = Int(PQntuples(raw))
        columnCount = Int(PQnfields(raw))
    }

    deinit { PQclear(raw) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> PGRow { PGRow(result: self, index: position) }

    /// The rows an INSERT/UPDATE/DELETE touched (0 for other statements).
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(raw))) ?? 0 }

    /// The command tag, e.g. `INSERT 0 3` or `ROLLBACK`.
    public var commandTag: String { String(cString: PQcmdStatus(raw)) }

    public func columnName(_ column: Int) -> String {
        PQfname(raw, Int32(column)).map { String(cString: $0) } ?? "?"
    }

    /// The index of a named column. A result of many rows remembers its columns' names, so that decoding by
    /// name costs a dictionary lookup per cell rather than libpq's copy-and-compare in `PQfnumber`.
    public func columnIndex(_ name: String) -> Int? {
        if count > 1 {
            if columnIndexes == nil {
                var indexes: [String: Int] = [:]
                for column in 0..<columnCount where indexes[columnName(column)] == nil { indexes[columnName(column)] = column }
                columnIndexes = indexes
            }
            if let index = columnIndexes?[name] { return index }
        }
        let index = Int(PQfnumber(raw, name))
        return index >= 0 ? index : nil
    }

    private var columnIndexes: [String: Int]?

    /// The only row, or `nil` when there is none; more than one is a usage error.
    public func single() throws -> PGRow? {
        guard count <= 1 else { throw PGError(kind: .usage, message: "expected at most one row, got \(count)") }
        return first
    }
}

/// One row of a ``PGResult``.
///
/// ```swift
/// for row in try connection.query("SELECT reference, amount FROM grants.grant") {
///     let (reference, amount) = try row.decode((String, Int64).self)
/// }
/// ```
public struct PGRow {
    let result: PGResult
    let index: Int

    public var columnCount: Int { result.columnCount }

    public func cell(_ column: Int) throws -> PGCell {
        guard column >= 0, column < result.columnCount else {
            throw PGError(kind: .decoding, message: "no column \(column); the row has \(result.columnCount)")
        }
        let raw = result.raw
        let row = Int32(index)
        let col = Int32(column)
        let bytes: UnsafeRawBufferPointer?
        if PQgetisnull(raw, row, col) == 1 {
            bytes = nil
        } else {
            bytes = UnsafeRawBufferPointer(start: PQgetvalue(raw, row, col), count: Int(PQgetlength(raw, row, col)))
        }
        return PGCell(column: column, type: PGType(rawValue: UInt32(PQftype(raw, col))), source: result, bytes: bytes)
    }

    /// Decodes one column by position. (Inlinable: specialised in the caller for each type it decodes.)
    @inlinable public func decode<T: PGDecodable>(_ type: T.Type = T.self, column: Int) throws -> T {
        try T(pgCell: cell(column))
    }

    /// Decodes one column by name.
    public func decode<T: PGDecodable>(_ type: T.Type = T.self, column name: String) throws -> T {
        try T(pgCell: cell(column(name)))
    }

    /// The position of a named column. To decode many rows, find their columns' positions once and decode each
    /// row by position: a lookup by name hashes the name every time.
    public func column(_ name: String) throws -> Int {
        guard let column = result.columnIndex(name) else {
            throw PGError(kind: .decoding, message: "no column named \(name)")
        }
        return column
    }

    /// Decodes the leading columns as a tuple: `try row.decode((String, Int64?).self)`.
    public func decode<each T: PGDecodable>(_ types: (repeat each T).Type) throws -> (repeat each T) {
        var column = 0
        func next<C: PGDecodable>(_: C.Type) throws -> C {
            defer { column += 1 }
            return try C(pgCell: cell(column))
        }
        return (repeat try next((each T).self))
    }
}
