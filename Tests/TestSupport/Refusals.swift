import Grants
import PGClient

/// The `GrantsError` a library call fails with; nil when it succeeds or fails with another error.
public func libraryError(_ body: () async throws -> Void) async -> GrantsError? {
    do {
        try await body()
        return nil
    } catch {
        return error as? GrantsError
    }
}

/// The SQLSTATE a raw statement run as `user` (the superuser when nil) fails with; nil when it succeeds.
public func sqlState(_ configuration: PGConfiguration, user: String? = nil, _ query: PGQuery) throws -> String? {
    var configuration = configuration
    if let user { configuration["user"] = user }
    let connection = try PGConnection(configuration: configuration)
    do {
        try connection.execute(query)
        return nil
    } catch let error as PGError {
        return error.sqlState?.rawValue ?? "no SQLSTATE: \(error)"
    }
}

/// The problems of refused input; nil for any other error or none.
public func invalidProblems(_ error: GrantsError?) -> [Problem]? {
    error.flatMap { $0.code == .invalidInput ? $0.problems : nil }
}

/// The differences of a conflict with what is recorded; nil for any other error or none.
public func conflictDifferences(_ error: GrantsError?) -> [Difference]? {
    error.flatMap { $0.code == .conflict ? $0.differences : nil }
}
