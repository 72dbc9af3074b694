import Foundation
import PGClient
import TestSupport
import Testing

/// Runs the built `grants-admin` as a subprocess, as a user would.
struct CLI {
    let databaseURL: String?
    var environment: [String: String] = [:]

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The binary beside the test bundle (both are products of the same build), or GRANTS_ADMIN_BINARY.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["GRANTS_ADMIN_BINARY"] { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // The runner may live inside a bundle folder (…/grantsPackageTests.xctest/…).
        while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("grants-admin").path) && folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("grants-admin")
    }

    static var examples: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples").standardized
    }

    init(configuration: PGConfiguration?) {
        databaseURL = configuration.map(Self.url)
    }

    static func url(_ configuration: PGConfiguration) -> String {
        var query: [String] = []
        for key in ["host", "port", "user"] { if let value = configuration[key] { query.append("\(key)=\(value)") } }
        return "postgresql:///\(configuration["dbname"] ?? "postgres")?" + query.joined(separator: "&")
    }

    /// Runs the binary with the test's database and actor, without the caller's PG* variables.
    @discardableResult
    func run(_ arguments: [String]) throws -> Result {
        let result = try spawn([Self.binary.path] + arguments, environment: processEnvironment, separateStderr: true)
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// Runs a bash script in `folder` with the same environment, `$GRANTS_ADMIN` naming the binary.
    func shell(_ script: String, in folder: URL) throws -> Result {
        var env = processEnvironment
        env["GRANTS_ADMIN"] = Self.binary.path
        let result = try spawn(["bash", "-c", "cd \"$0\" && \(script)", folder.path], environment: env, separateStderr: true)
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// Starts the binary and returns at once, for tests that signal it while it works.
    func start(_ arguments: [String]) throws -> Running {
        try Running(argv: [Self.binary.path] + arguments, environment: processEnvironment)
    }

    /// A `grants-admin` started by ``start(_:)``: its pid, and its exit status and output once it ends.
    final class Running: @unchecked Sendable {
        // @unchecked: the fields are set in init and never change; `wait()` is called once, by the test.
        let pid: pid_t
        private let stdoutPath: String
        private let stderrPath: String

        init(argv: [String], environment: [String: String]) throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("running-\(UUID().uuidString)").path
            stdoutPath = base + ".out"
            stderrPath = base + ".err"
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            let cArguments = argv.map { strdup($0) } + [nil]
            let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer {
                for pointer in cArguments { free(pointer) }
                for pointer in cEnvironment { free(pointer) }
            }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, cEnvironment)
            guard spawned == 0 else { throw CocoaError(.executableLoad) }
            self.pid = pid
        }

        /// Waits for the process and gives its exit status (128 + N when signal N ended it). A process still running
        /// after `limit` (a command that hangs instead of stopping) is killed and the test fails, rather than hanging.
        func wait(limit: Duration = .seconds(300)) async throws -> Result {
            let pid = pid
            var status: Int32 = 0
            let deadline = ContinuousClock.now + limit
            while true {
                let ended = waitpid(pid, &status, WNOHANG)
                if ended == pid { break }
                if ended < 0 && errno != EINTR { throw CocoaError(.executableLoad) }
                if ContinuousClock.now > deadline {
                    Issue.record("grants-admin (pid \(pid)) was still running after \(limit): killed")
                    kill(pid, SIGKILL)
                    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            defer {
                unlink(stdoutPath)
                unlink(stderrPath)
            }
            return Result(
                status: status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F),
                stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
        }
    }

    private var processEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in ["PGHOST", "PGDATABASE", "PGSERVICE", "DATABASE_URL", "GRANTS_DATABASE_URL", "PGUSER", "PGPORT"] { env[key] = nil }
        if let databaseURL { env["GRANTS_DATABASE_URL"] = databaseURL }
        env["GRANTS_ACTOR"] = "tester"
        for (key, value) in environment { env[key] = value }
        return env
    }
}

/// Row counts of every table: "nothing written" means these do not move.
func tableCounts(_ configuration: PGConfiguration) throws -> [String: Int64] {
    let connection = try PGConnection(configuration: configuration)
    var counts: [String: Int64] = [:]
    for table in [
        "programme", "allocation_round", "organisation", "theme", "application", "application_partner",
        "application_theme", "approval", "grant", "grant_amendment", "disbursement", "audit_event", "idempotency_key",
        "conflict_of_interest",
    ] {
        counts[table] = try connection.query("SELECT count(*) FROM grants.\(unsafeRaw: table)")[0].decode(Int64.self, column: 0)
    }
    return counts
}

/// A fresh folder under the temporary directory.
func temporaryFolder(_ prefix: String = "grants-cli") throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

func temporaryFile(_ name: String, _ contents: Data) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("grants-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try contents.write(to: url)
    return url
}
