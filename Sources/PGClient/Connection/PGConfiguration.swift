import CLibPQ
import Foundation

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
            // libpq quotes the URL, or the part it stumbled on, in its message: a password must not come out with it.
            throw PGError(kind: .configuration, message: "invalid database URL: \(Self.redacting(message.trimmingNewlines, url: url))")
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

    /// `message` with every password `url` holds (the URL's `user:password@`, a `password=` parameter, each as
    /// written and percent-decoded) replaced by `***`, for messages that quote a URL or a part of it.
    ///
    /// ```swift
    /// PGConfiguration.redacting("bad URI \"postgres://al:pw@[::1\"", url: "postgres://al:pw@[::1")   // bad URI "postgres://al:***@[::1"
    /// ```
    public static func redacting(_ message: String, url: String) -> String {
        var secrets: [Substring] = []
        if let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") {
            let userInfo = url[scheme.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") { secrets.append(userInfo[userInfo.index(after: colon)...]) }
        }
        // `password=…` in a URL's query (up to `&`) or a conninfo string (up to a space, or quoted).
        var rest = url[...]
        while let found = rest.range(of: "password=", options: .caseInsensitive) {
            var value = rest[found.upperBound...]
            if value.hasPrefix("'") { value = value.dropFirst() }
            let end = value.firstIndex(where: { $0 == "&" || $0 == " " || $0 == "'" || $0 == "#" }) ?? value.endIndex
            secrets.append(value[..<end])
            rest = value[end...]
        }
        var redacted = message
        let all = secrets.filter { !$0.isEmpty }.flatMap { [String($0), String($0).removingPercentEncoding ?? ""] }
        for secret in Set(all).filter({ !$0.isEmpty }).sorted(by: { $0.count > $1.count }) {
            redacted = redacted.replacingOccurrences(of: secret, with: "***")
        }
        return redacted
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
