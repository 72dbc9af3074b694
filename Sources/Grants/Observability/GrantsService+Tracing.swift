import Tracing

/// The library call a task is inside, so that the transactions it runs share its one span.
struct ActiveOperation: Sendable {
    let name: String
    let span: any Span
}

extension GrantsService {
    @TaskLocal static var activeOperation: ActiveOperation?

    /// Runs one library call in a span named `operation` (`grants.disbursements.schedule`), unless the task is
    /// already inside one (a call made of several transactions opens its span once, around all of them).
    ///
    /// Spans carry the operation's name and, for reads, which server answered; never bound values, names or
    /// error messages (those can hold personal data): a failure sets the span's status and its error category.
    func traced<T: Sendable, Failure: Error>(
        _ operation: String, _ body: () async throws(Failure) -> T
    ) async throws(Failure) -> T {
        if Self.activeOperation != nil { return try await body() }
        return try await Self.span(tracer, operation, body).get()
    }

    /// Opens the existential tracer, so that `startSpan` is called on the concrete type.
    private static func span<Backend: Tracer, T: Sendable, Failure: Error>(
        _ tracer: Backend, _ operation: String, _ body: () async throws(Failure) -> T
    ) async -> Result<T, Failure> {
        let span = tracer.startSpan(operation, context: ServiceContext.current ?? .topLevel, ofKind: .internal)
        defer { span.end() }
        span.attributes["db.system"] = "postgresql"
        let result: Result<T, Failure> = await ServiceContext.withValue(span.context) {
            await $activeOperation.withValue(ActiveOperation(name: operation, span: span)) {
                do throws(Failure) {
                    return .success(try await body())
                } catch {
                    return .failure(error)
                }
            }
        }
        if case .failure(let error) = result {
            let category = DatabaseRules.translate(error).category.rawValue
            span.attributes["grants.error.category"] = category
            span.setStatus(SpanStatus(code: .error))
        }
        return result
    }

    /// Marks the current span with the server a read was answered by.
    static func markReadFrom(_ server: String) {
        activeOperation?.span.attributes["grants.read_from"] = server
    }

    /// `grants.<module>.<call>` for code that does not name its operation: the module from the file, the call
    /// from the function (`Disbursements.swift`, `schedule(_:amount:)` → `grants.disbursements.schedule`).
    static func operationName(function: String, fileID: String) -> String {
        let file = fileID.split(separator: "/").last.map(String.init) ?? fileID
        let module = file.prefix { $0 != "." && $0 != "+" }.lowercased()
        let call = function.prefix { $0 != "(" }
        return "grants.\(module).\(call)"
    }
}
