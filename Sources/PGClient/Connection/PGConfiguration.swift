import CLibPQ

/// How to reach a PostgreSQL server: a `postgres://` URL, keyword/value pairs, or the libpq `PG*` environment.
///
/// The configuration is handed to `PQconnectdbParams` as keyword/value arrays; it is never turned into a
/// conninfo string, so no value needs escaping and a password cannot leak through string building.
///
/// ```swift
/// let config = try PGConfiguration(url: "postgres://staff@db.example/grants?sslmode=require")
/// let fromEnvironment = PGConfiguration.environment   // PGHOST, PGDATABASE, PGSERVICE, …
/// let keywords = PGConfiguration(parameters: ["host": "/run/pg", "dbname": "grants"])
/// ```
public struct PGConfiguration: Sendable, CustomStringConvertible {
    /// Keyword/value pairs in the order given; later pairs override earlier ones in libpq.
    public private(set) var parameters: [(keyword: String, value: String)]

    /// Keyword/value pairs. Unset keywords fall back to the `PG*` environment, as libpq does.
    public init(parameters: [String: String] = [:]) {
        self.parameters = parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        applyDefaults()
    }

    /// A `postgres://` or `postgresql://` URL (also a plain `key=value` conninfo), checked by libpq's own parser.
    public init(url: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(url, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PGError(kind: .configuration, message: "invalid database URL: \(message.trimmingNewlines)")
        }
        defer { PQconninfoFree(options) }
        var pairs: [(keyword: String, value: String)] = []
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val {
                pairs.append((String(cString: keyword), String(cString: value)))
            }
            cursor += 1
        }
        self.parameters = pairs
        applyDefaults()
    }

    /// Everything from the libpq environment variables (`PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGSERVICE`, …).
    public static var environment: PGConfiguration { PGConfiguration(parameters: [:]) }

    /// The value of a keyword, if this configuration sets it.
    public subscript(keyword: String) -> String? {
        get { parameters.last { $0.keyword == keyword }?.value }
        set {
            parameters.removeAll { $0.keyword == keyword }
            if let newValue { parameters.append((keyword, newValue)) }
        }
    }

    private mutating func applyDefaults() {
        // UTF-8 on the wire is what every String conversion in this module assumes.
        self["client_encoding"] = "UTF8"
        if self["connect_timeout"] == nil { self["connect_timeout"] = "10" }
        if self["application_name"] == nil { self["application_name"] = "grants" }
    }

    /// The keywords with the password (and any other secret) masked.
    public var description: String {
        let secret: Set<String> = ["password", "sslpassword", "sslkey"]
        return parameters.map { secret.contains($0.keyword) ? "\($0.keyword)=***" : "\($0.keyword)=\($0.value)" }
            .joined(separator: " ")
    }
}

extension String {
    var trimmingNewlines: String {
        var s = Substring(self)
        while let last = s.last, last.isNewline || last == " " { s = s.dropLast() }
        return String(s)
    }
}
