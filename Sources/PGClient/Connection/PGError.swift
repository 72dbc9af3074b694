import CLibPQ
import Foundation

/// An error from the PostgreSQL layer: a failed connection, a server error with its SQLSTATE, a value that
/// cannot be decoded, a misuse of the API.
///
/// `description` names the SQLSTATE, message, constraint and table; it never prints bound values, the
/// server's `detail` (which may quote row values) or a password.
///
/// ```swift
/// do { try connection.execute("INSERT INTO t (id) VALUES (\(1))") }
/// catch let error as PGError where error.sqlState == .uniqueViolation { … }
/// ```
public struct PGError: Error, Sendable, CustomStringConvertible {
    /// What failed.
    ///
    /// ```swift
    /// catch let error as PGError where error.kind == .connection { reconnectLater() }
    /// ```
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The connection could not be made, was lost, or is unusable.
        public static let connection = Kind(name: "connection")
        /// The server answered with an error (see ``PGError/sqlState``).
        public static let server = Kind(name: "server")
        /// A value could not be decoded into the requested Swift type.
        public static let decoding = Kind(name: "decoding")
        /// A configuration (URL, keyword) is invalid.
        public static let configuration = Kind(name: "configuration")
        /// The API was used in a way it does not support (e.g. COPY with bound values).
        public static let usage = Kind(name: "usage")
        /// The query was cancelled on the client's request.
        public static let cancelled = Kind(name: "cancelled")
        public var description: String { name }
    }

    public var kind: Kind
    public var sqlState: SQLState?
    public var severity: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    public var schema: String?
    public var table: String?
    public var column: String?
    public var constraint: String?
    /// The SQL text (with `$N` placeholders, never values) of the statement that failed.
    public var query: String?

    public init(
        kind: Kind, sqlState: SQLState? = nil, message: String, detail: String? = nil, hint: String? = nil,
        table: String? = nil, constraint: String? = nil, query: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.table = table
        self.constraint = constraint
        self.query = query
    }

    /// True when retrying the whole transaction may succeed (serialization failure, deadlock).
    public var isTransient: Bool {
        sqlState == .serializationFailure || sqlState == .deadlockDetected
    }

    /// True when the connection is gone: it must be replaced, not reused.
    public var isConnectionLoss: Bool {
        kind == .connection || sqlState?.class == "08" || sqlState == .adminShutdown
            || sqlState == .crashShutdown || sqlState == .cannotConnectNow
    }

    public var description: String {
        var text = "PostgreSQL \(kind)"
        if let sqlState { text += " \(sqlState.rawValue)" }
        text += ": \(message)"
        if let constraint {
            text += " (constraint \(constraint)" + (table.map { " on \($0)" } ?? "") + ")"
        } else if let table {
            text += " (table \(table))"
        }
        if let hint { text += "; hint: \(hint)" }
        return text
    }

    static func from(result: OpaquePointer, query: String?) -> PGError {
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let p = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: p)
        }
        var error = PGError(
            kind: .server,
            sqlState: field("C").map(SQLState.init(rawValue:)),
            message: field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingNewlines,
            detail: field("D"), hint: field("H"), table: field("t"), constraint: field("n"), query: query)
        error.severity = field("V") ?? field("S")
        error.schema = field("s")
        error.column = field("c")
        if error.isConnectionLoss { error.kind = .connection }
        return error
    }

    static func connection(_ connection: OpaquePointer?, query: String? = nil) -> PGError {
        // libpq's connection messages span lines ("…failed: …\n\tIs the server running…"): one line reads better.
        let message = connection.flatMap { PQerrorMessage($0) }.map {
            String(cString: $0).trimmingNewlines.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        }
        return PGError(
            kind: .connection, message: (message?.isEmpty == false ? message : nil) ?? "connection lost",
            query: query)
    }
}

/// A SQLSTATE code. Open: any five-character code survives, the common ones have names.
///
/// ```swift
/// if error.sqlState == .foreignKeyViolation { … }
/// if error.sqlState?.class == "23" { /* any integrity constraint violation */ }
/// ```
public struct SQLState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The two-character class, e.g. `"23"` for integrity constraint violations.
    public var `class`: String { String(rawValue.prefix(2)) }
    public var description: String { rawValue }

    public static let successfulCompletion = SQLState(rawValue: "00000")
    public static let connectionException = SQLState(rawValue: "08000")
    public static let connectionFailure = SQLState(rawValue: "08006")
    public static let featureNotSupported = SQLState(rawValue: "0A000")
    public static let invalidTextRepresentation = SQLState(rawValue: "22P02")
    public static let numericValueOutOfRange = SQLState(rawValue: "22003")
    public static let stringDataRightTruncation = SQLState(rawValue: "22001")
    public static let characterNotInRepertoire = SQLState(rawValue: "22021")
    public static let invalidDatetimeFormat = SQLState(rawValue: "22007")
    public static let integrityConstraintViolation = SQLState(rawValue: "23000")
    public static let restrictViolation = SQLState(rawValue: "23001")
    public static let notNullViolation = SQLState(rawValue: "23502")
    public static let foreignKeyViolation = SQLState(rawValue: "23503")
    public static let uniqueViolation = SQLState(rawValue: "23505")
    public static let checkViolation = SQLState(rawValue: "23514")
    public static let exclusionViolation = SQLState(rawValue: "23P01")
    public static let invalidTransactionState = SQLState(rawValue: "25000")
    public static let invalidSQLStatementName = SQLState(rawValue: "26000")
    public static let readOnlySQLTransaction = SQLState(rawValue: "25006")
    public static let inFailedSQLTransaction = SQLState(rawValue: "25P02")
    public static let invalidPassword = SQLState(rawValue: "28P01")
    public static let invalidAuthorizationSpecification = SQLState(rawValue: "28000")
    public static let serializationFailure = SQLState(rawValue: "40001")
    public static let deadlockDetected = SQLState(rawValue: "40P01")
    public static let insufficientPrivilege = SQLState(rawValue: "42501")
    public static let syntaxError = SQLState(rawValue: "42601")
    public static let undefinedColumn = SQLState(rawValue: "42703")
    public static let undefinedTable = SQLState(rawValue: "42P01")
    public static let undefinedFunction = SQLState(rawValue: "42883")
    public static let duplicateObject = SQLState(rawValue: "42710")
    public static let lockNotAvailable = SQLState(rawValue: "55P03")
    public static let objectInUse = SQLState(rawValue: "55006")
    public static let queryCanceled = SQLState(rawValue: "57014")
    public static let adminShutdown = SQLState(rawValue: "57P01")
    public static let crashShutdown = SQLState(rawValue: "57P02")
    public static let cannotConnectNow = SQLState(rawValue: "57P03")
    public static let raiseException = SQLState(rawValue: "P0001")
    public static let internalError = SQLState(rawValue: "XX000")
}
