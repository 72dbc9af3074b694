import ArgumentParser
import Foundation
import Grants
import PGClient

/// How errors leave the CLI: one line each on stderr, with the location, and the contract's exit code.
enum Failure {
    static func exitCode(for error: any Error) -> Int32 {
        switch error {
        case let error as GrantsError where error.code == .outputFailed: 73
        case let error as GrantsError:
            switch error.category {
            case .rule, .conflict, .permission: 1
            case .input, .notFound: 65
            case .unavailable: 69
            case .internal: 70
            }
        case let error as PGError: error.kind == .configuration ? 64 : error.isConnectionLoss ? 69 : 70
        case is UsageError: 64
        case is LocalClusterError: 69
        case is InputFileError: 65
        default: 70
        }
    }

    static func lines(for error: any Error, flags: FlagNames = .standard) -> [String] {
        guard let error = error as? GrantsError else {
            return "\(error)".split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }
        if error.code == .invalidInput {
            return error.problems.map { flags.relocate($0).description }
        }
        var lines: [String]
        if error.code == .conflict {
            lines = ["\(error.entity ?? "row") \(error.key ?? "") is recorded differently; nothing was written"]
                + error.differences.map { "\(flags.name($0.location)): recorded \($0.recorded), given \($0.given)" }
        } else {
            lines = error.message.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }
        // One line still: what to run is said after what went wrong.
        if let hint = hint(for: error), let last = lines.indices.last { lines[last] += "; " + hint }
        return lines
    }

    /// What to run about an error, in this program's commands (the library says it in domain words).
    static func hint(for error: GrantsError) -> String? {
        switch error.code {
        case .unknownPerson:
            return "register people with `grants-admin person add LOGIN --name NAME`"
        case .schemaMismatch:
            return error.message.contains("newer version") ? "upgrade grants-admin" : "run `grants-admin db migrate` as the schema's owner"
        case .inPaymentBatch:
            let batch = error[.batch] ?? "BATCH"
            return "`grants-admin payment batch withdraw \(batch)` withdraws it; `grants-admin payment import FILE` reads the notification"
        case .outputFailed where error.message.contains("not a regular file"):
            return "use --output - for standard output"
        default:
            return nil
        }
    }

    /// Prints the error and turns it into the exit code. After SIGINT or SIGTERM the error is whatever the
    /// cancellation caused: it is not printed, and the interruption's own line and code are given instead.
    static func report(_ error: any Error, flags: FlagNames = .standard) -> ExitCode {
        if let signal = Interruption.signal { return ExitCode(Interruption.exitCode(signal)) }
        for line in lines(for: error, flags: flags) { Terminal.error(line) }
        return ExitCode(exitCode(for: error))
    }
}

/// The library names inputs by domain path (`decided_on`, `period.start`, `partners[1]`); the command line
/// names them by flag. A path with no flag (a manifest's `grants[3].amount`) is printed as it is.
struct FlagNames: Sendable {
    let byPath: [String: String]

    static let standard = FlagNames(
        byPath: [
            "actor": "--actor", "programme": "--programme", "round": "--round", "reference": "--reference",
            "title": "--title", "applicant": "--applicant", "partners": "--partner", "themes": "--theme",
            "phase": "--phase", "requested": "--amount", "amount": "--amount", "period.start": "--start",
            "period.end": "--end", "decided_on": "--decided-on", "decision_ref": "--decision-ref", "reason": "--reason",
            "due_on": "--due", "paid_on": "--paid-on", "payment_reference": "--payment-ref", "reversed_on": "--on",
            "amount_change": "--amount-change", "ends_on": "--end", "name": "--name", "country": "--country",
            "org_number": "--org-number", "kind": "--kind", "municipality_code": "--municipality-code", "code": "CODE",
            "name_sv": "--name-sv", "name_en": "--name-en", "dac_sector": "--dac-sector", "budget": "--budget",
            "currency": "--currency", "rate": "--rate", "opens_on": "--opens", "closes_on": "--closes",
            "above_requested": "--above-requested",
            "person": "--person", "organisation": "--org", "continues": "--continues", "tranche": "--tranche",
            "before_tranche": "--before-tranche", "received_on": "--on", "approved_on": "--on", "settled_on": "--on",
            "spent": "--spent", "write_off": "--reason", "email": "--email", "phone": "--phone", "role": "--role",
            "amended_on": "--on", "cancelled_on": "--on", "closed_on": "--on", "corrects": "--corrects", "period": "PERIOD",
        ].merging(SettingFlags.flags) { first, _ in first })

    /// A CSV grant list takes its round from flags; its rows keep their own places (`line 12, column amount`).
    static let csvRound = FlagNames(byPath: [
        "programme": "--programme", "round.name": "--round", "round.budget": "--budget", "round.currency": "--currency",
        "round.decided_on": "--decided-on", "round.opens_on": "--opens", "round.closes_on": "--closes",
    ])

    /// Manifests name their own places (`grants[3].amount`, `line 12, column amount`): nothing is renamed.
    static let none = FlagNames(byPath: [:])

    func relocate(_ problem: Problem) -> Problem {
        problem.relocated(to: name(problem.location))
    }

    /// The flag for a domain path, or the path itself when no flag takes it.
    func name(_ location: String) -> String {
        // `partners[1]` is the second --partner.
        let path = location.split(separator: "[", maxSplits: 1).first.map(String.init) ?? location
        return byPath[path] ?? location
    }
}

/// A command line (or the environment standing in for it, such as GRANTS_DATABASE_URL) that cannot be used.
struct UsageError: Error, CustomStringConvertible {
    let description: String
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
