import Foundation

/// Runs a program found on PATH and waits with waitpid; stdout and stderr together. Foundation's Process is
/// not used in tests: it reaps children through a Dispatch source that starves while a busy parallel test
/// run keeps every cooperative thread waiting.
public func runTool(_ argv: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    let result = try spawn(argv, environment: env, separateStderr: false)
    return (result.status, result.stdout)
}

/// Runs `argv` with exactly `environment`; stdout and stderr captured apart, or together when not `separateStderr`.
public func spawn(
    _ argv: [String], environment env: [String: String], separateStderr: Bool
) throws -> (status: Int32, stdout: String, stderr: String) {
    let capture = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID().uuidString)").path
    let errors = capture + ".err"
    defer {
        unlink(capture)
        unlink(errors)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, capture, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if separateStderr {
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    let cArguments = argv.map { strdup($0) } + [nil]
    let cEnvironment = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for pointer in cArguments { free(pointer) }
        for pointer in cEnvironment { free(pointer) }
    }
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, argv[0], &actions, nil, cArguments, cEnvironment)
    guard spawned == 0 else { return (127, "", "\(argv[0]) not found: install it (xmllint: apt-get install libxml2-utils)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (
        status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F),
        (try? String(contentsOfFile: capture, encoding: .utf8)) ?? "",
        (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
    )
}

/// The repository's top folder (for Scripts/ and Examples/).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
