/// A column whose value tends to repeat from one row to the next (a programme's name down a long export, a
/// list of theme codes): decoded once per run of equal bytes instead of once per row. A value already made is
/// handed out again when the cell's bytes and type are the ones it was made from, so a streamed export makes one
/// `String` (or `[String]`) per run of equal values and not one allocation per row. Keep one per column, for the
/// rows of one result.
///
/// ```swift
/// var programme = PGRepeatedValue<String>()
/// try connection.forEachRow(query) { row in
///     let name = try programme.decode(row, column: 1)
/// }
/// ```
public struct PGRepeatedValue<Value: PGDecodable> {
    @usableFromInline var bytes: [UInt8] = []
    @usableFromInline var type: PGType?
    @usableFromInline var value: Value?

    @inlinable public init() {}

    /// The column's value in `row`: the last one decoded when the cell holds the same bytes, else decoded anew.
    /// NULL is never kept: it is decoded each time (as `Value` says, e.g. an error for a non-optional).
    /// (Inlinable: specialised in the caller for each type it decodes.)
    @inlinable public mutating func decode(_ row: PGRow, column: Int) throws -> Value {
        let cell = try row.cell(column)
        guard let cellBytes = cell.bytes else { return try Value(pgCell: cell) }
        if let value, type == cell.type, cellBytes.count == bytes.count,
            bytes.withUnsafeBytes({ $0.elementsEqual(cellBytes) })
        {
            return value
        }
        let decoded = try Value(pgCell: cell)
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: cellBytes)
        type = cell.type
        value = decoded
        return decoded
    }
}
