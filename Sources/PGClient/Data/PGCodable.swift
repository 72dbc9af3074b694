import Foundation

/// A Swift value that can be bound as a query parameter.
///
/// Conform a domain type by producing a ``PGBinding``; for example a calendar date sent as text:
/// ```swift
/// extension CalendarDate: PGEncodable {
///     public var pgBinding: PGBinding { PGBinding(type: .date, format: .text, bytes: Array(iso.utf8)) }
/// }
/// ```
public protocol PGEncodable: Sendable {
    /// The value as it goes on the wire.
    var pgBinding: PGBinding { get }
    /// The type a NULL of this Swift type is sent as.
    static var pgNullType: PGType { get }
}

extension PGEncodable {
    public static var pgNullType: PGType { .unspecified }
}

/// A Swift value that can be decoded from a result cell.
///
/// ```swift
/// let name = try row.decode(String.self, column: 0)
/// let closedOn = try row.decode(Date?.self, column: "closed_on")   // nil for NULL
/// ```
public protocol PGDecodable {
    /// Decodes the cell; throws a ``PGError`` of kind `.decoding` when the type does not fit or the cell is NULL.
    init(pgCell cell: PGCell) throws
}

/// A type that can be both bound as a parameter and decoded from a result.
///
/// ```swift
/// func roundTrip<T: PGCodable>(_ value: T, _ connection: PGConnection) throws -> T {
///     try connection.query("SELECT \(value)")[0].decode(T.self, column: 0)
/// }
/// ```
public typealias PGCodable = PGEncodable & PGDecodable

/// One cell of a result row: its column, type and bytes (PostgreSQL binary format), or NULL.
///
/// ```swift
/// struct Kronor: PGDecodable {
///     let ore: Int64
///     init(pgCell cell: PGCell) throws {
///         guard cell.type == .int8 else { throw cell.mismatch(Kronor.self) }
///         ore = try Int64(pgCell: cell)
///     }
/// }
/// ```
public struct PGCell {
    public let column: Int
    public let type: PGType
    /// The result the cell belongs to, for its column's name; looked up only when an error message needs it.
    @usableFromInline let source: PGResult?
    /// The column's name (for error messages).
    public var columnName: String { source?.columnName(column) ?? "?" }
    /// The binary value, `nil` for SQL NULL. Valid only while the cell is being decoded.
    public let bytes: UnsafeRawBufferPointer?

    public var isNull: Bool { bytes == nil }

    @usableFromInline init(column: Int, type: PGType, source: PGResult?, bytes: UnsafeRawBufferPointer?) {
        self.column = column
        self.type = type
        self.source = source
        self.bytes = bytes
    }

    /// The cell's bytes, or a decoding error for NULL.
    public func requireBytes<T>(for target: T.Type) throws -> UnsafeRawBufferPointer {
        guard let bytes else {
            throw PGError(kind: .decoding, message: "column \(column) (\(columnName)) is NULL; decode it as \(T.self)?")
        }
        return bytes
    }

    /// The error for a type that does not fit.
    public func mismatch<T>(_ target: T.Type, _ reason: String? = nil) -> PGError {
        PGError(
            kind: .decoding,
            message: "column \(column) (\(columnName)) of type \(type) cannot be decoded as \(T.self)"
                + (reason.map { ": \($0)" } ?? ""))
    }

    @inlinable func bigEndian<I: FixedWidthInteger>(_: I.Type, _ bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws -> I {
        guard bytes.count >= offset + MemoryLayout<I>.size else { throw mismatch(I.self, "value too short") }
        return I(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: I.self))
    }
}

// MARK: Integers

extension PGCell {
    /// Any integer column (int2/int4/int8, or an integral numeric such as `sum(bigint)`) as an exact integer.
    func integer<I: FixedWidthInteger>(_: I.Type) throws -> I {
        let bytes = try requireBytes(for: I.self)
        let wide: Int64
        switch type {
        case .int2: wide = Int64(try bigEndian(Int16.self, bytes))
        case .int4: wide = Int64(try bigEndian(Int32.self, bytes))
        case .int8: wide = try bigEndian(Int64.self, bytes)
        case .oid: wide = Int64(try bigEndian(UInt32.self, bytes))
        case .numeric:
            let text = try PGNumeric.decimalString(self, bytes)
            guard let value = Int64(text) else { throw mismatch(I.self, "\(text) is not an Int64") }
            wide = value
        default: throw mismatch(I.self)
        }
        guard let exact = I(exactly: wide) else { throw mismatch(I.self, "\(wide) is out of range") }
        return exact
    }
}

extension Int64: PGCodable {
    public var pgBinding: PGBinding { .init(type: .int8, format: .binary, bytes: withUnsafeBytes(of: bigEndian, Array.init)) }
    public static var pgNullType: PGType { .int8 }
    public init(pgCell cell: PGCell) throws { self = try cell.integer(Int64.self) }
}

extension Int: PGCodable {
    public var pgBinding: PGBinding { Int64(self).pgBinding }
    public static var pgNullType: PGType { .int8 }
    public init(pgCell cell: PGCell) throws { self = try cell.integer(Int.self) }
}

extension Int32: PGCodable {
    public var pgBinding: PGBinding { .init(type: .int4, format: .binary, bytes: withUnsafeBytes(of: bigEndian, Array.init)) }
    public static var pgNullType: PGType { .int4 }
    public init(pgCell cell: PGCell) throws { self = try cell.integer(Int32.self) }
}

extension Int16: PGCodable {
    public var pgBinding: PGBinding { .init(type: .int2, format: .binary, bytes: withUnsafeBytes(of: bigEndian, Array.init)) }
    public static var pgNullType: PGType { .int2 }
    public init(pgCell cell: PGCell) throws { self = try cell.integer(Int16.self) }
}

// MARK: Bool, String, bytes

extension Bool: PGCodable {
    public var pgBinding: PGBinding { .init(type: .bool, format: .binary, bytes: [self ? 1 : 0]) }
    public static var pgNullType: PGType { .bool }
    public init(pgCell cell: PGCell) throws {
        let bytes = try cell.requireBytes(for: Bool.self)
        guard cell.type == .bool, bytes.count == 1 else { throw cell.mismatch(Bool.self) }
        self = bytes[0] != 0
    }
}

extension PGType {
    /// Types whose binary form is their UTF-8 text as it is.
    @usableFromInline var isPlainText: Bool {
        switch self {
        case .text, .varchar, .bpchar, .name, .unknown, .json, .char: true
        default: false
        }
    }
}

extension PGCell {
    /// The UTF-8 bytes of a plain text cell (`text`, `varchar`, `bpchar`, `name`, `char`, `json`, `unknown`), or
    /// `nil` for NULL: what `String(pgCell:)` decodes them to, for a writer that copies them into its output
    /// without making a `String`. Valid only while the row is.
    @inlinable public func textBytes() throws -> UnsafeRawBufferPointer? {
        guard let bytes else { return nil }
        guard type.isPlainText else { throw mismatch(String.self) }
        return bytes
    }
}

extension String: PGCodable {
    /// Text with no declared type, so the server infers it from the context (a date, an enum, an integer…).
    public var pgBinding: PGBinding { .init(type: .unspecified, format: .text, bytes: Array(utf8)) }
    public init(pgCell cell: PGCell) throws {
        let bytes = try cell.requireBytes(for: String.self)
        switch cell.type {
        case let type where type.isPlainText:
            self = String(decoding: bytes, as: UTF8.self)
        case .jsonb:
            // Binary jsonb is a version byte (1) followed by the JSON text.
            guard bytes.first == 1 else { throw cell.mismatch(String.self, "unknown jsonb version") }
            self = String(decoding: UnsafeRawBufferPointer(rebasing: bytes.dropFirst()), as: UTF8.self)
        case .numeric:
            self = try PGNumeric.decimalString(cell, bytes)
        default:
            throw cell.mismatch(String.self)
        }
    }
}

extension Data: PGCodable {
    public var pgBinding: PGBinding { .init(type: .bytea, format: .binary, bytes: Array(self)) }
    public static var pgNullType: PGType { .bytea }
    public init(pgCell cell: PGCell) throws {
        let bytes = try cell.requireBytes(for: Data.self)
        guard cell.type == .bytea else { throw cell.mismatch(Data.self) }
        self = Data(bytes)
    }
}

// MARK: UUID and time

extension UUID: PGCodable {
    public var pgBinding: PGBinding { .init(type: .uuid, format: .binary, bytes: withUnsafeBytes(of: uuid, Array.init)) }
    public static var pgNullType: PGType { .uuid }
    public init(pgCell cell: PGCell) throws {
        let bytes = try cell.requireBytes(for: UUID.self)
        guard cell.type == .uuid, bytes.count == 16 else { throw cell.mismatch(UUID.self) }
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { $0.copyMemory(from: bytes) }
        self = UUID(uuid: raw)
    }
}

/// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01 00:00 UTC.
let postgresEpochOffset: Int64 = 946_684_800

extension Date: PGCodable {
    /// Sent as `timestamptz` with microsecond precision.
    public var pgBinding: PGBinding {
        let micros = Int64(((timeIntervalSince1970 - Double(postgresEpochOffset)) * 1_000_000).rounded())
        return .init(type: .timestamptz, format: .binary, bytes: withUnsafeBytes(of: micros.bigEndian, Array.init))
    }
    public static var pgNullType: PGType { .timestamptz }

    /// Decodes `timestamptz`, `timestamp` (taken as UTC) and `date` (midnight UTC).
    public init(pgCell cell: PGCell) throws {
        let bytes = try cell.requireBytes(for: Date.self)
        switch cell.type {
        case .timestamptz, .timestamp:
            let micros = try cell.bigEndian(Int64.self, bytes)
            guard micros != .max, micros != .min else { throw cell.mismatch(Date.self, "infinity") }
            self = Date(timeIntervalSince1970: Double(postgresEpochOffset) + Double(micros) / 1_000_000)
        case .date:
            let days = try cell.bigEndian(Int32.self, bytes)
            guard days != .max, days != .min else { throw cell.mismatch(Date.self, "infinity") }
            self = Date(timeIntervalSince1970: Double(postgresEpochOffset + Int64(days) * 86_400))
        default:
            throw cell.mismatch(Date.self)
        }
    }
}

// MARK: Optionals

extension Optional: PGDecodable where Wrapped: PGDecodable {
    public init(pgCell cell: PGCell) throws {
        self = cell.isNull ? nil : try Wrapped(pgCell: cell)
    }
}

extension Optional: PGEncodable where Wrapped: PGEncodable {
    public var pgBinding: PGBinding { self?.pgBinding ?? .null(Wrapped.pgNullType) }
    public static var pgNullType: PGType { Wrapped.pgNullType }
}

// MARK: numeric

enum PGNumeric {
    /// The decimal text of a binary `numeric` (base-10000 digits, weight, sign, display scale).
    static func decimalString(_ cell: PGCell, _ bytes: UnsafeRawBufferPointer) throws -> String {
        let count = Int(try cell.bigEndian(Int16.self, bytes, at: 0))
        let weight = Int(try cell.bigEndian(Int16.self, bytes, at: 2))
        let sign = try cell.bigEndian(UInt16.self, bytes, at: 4)
        let scale = Int(try cell.bigEndian(Int16.self, bytes, at: 6))
        guard sign == 0x0000 || sign == 0x4000 else { throw cell.mismatch(String.self, "NaN or infinity") }
        var digits: [Int] = []
        for i in 0..<max(count, 0) { digits.append(Int(try cell.bigEndian(Int16.self, bytes, at: 8 + 2 * i))) }
        func group(_ i: Int) -> Int { i >= 0 && i < digits.count ? digits[i] : 0 }
        var integer = ""
        if weight >= 0 {
            for i in 0...weight {
                let g = String(group(i))
                integer += i == 0 ? g : String(repeating: "0", count: 4 - g.count) + g
            }
        } else {
            integer = "0"
        }
        var text = (sign == 0x4000 && digits.contains { $0 != 0 } ? "-" : "") + integer
        if scale > 0 {
            var fraction = ""
            var i = weight + 1
            while fraction.count < scale {
                let g = String(group(i))
                fraction += String(repeating: "0", count: 4 - g.count) + g
                i += 1
            }
            text += "." + fraction.prefix(scale)
        }
        return text
    }
}
