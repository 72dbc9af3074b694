/// A PostgreSQL type OID. Open: unknown OIDs survive; the ones this module encodes or decodes have names.
///
/// ```swift
/// let typedNull = PGBinding.null(.date)   // a NULL the server reads as a date, with no guessing
/// ```
public struct PGType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public var description: String { "oid \(rawValue)" }

    /// Lets the server infer the parameter's type from its use.
    public static let unspecified = PGType(rawValue: 0)
    public static let bool = PGType(rawValue: 16)
    public static let bytea = PGType(rawValue: 17)
    public static let char = PGType(rawValue: 18)
    public static let name = PGType(rawValue: 19)
    public static let int8 = PGType(rawValue: 20)
    public static let int2 = PGType(rawValue: 21)
    public static let int4 = PGType(rawValue: 23)
    public static let text = PGType(rawValue: 25)
    public static let oid = PGType(rawValue: 26)
    public static let json = PGType(rawValue: 114)
    public static let float4 = PGType(rawValue: 700)
    public static let float8 = PGType(rawValue: 701)
    public static let unknown = PGType(rawValue: 705)
    public static let boolArray = PGType(rawValue: 1000)
    public static let int2Array = PGType(rawValue: 1005)
    public static let int4Array = PGType(rawValue: 1007)
    public static let textArray = PGType(rawValue: 1009)
    public static let int8Array = PGType(rawValue: 1016)
    public static let bpchar = PGType(rawValue: 1042)
    public static let varchar = PGType(rawValue: 1043)
    public static let date = PGType(rawValue: 1082)
    public static let timestamp = PGType(rawValue: 1114)
    public static let dateArray = PGType(rawValue: 1182)
    public static let timestamptz = PGType(rawValue: 1184)
    public static let numeric = PGType(rawValue: 1700)
    public static let uuid = PGType(rawValue: 2950)
    public static let uuidArray = PGType(rawValue: 2951)
    public static let jsonb = PGType(rawValue: 3802)
}

/// Whether a value travels as text or in PostgreSQL's binary format.
///
/// ```swift
/// PGBinding(type: .date, format: .text, bytes: Array("2021-12-01".utf8))
/// ```
public enum PGFormat: Int32, Sendable {
    case text = 0
    case binary = 1
}

/// One bound parameter as it goes on the wire: its type, its format, and its bytes (`nil` is SQL NULL).
///
/// ```swift
/// extension Currency: PGEncodable {
///     public var pgBinding: PGBinding { PGBinding(type: .text, format: .text, bytes: Array(rawValue.utf8)) }
/// }
/// ```
public struct PGBinding: Sendable {
    public var type: PGType
    public var format: PGFormat
    public var bytes: [UInt8]?

    public init(type: PGType, format: PGFormat, bytes: [UInt8]?) {
        self.type = type
        self.format = format
        self.bytes = bytes
    }

    /// SQL NULL of the given type.
    public static func null(_ type: PGType = .unspecified) -> PGBinding {
        PGBinding(type: type, format: .text, bytes: nil)
    }
}
