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
        let raw = try decode(String.self, column: column)
        guard let value = E(rawValue: raw) else {
            throw PGError(kind: .decoding, message: "column \(column): unknown \(E.self) \(raw)")
        }
        return value
    }
}
