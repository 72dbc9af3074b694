import Foundation
import Grants
import Hummingbird
import Logging

/// Turns the library's errors into HTTP answers with a JSON body, by category (closed: every error has one of
/// seven, so this `switch` never needs a default, while the open `code` grows with the library's rules):
///
/// | ``GrantsError/Category`` | status |
/// | --- | --- |
/// | input | 422 Unprocessable Content, with every problem |
/// | notFound | 404 Not Found |
/// | rule (budget, state change, closed, held back, closed period) | 409 Conflict |
/// | conflict (recorded differently) | 409 Conflict, with every difference |
/// | permission (privileges, four-eyes, conflict of interest, an unregistered person) | 403 Forbidden |
/// | unavailable (database down, busy or not migrated) | 503 Service Unavailable, `Retry-After: 5` |
/// | internal | 500, with the detail only in the log |
///
/// The body names the category and the code (`{"error": "rule", "code": "budget-exceeded", …}`).
///
/// ```swift
/// router.add(middleware: GrantsErrorMiddleware(logger: logger))
/// ```
public struct GrantsErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as GrantsError {
            return Self.response(for: error, logger: logger)
        }
    }

    /// The status for each category.
    public static func status(for category: GrantsError.Category) -> HTTPResponse.Status {
        switch category {
        case .input: .unprocessableContent
        case .notFound: .notFound
        case .rule, .conflict: .conflict
        case .permission: .forbidden
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }

    public static func response(for error: GrantsError, logger: Logger) -> Response {
        var headers: HTTPFields = [:]
        var body = ErrorBody(
            error: error.category.rawValue, code: error.code.rawValue, message: error.message,
            problems: error.problems.isEmpty ? nil : error.problems, differences: error.differences.isEmpty ? nil : error.differences)
        switch error.category {
        case .unavailable:
            headers[.retryAfter] = "5"
        case .internal:
            logger.error("internal error", metadata: ["error": "\(error)"])
            body = ErrorBody(error: "internal", code: error.code.rawValue, message: "internal error")
        case .input, .notFound, .rule, .conflict, .permission:
            break
        }
        return JSON.response(body, status: status(for: error.category), headers: headers)
    }
}

/// The JSON body of every error answer.
struct ErrorBody: Encodable {
    /// The category: `input`, `not-found`, `rule`, `conflict`, `permission`, `unavailable` or `internal`.
    var error: String
    /// The library's code (`budget-exceeded`, `four-eyes`…).
    var code: String
    var message: String
    var problems: [Problem]?
    var differences: [Difference]?
}

/// JSON the way `grants-admin --format json` writes it: snake_case keys, sorted, amounts as decimal strings.
enum JSON {
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        do {
            var data = try encoder.encode(value)
            data.append(0x0A)
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        } catch {
            return Response(
                status: .internalServerError, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"error\":\"internal\",\"message\":\"internal error\"}\n")))
        }
    }
}
