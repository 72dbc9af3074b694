import Foundation

/// A value that can be an element of a bound one-dimensional array (`text[]`, `int8[]`, …).
///
/// Arrays make set-based writes cheap: one statement inserts many rows.
/// ```swift
/// try connection.execute("""
///     INSERT INTO grants.theme (code, name_en) SELECT * FROM unnest(\(codes)::text[], \(names)::text[])
///     """)
/// ```
public protocol PGArrayElement: Sendable {
    static var pgArrayType: PGType { get }
    /// The element in array-literal syntax, or `nil` for NULL.
    var pgArrayLiteral: String? { get }
}

extension String: PGArrayElement {
    public static var pgArrayType: PGType { .textArray }
    public var pgArrayLiteral: String? { self }
}
extension Int64: PGArrayElement {
    public static var pgArrayType: PGType { .int8Array }
    public var pgArrayLiteral: String? { String(self) }
}
extension Int: PGArrayElement {
    public static var pgArrayType: PGType { .int8Array }
    public var pgArrayLiteral: String? { String(self) }
}
extension Int32: PGArrayElement {
    public static var pgArrayType: PGType { .int4Array }
    public var pgArrayLiteral: String? { String(self) }
}
extension Bool: PGArrayElement {
    public static var pgArrayType: PGType { .boolArray }
    public var pgArrayLiteral: String? { self ? "t" : "f" }
}
extension UUID: PGArrayElement {
    public static var pgArrayType: PGType { .uuidArray }
    public var pgArrayLiteral: String? { uuidString }
}
extension Optional: PGArrayElement where Wrapped: PGArrayElement {
    public static var pgArrayType: PGType { Wrapped.pgArrayType }
    public var pgArrayLiteral: String? { self?.pgArrayLiteral }
}

extension Array: PGEncodable where Element: PGArrayElement {
    /// The array in PostgreSQL's text array syntax, every element quoted, so any text survives verbatim.
    public var pgBinding: PGBinding {
        // Built as UTF-8 bytes: quoting is byte-wise (`"` and `\` are ASCII and never inside a multi-byte
        // sequence), which is several times faster than appending scalars to a String for 10 000-element arrays.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(count * 10 + 2)
        for (i, element) in enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            guard var literal = element.pgArrayLiteral else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            literal.withUTF8 { utf8 in
                for byte in utf8 {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                    bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return PGBinding(type: Element.pgArrayType, format: .text, bytes: bytes)
    }
    public static var pgNullType: PGType { Element.pgArrayType }
}

extension Array: PGDecodable where Element: PGDecodable {
    /// A one-dimensional array in binary format; an empty array decodes as `[]`.
    public init(pgCell cell: PGCell) throws {
        let bytes = try cell.requireBytes(for: [Element].self)
        let dimensions = try cell.bigEndian(Int32.self, bytes, at: 0)
        let elementType = PGType(rawValue: try cell.bigEndian(UInt32.self, bytes, at: 8))
        if dimensions == 0 {
            self = []
            return
        }
        guard dimensions == 1 else { throw cell.mismatch([Element].self, "\(dimensions) dimensions") }
        let count = Int(try cell.bigEndian(Int32.self, bytes, at: 12))
        var offset = 20
        var result: [Element] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try cell.bigEndian(Int32.self, bytes, at: offset))
            offset += 4
            if length < 0 {
                result.append(try Element(pgCell: PGCell(column: cell.column, type: elementType, source: cell.source, bytes: nil)))
                continue
            }
            guard offset + length <= bytes.count else { throw cell.mismatch([Element].self, "truncated array") }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
            result.append(try Element(pgCell: PGCell(column: cell.column, type: elementType, source: cell.source, bytes: slice)))
            offset += length
        }
        self = result
    }
}
