import ArgumentParser
import Foundation
import Grants
import PGClient

/// How errors leave the CLI: one line each on stderr, with the location, and the contract's exit code.
enum Failure {
    static func exitCode(for error: any Error) -> Int32 {
        switch error {
        case let error as GrantsError:
            switch error.category {
            case .rule: 1
            case .input: 65
            case .unavailable: 69
            case .internal: 70
            }
        case let error as PGError: error.isConnectionLoss || error.kind == .configuration ? 69 : 70
        case is LocalClusterError: 69
        case is InputFileError: 65
        case is ReportOutputError: 73
        default: 70
        }
    }

    static func lines(for error: any Error) -> [String] {
        switch error {
        case GrantsError.invalidInput(let problems):
            return problems.map(\.description)
        case GrantsError.conflict(let round, let differences):
            return ["round \(round) is recorded differently; nothing was written"] + differences.map(\.description)
        default:
            return "\(error)".split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }
    }

    /// Prints the error and turns it into the exit code.
    static func report(_ error: any Error) -> ExitCode {
        for line in lines(for: error) { Terminal.error(line) }
        return ExitCode(exitCode(for: error))
    }
}

/// A file given on the command line that cannot be used.
struct InputFileError: Error, CustomStringConvertible {
    let description: String
}

enum Terminal {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data("grants-admin: \(line)\n".utf8))
    }

    static func note(_ line: String) {
        FileHandle.standardError.write(Data("grants-admin: \(line)\n".utf8))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
