import Foundation
import Grants
import Hummingbird
import Logging

/// Turns the library's typed errors into HTTP answers with a JSON body:
///
/// | ``GrantsError/Category`` | status |
/// | --- | --- |
/// | rule (budget, four-eyes, state change, closed) | 409 Conflict |
/// | input (`invalidInput`) | 422 Unprocessable Content |
/// | input (`notFound`) | 404 Not Found |
/// | unavailable (database down or unreachable) | 503 Service Unavailable, `Retry-After: 5` |
/// | internal | 500, with the detail only in the log |
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

    static func response(for error: GrantsError, logger: Logger) -> Response {
        let status: HTTPResponse.Status
        var headers: HTTPFields = [:]
        var body = ErrorBody(error: "rule", message: error.description)
        switch error {
        case .notFound:
            status = .notFound
            body.error = "not_found"
        case .invalidInput(let problems):
            status = .unprocessableContent
            body.error = "input"
            body.problems = problems
        case .conflict(_, _, let differences):
            status = .conflict
            body.differences = differences
        case .unavailable:
            status = .serviceUnavailable
            body.error = "unavailable"
            headers[.retryAfter] = "5"
        case .internalError:
            logger.error("internal error", metadata: ["error": "\(error)"])
            status = .internalServerError
            body = ErrorBody(error: "internal", message: "internal error")
        default:
            precondition(error.category == .rule)
            status = .conflict
        }
        return JSON.response(body, status: status, headers: headers)
    }
}

/// The JSON body of every error answer.
struct ErrorBody: Encodable {
    /// `rule`, `input`, `not_found`, `unavailable` or `internal`.
    var error: String
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
