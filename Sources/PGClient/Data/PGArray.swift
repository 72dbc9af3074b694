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
    /// The array type a `[Self]` binds as.
    static var pgArrayType: PGType { get }
    /// The element type, named in the array's binary header.
    static var pgElementType: PGType { get }
    /// Appends the element in the server's binary form (what its `typsend` writes), or returns false for NULL.
    func appendPGBinary(to bytes: inout [UInt8]) -> Bool
}

extension String: PGArrayElement {
    public static var pgArrayType: PGType { .textArray }
    public static var pgElementType: PGType { .text }
    @inlinable public func appendPGBinary(to bytes: inout [UInt8]) -> Bool {
        var text = self
        text.withUTF8 { bytes.append(contentsOf: $0) }
        return true
    }
}
extension Int64: PGArrayElement {
    public static var pgArrayType: PGType { .int8Array }
    public static var pgElementType: PGType { .int8 }
    @inlinable public func appendPGBinary(to bytes: inout [UInt8]) -> Bool {
        withUnsafeBytes(of: bigEndian) { bytes.append(contentsOf: $0) }
        return true
    }
}
extension Int: PGArrayElement {
    public static var pgArrayType: PGType { .int8Array }
    public static var pgElementType: PGType { .int8 }
    @inlinable public func appendPGBinary(to bytes: inout [UInt8]) -> Bool { Int64(self).appendPGBinary(to: &bytes) }
}
extension Int32: PGArrayElement {
    public static var pgArrayType: PGType { .int4Array }
    public static var pgElementType: PGType { .int4 }
    @inlinable public func appendPGBinary(to bytes: inout [UInt8]) -> Bool {
        withUnsafeBytes(of: bigEndian) { bytes.append(contentsOf: $0) }
        return true
    }
}
extension Bool: PGArrayElement {
    public static var pgArrayType: PGType { .boolArray }
    public static var pgElementType: PGType { .bool }
    @inlinable public func appendPGBinary(to bytes: inout [UInt8]) -> Bool {
        bytes.append(self ? 1 : 0)
        return true
    }
}
extension UUID: PGArrayElement {
    public static var pgArrayType: PGType { .uuidArray }
    public static var pgElementType: PGType { .uuid }
    @inlinable public func appendPGBinary(to bytes: inout [UInt8]) -> Bool {
        withUnsafeBytes(of: uuid) { bytes.append(contentsOf: $0) }
        return true
    }
}
extension Optional: PGArrayElement where Wrapped: PGArrayElement {
    public static var pgArrayType: PGType { Wrapped.pgArrayType }
    public static var pgElementType: PGType { Wrapped.pgElementType }
    @inlinable public func appendPGBinary(to bytes: inout [UInt8]) -> Bool {
        guard let self else { return false }
        return self.appendPGBinary(to: &bytes)
    }
}

extension Array: PGEncodable where Element: PGArrayElement {
    /// The array in the server's binary array format: a header (one dimension, a NULL flag, the element type,
    /// the length, lower bound 1), then each element as its length and its binary form (length -1: NULL).
    /// Nothing is quoted or escaped, and no element is formatted as text: binding 10 000-element arrays is a
    /// copy of their bytes.
    @inlinable public var pgBinding: PGBinding {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20 + count * 12)
        func int32(_ value: Int32) { Swift.withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
        int32(1)
        let nullFlag = bytes.count
        int32(0)
        int32(Int32(bitPattern: Element.pgElementType.rawValue))
        int32(Int32(count))
        int32(1)
        var hasNull = false
        for element in self {
            let lengthAt = bytes.count
            int32(0)
            if element.appendPGBinary(to: &bytes) {
                let length = Int32(bytes.count - lengthAt - 4).bigEndian
                Swift.withUnsafeBytes(of: length) { raw in
                    for k in 0..<4 { bytes[lengthAt + k] = raw[k] }
                }
            } else {
                hasNull = true
                for k in 0..<4 { bytes[lengthAt + k] = 0xFF }
            }
        }
        if hasNull { bytes[nullFlag + 3] = 1 }
        return PGBinding(type: Element.pgArrayType, format: .binary, bytes: bytes)
    }
    public static var pgNullType: PGType { Element.pgArrayType }
}

extension PGBinding {
    /// Whether an element of this binary `text[]` holds a NUL byte, which PostgreSQL text cannot store.
    var isTextArrayWithNUL: Bool {
        guard type == .textArray, format == .binary, let bytes, bytes.count >= 20 else { return false }
        var i = 20
        while i + 4 <= bytes.count {
            let word = UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
            let length = Int(Int32(bitPattern: word))
            i += 4
            guard length > 0 else { continue }
            if bytes[i..<min(bytes.count, i + length)].contains(0) { return true }
            i += length
        }
        return false
    }
}

/// A binding made ahead (say while the server runs an earlier statement) is interpolated as it is.
extension PGBinding: PGEncodable {
    public var pgBinding: PGBinding { self }
}

extension Array: PGDecodable where Element: PGDecodable {
    /// A one-dimensional array in binary format; an empty array decodes as `[]`. Inlinable, so a caller's
    /// `[String]` is decoded by code specialised for it rather than through the generic element witness.
    @inlinable public init(pgCell cell: PGCell) throws {
        var result: [Element] = []
        try cell.forEachElement(
            of: [Element].self, reservingCapacity: { result.reserveCapacity($0) },
            { element in result.append(try Element(pgCell: element)) })
        self = result
    }
}

extension PGCell {
    /// Hands each element of a one-dimensional array cell in binary format to `body`, as a cell of the element's
    /// type (NULL elements as NULL cells), without building an array: a writer can copy an element's bytes where
    /// they lie. An empty array has none. Each element's bytes are valid only during its call.
    /// (Inlinable: specialised in the caller.)
    @inlinable public func forEachElement(_ body: (PGCell) throws -> Void) throws {
        try forEachElement(of: [PGCell].self, reservingCapacity: { _ in }, body)
    }

    /// `forEachElement(_:)`, with `target` named in its errors and the element count announced first.
    @inlinable func forEachElement<Target>(
        of target: Target.Type, reservingCapacity: (Int) -> Void, _ body: (PGCell) throws -> Void
    ) throws {
        let bytes = try requireBytes(for: target)
        let dimensions = try bigEndian(Int32.self, bytes, at: 0)
        let elementType = PGType(rawValue: try bigEndian(UInt32.self, bytes, at: 8))
        if dimensions == 0 { return }
        guard dimensions == 1 else { throw mismatch(target, "\(dimensions) dimensions") }
        let count = Int(try bigEndian(Int32.self, bytes, at: 12))
        reservingCapacity(count)
        var offset = 20
        for _ in 0..<count {
            let length = Int(try bigEndian(Int32.self, bytes, at: offset))
            offset += 4
            if length < 0 {
                try body(PGCell(column: column, type: elementType, source: source, bytes: nil))
                continue
            }
            guard offset + length <= bytes.count else { throw mismatch(target, "truncated array") }
            let element = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
            try body(PGCell(column: column, type: elementType, source: source, bytes: element))
            offset += length
        }
    }
}
