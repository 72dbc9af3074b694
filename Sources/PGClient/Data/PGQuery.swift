/// A SQL statement with its bound values, written as string interpolation: every interpolated value
/// becomes a `$N` parameter, never text in the SQL.
///
/// ```swift
/// let reference = "KP-2021-2-01'; DROP TABLE grants.grant; --"
/// let rows = try connection.query("SELECT id FROM grants.grant WHERE reference = \(reference)")
/// ```
/// SQL that must be spliced in as text needs a spelling that stands out: `\(unsafeRaw: sql)`;
/// an identifier is quoted with `\(identifier: name)`.
public struct PGQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text with `$1 … $N` placeholders.
    public private(set) var sql: String
    /// The values, in placeholder order.
    public private(set) var bindings: [PGBinding]

    public init(stringLiteral value: String) {
        sql = value
        bindings = []
    }

    public init(stringInterpolation: StringInterpolation) {
        sql = stringInterpolation.sql
        bindings = stringInterpolation.bindings
    }

    /// SQL text taken as it is, with explicit bindings for its `$N` placeholders.
    public init(unsafeSQL sql: String, bindings: [PGBinding] = []) {
        self.sql = sql
        self.bindings = bindings
    }

    /// Appends another query, renumbering its placeholders.
    public mutating func append(_ other: PGQuery) {
        if other.bindings.isEmpty {
            sql += other.sql
            return
        }
        var interpolation = StringInterpolation(literalCapacity: 0, interpolationCount: 0)
        interpolation.sql = sql
        interpolation.bindings = bindings
        interpolation.appendInterpolation(other)
        sql = interpolation.sql
        bindings = interpolation.bindings
    }

    /// The SQL text only; bound values are never printed.
    public var description: String { sql }

    /// Builds a query from a string literal: each interpolated value becomes a bound parameter; identifiers,
    /// fragments and raw SQL are spelled out by their labels.
    ///
    /// ```swift
    /// let query: PGQuery = "SELECT * FROM \(identifier: table) WHERE reference = \(reference)"   // reference is bound as $1
    /// ```
    public struct StringInterpolation: StringInterpolationProtocol {
        @usableFromInline var sql = ""
        @usableFromInline var bindings: [PGBinding] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            bindings.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        /// Binds a value as the next `$N`.
        @inlinable public mutating func appendInterpolation(_ value: some PGEncodable) {
            bindings.append(value.pgBinding)
            sql += "$\(bindings.count)"
        }

        /// Binds an optional value; `nil` is SQL NULL.
        @inlinable public mutating func appendInterpolation<T: PGEncodable>(_ value: T?) {
            bindings.append(value?.pgBinding ?? .null(T.pgNullType))
            sql += "$\(bindings.count)"
        }

        /// Splices in SQL text verbatim. Only for text the program itself wrote, never for input.
        public mutating func appendInterpolation(unsafeRaw text: String) { sql += text }

        /// A quoted identifier (schema, table, column name): `"name"`, with `"` doubled.
        public mutating func appendInterpolation(identifier: String) {
            sql += "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }

        /// Embeds a query fragment, renumbering its placeholders after the ones already here.
        public mutating func appendInterpolation(_ fragment: PGQuery) {
            let offset = bindings.count
            bindings += fragment.bindings
            guard offset > 0, !fragment.bindings.isEmpty else {
                sql += fragment.sql
                return
            }
            sql += Self.renumber(fragment.sql, by: offset)
        }

        /// Shifts `$N` placeholders outside quotes, comments and dollar-quoted strings.
        static func renumber(_ text: String, by offset: Int) -> String {
            var out = ""
            out.reserveCapacity(text.utf8.count + 8)
            var iterator = Array(text.unicodeScalars)[...]
            var quote: Unicode.Scalar?
            while let c = iterator.popFirst() {
                if let q = quote {
                    out.unicodeScalars.append(c)
                    if c == q { quote = nil }
                    continue
                }
                if c == "'" || c == "\"" {
                    quote = c
                    out.unicodeScalars.append(c)
                } else if c == "$", let first = iterator.first, first.properties.numericType != nil,
                    ("0"..."9").contains(first)
                {
                    var digits = ""
                    while let d = iterator.first, ("0"..."9").contains(d) {
                        digits.unicodeScalars.append(d)
                        iterator.removeFirst()
                    }
                    out += "$\((Int(digits) ?? 0) + offset)"
                } else {
                    out.unicodeScalars.append(c)
                }
            }
            return out
        }
    }
}
