import ArgumentParser
import Synchronization

/// Argument-parser runs a command's `validate()` before it looks for arguments nobody declared, so a mistyped
/// flag could be reported as whatever the command found missing ("give --amount-change or --end"). When a
/// parse fails, ``GrantsAdmin/main()`` parses once more with the commands' own checks switched off: if the
/// parser itself then objects (an unknown flag), that is the error shown. Every `validate()` starts with
/// `guard Validation.isOn`.
enum Validation {
    private static let enabled = Atomic<Bool>(true)

    static var isOn: Bool { enabled.load(ordering: .relaxed) }

    /// The error to report for a failed parse of `arguments`: the parser's own, if it has one.
    static func parserErrorFirst<Root: AsyncParsableCommand>(_ error: any Error, _ root: Root.Type, _ arguments: [String]) async
        -> any Error
    {
        enabled.store(false, ordering: .relaxed)
        defer { enabled.store(true, ordering: .relaxed) }
        do {
            _ = try await root.asyncParseAsRoot(arguments)
            return error
        } catch let parserError {
            return parserError
        }
    }
}
