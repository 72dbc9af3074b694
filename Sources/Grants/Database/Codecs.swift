import PGClient

extension CalendarDate: PGCodable {
    public var pgBinding: PGBinding { PGBinding(type: .date, format: .text, bytes: Array(iso.utf8)) }
    public static var pgNullType: PGType { .date }

    public init(pgCell cell: PGCell) throws {
        let bytes = try cell.requireBytes(for: CalendarDate.self)
        guard cell.type == .date, bytes.count == 4 else { throw cell.mismatch(CalendarDate.self) }
        let days = Int32(bigEndian: bytes.loadUnaligned(as: Int32.self))
        do {
            // PostgreSQL counts from 2000-01-01, 10 957 days after 1970-01-01.
            self = try CalendarDate(daysSinceEpoch: Int(days) + 10_957)
        } catch {
            throw cell.mismatch(CalendarDate.self, "out of range")
        }
    }
}

extension Currency: PGCodable {
    public var pgBinding: PGBinding { rawValue.pgBinding }
    public init(pgCell cell: PGCell) throws {
        let text = try String(pgCell: cell)
        guard let currency = Currency(rawValue: text) else { throw cell.mismatch(Currency.self, text) }
        self = currency
    }
}

extension PGRow {
    /// An amount column and a currency column as one `Money`.
    func money(_ amount: String, currency: String = "currency") throws -> Money {
        Money(minorUnits: try decode(Int64.self, column: amount), currency: try decode(Currency.self, column: currency))
    }

    func enumValue<E: RawRepresentable<String>>(_ type: E.Type, column: String) throws -> E {
        try enumValue(type, column: self.column(column))
    }

    func enumValue<E: RawRepresentable<String>>(_ type: E.Type, column: Int) throws -> E {
        let cell = try cell(column)
        let raw = try String(pgCell: cell)
        guard let value = E(rawValue: raw) else {
            throw PGError(kind: .decoding, message: "column \(cell.columnName): unknown \(E.self) \(raw)")
        }
        return value
    }
}

/// Where a query's columns are in its result: looked up by name once, from the first row, then read by position
/// from every row (see `PGResult.decodeRows(_:)`).
protocol ResultColumns {
    init(_ row: PGRow) throws
}

extension PGResult {
    /// Every row decoded by `decode`, with the columns found once for the whole result.
    func decodeRows<Columns: ResultColumns, T>(_ decode: (PGRow, Columns) throws -> T) throws -> [T] {
        guard let first else { return [] }
        let columns = try Columns(first)
        return try map { try decode($0, columns) }
    }
}
