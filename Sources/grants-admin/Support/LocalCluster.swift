import Foundation
import PGClient

/// The embedded default database: a private PostgreSQL cluster under `$GRANTS_HOME`, created with the
/// server programs on the machine, reached over a Unix socket in its own folder. As root the server runs
/// as the unprivileged `postgres` user, so the default home for root is /var/lib/grants-admin, which that
/// user can reach (/root is not).
struct LocalCluster {
    let home: URL
    var folder: URL { home.appendingPathComponent("postgresql") }
    var data: URL { folder.appendingPathComponent("data") }
    var socket: URL { folder.appendingPathComponent("socket") }
    var log: URL { folder.appendingPathComponent("server.log") }
    static let databaseName = "grants"
    static let port = "5432"

    static var isRoot: Bool { geteuid() == 0 }

    static func fromEnvironment() -> LocalCluster {
        let environment = ProcessInfo.processInfo.environment
        if let home = environment["GRANTS_HOME"], !home.isEmpty { return LocalCluster(home: URL(fileURLWithPath: home)) }
        if isRoot { return LocalCluster(home: URL(fileURLWithPath: "/var/lib/grants-admin")) }
        let userHome = environment["HOME"] ?? NSHomeDirectory()
        return LocalCluster(home: URL(fileURLWithPath: userHome).appendingPathComponent(".local/share/grants-admin"))
    }

    /// The connection URL of the `grants` database, for other programs that share it.
    var url: String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+#")
        let host = socket.path.addingPercentEncoding(withAllowedCharacters: allowed) ?? socket.path
        return "postgresql:///\(Self.databaseName)?host=\(host)&port=\(Self.port)&user=postgres"
    }

    /// How to reach the cluster's `grants` database.
    var configuration: PGConfiguration {
        PGConfiguration(parameters: ["host": socket.path, "port": Self.port, "dbname": Self.databaseName, "user": "postgres"])
    }

    var isInitialized: Bool { FileManager.default.fileExists(atPath: data.appendingPathComponent("PG_VERSION").path) }

    func isRunning() throws -> Bool {
        guard isInitialized else { return false }
        return try run(tool("pg_ctl"), ["-D", data.path, "status"], allowFailure: true).status == 0
    }

    /// Creates and starts the cluster as needed; returns what it had to do ("created and started", "started", nil).
    /// A cluster that cannot be created leaves nothing behind: the folders made for it are removed again.
    @discardableResult
    func ensureRunning() throws -> String? {
        let made = Leftovers(self)
        if !isInitialized {
            do {
                try checkReachable()
            } catch {
                made.remove()
                throw error
            }
        }
        return try withLock {
            var did: [String] = []
            if !isInitialized {
                do {
                    try create()
                } catch {
                    made.remove()
                    throw error
                }
                did.append("created")
            }
            if try !isRunning() {
                try start()
                did.append("started")
            }
            try ensureDatabase()
            return did.isEmpty ? nil : did.joined(separator: " and ")
        }
    }

    func start() throws {
        guard isInitialized else {
            throw LocalClusterError(message: "no embedded database at \(home.path) yet: any other command creates it")
        }
        try ownedDirectory(socket)
        let result = try run(tool("pg_ctl"), ["-D", data.path, "-l", log.path, "-w", "-t", "60", "start"], allowFailure: true)
        if result.status != 0 {
            let tail = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").suffix(3).joined(separator: " | ") ?? ""
            throw LocalClusterError(
                message: "the embedded PostgreSQL in \(folder.path) did not start: \(tail.isEmpty ? result.output : tail)")
        }
    }

    func stop() throws {
        guard try isRunning() else { return }
        _ = try run(tool("pg_ctl"), ["-D", data.path, "-m", "fast", "-w", "stop"])
    }

    /// As root the server runs as `postgres`, which must be able to reach the cluster's folder (a home under
    /// /root is not): checked before anything is created, so the user gets one clear line instead of initdb's
    /// last words, and no folder is left behind.
    private func checkReachable() throws {
        guard Self.isRoot else { return }
        var existing = home.standardizedFileURL
        while !FileManager.default.fileExists(atPath: existing.path) && existing.path != "/" {
            existing = existing.deletingLastPathComponent()
        }
        let status = try run("/usr/bin/env", ["test", "-x", existing.path], allowFailure: true).status
        guard status == 0 else {
            throw LocalClusterError(
                message:
                    "the embedded PostgreSQL runs as the postgres user, which cannot reach \(existing.path) (GRANTS_HOME \(home.path)): choose a GRANTS_HOME it can reach, e.g. under /var/lib, or set GRANTS_DATABASE_URL"
            )
        }
    }

    /// What creating the cluster makes, so a failed creation can take it away again: the topmost folder on
    /// the way to the home that did not exist (or, with the home there, its cluster folder and lock file).
    struct Leftovers {
        let paths: [String]

        init(_ cluster: LocalCluster) {
            let files = FileManager.default
            var topmost: URL?
            var url = cluster.home.standardizedFileURL
            while !files.fileExists(atPath: url.path) && url.path != "/" {
                topmost = url
                url = url.deletingLastPathComponent()
            }
            if let topmost {
                paths = [topmost.path]
            } else {
                paths = [cluster.folder.path, cluster.home.appendingPathComponent(".lock").path].filter { !files.fileExists(atPath: $0) }
            }
        }

        func remove() {
            for path in paths { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    private func create() throws {
        let initdb = try tool("initdb")
        try makeDirectory(home, mode: 0o755)
        try ownedDirectory(folder)
        try ownedDirectory(data)
        try ownedDirectory(socket)
        _ = try run(initdb, ["-D", data.path, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        let settings = """

            # grants-admin: a private cluster reached only over the Unix socket in its own folder.
            listen_addresses = ''
            unix_socket_directories = '\(socket.path)'
            port = \(Self.port)

            """
        let conf = data.appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: conf)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
        try handle.close()
    }

    private func ensureDatabase() throws {
        var maintenance = configuration
        maintenance["dbname"] = "postgres"
        let connection = try PGConnection(configuration: maintenance)
        let exists = try connection.query("SELECT 1 FROM pg_database WHERE datname = \(Self.databaseName)").count == 1
        if !exists {
            do {
                try connection.execute("CREATE DATABASE \(identifier: Self.databaseName)")
            } catch let error as PGError where error.sqlState == SQLState(rawValue: "42P04") {
                // Created by a concurrent invocation.
            }
        }
    }

    /// A folder (and the ones above it), or one line saying why not.
    private func makeDirectory(_ url: URL, mode: Int) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
        } catch {
            let reason = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) }
            throw LocalClusterError(
                message: "cannot create \(url.path) for the embedded PostgreSQL (GRANTS_HOME \(home.path)): \(reason ?? "\(error)")")
        }
    }

    /// A folder the server's user owns (as root: the `postgres` user), private to it.
    private func ownedDirectory(_ url: URL) throws {
        try makeDirectory(url, mode: 0o700)
        guard Self.isRoot else { return }
        guard let user = getpwnam("postgres") else {
            throw LocalClusterError(
                message:
                    "running as root needs an unprivileged 'postgres' user to own the embedded cluster (Debian's postgresql package creates it); or set GRANTS_DATABASE_URL"
            )
        }
        guard chown(url.path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw LocalClusterError(message: "cannot hand \(url.path) to the postgres user: \(String(cString: strerror(errno)))")
        }
    }

    /// Serialises concurrent invocations that would otherwise both run initdb.
    private func withLock<T>(_ body: () throws -> T) throws -> T {
        try makeDirectory(home, mode: 0o755)
        let path = home.appendingPathComponent(".lock").path
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LocalClusterError(message: "cannot use \(home.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw LocalClusterError(message: "cannot lock \(path)") }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// A PostgreSQL server program: on PATH, else the newest under /usr/lib/postgresql/*/bin.
    func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        for version in versions {
            let candidate = "\(root)/\(version)/bin/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw LocalClusterError(
            message:
                "the PostgreSQL server programs (\(name)) are not installed: install them (Debian: apt-get install postgresql) or set GRANTS_DATABASE_URL to a server"
        )
    }

    /// Runs a server program, as the `postgres` user when we are root (initdb and postgres refuse root).
    private func run(_ program: String, _ arguments: [String], allowFailure: Bool = false) throws -> (status: Int32, output: String) {
        var argv = [program] + arguments
        if Self.isRoot {
            let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
            guard let runuser else {
                throw LocalClusterError(message: "running as root needs runuser (util-linux) to start PostgreSQL as the postgres user")
            }
            argv = [runuser, "-u", "postgres", "--"] + argv
        }
        let (status, output) = try Spawn.run(argv)
        if status != 0 && !allowFailure {
            let last = output.split(separator: "\n").suffix(2).joined(separator: " | ")
            throw LocalClusterError(message: "\((program as NSString).lastPathComponent) failed: \(last)")
        }
        return (status, output)
    }
}

/// posix_spawn and waitpid, with output captured in a file. Foundation's Process is not used: the server
/// that pg_ctl starts inherits the descriptors Process watches, so it would wait for the server to exit.
enum Spawn {
    static func run(_ argv: [String]) throws -> (status: Int32, output: String) {
        let capture = FileManager.default.temporaryDirectory
            .appendingPathComponent("grants-admin-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out").path
        let cleanup = Interruption.onForcedExit { unlink(capture) }
        defer {
            unlink(capture)
            Interruption.forget(cleanup)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, capture, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else {
            throw LocalClusterError(message: "cannot run \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw LocalClusterError(message: "waiting for \(argv[0]) failed") }
        }
        let output = (try? String(contentsOfFile: capture, encoding: .utf8)) ?? ""
        // WIFEXITED/WEXITSTATUS, spelled out: the macros do not import into Swift.
        let exited = status & 0x7F == 0
        return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), output)
    }
}

struct LocalClusterError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
