/// One numbered migration: its version, name and SQL (one or more statements).
///
/// ```swift
/// let migrations = [
///     PGMigration(version: 1, name: "schema", sql: "CREATE TABLE app.item (id bigint PRIMARY KEY)"),
///     PGMigration(version: 2, name: "names", sql: "ALTER TABLE app.item ADD COLUMN name text"),
/// ]
/// try PGMigrator(schema: "app", migrations: migrations).migrate(connection)
/// ```
public struct PGMigration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// A script re-applied whenever its text changes, after the numbered migrations (Flyway's "repeatable
/// migration"): the current definition of functions, views and grants, so each lives in one readable file
/// instead of being restated migration after migration. Applied in the order given; each script must be safe
/// to run again (`CREATE OR REPLACE`, `DROP … IF EXISTS`).
///
/// ```swift
/// let api = PGRepeatable(name: "api/approve", sql: "CREATE OR REPLACE FUNCTION app.approve(…) …")
/// try PGMigrator(schema: "app", migrations: migrations, repeatables: [api]).migrate(connection)
/// ```
public struct PGRepeatable: Sendable, Equatable {
    public let name: String
    public let sql: String
    /// FNV-1a (64 bits) of the text, computed here: whether a script changed is decided without sending its
    /// text to the server (the server still records its SHA-256 when it applies it).
    public let fingerprint: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        fingerprint = String(hash, radix: 16)
    }
}

/// What the database says about one migration.
///
/// ```swift
/// let behind = try migrator.status(connection).filter { $0.state == .pending }
/// ```
public struct PGMigrationStatus: Sendable, Equatable {
    /// `applied` as written; `pending`; `edited` (applied, but its text changed since: refused); `unknown` (in the
    /// database but not in this program: a newer version ran).
    ///
    /// ```swift
    /// let edited = try migrator.status(connection).filter { $0.state == .edited }
    /// if !edited.isEmpty { print("edited after they ran:", edited.map(\.name)) }   // migrate(_:) refuses these
    /// ```
    public enum State: String, Sendable { case applied, pending, edited, unknown }
    public let version: Int
    public let name: String
    public let state: State
}

/// Applies numbered migrations in order, each in its own transaction under `pg_advisory_xact_lock`, and
/// records each with a SHA-256 checksum in `<schema>.schema_migrations`. An applied migration whose text
/// changed since is refused; concurrent migrators serialize on the lock, so each migration runs once.
///
/// ```swift
/// let migrator = PGMigrator(schema: "grants", migrations: [PGMigration(version: 1, name: "schema", sql: "…")])
/// let applied = try migrator.migrate(connection)
/// ```
public struct PGMigrator: Sendable {
    public let schema: String
    public let migrations: [PGMigration]
    /// Re-applied, in the order given, after the migrations whenever their text changed.
    public let repeatables: [PGRepeatable]
    /// Run after the repeatables whenever any of them ran (for example re-granting privileges on functions
    /// a changed definition created).
    public let afterRepeatables: String?
    /// The advisory lock key; derived from the schema name so two libraries in one database do not block each other.
    public let lockKey: Int64

    public init(
        schema: String, migrations: [PGMigration], repeatables: [PGRepeatable] = [], afterRepeatables: String? = nil
    ) {
        self.schema = schema
        self.afterRepeatables = afterRepeatables
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.repeatables = repeatables
        // FNV-1a over the schema name: stable across processes and releases (unlike Hasher).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "pg-migrator:\(schema)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        lockKey = Int64(bitPattern: hash)
    }

    /// Applies what is pending; returns the migrations it applied (empty when the schema is current).
    ///
    /// A migration that fails is rolled back and reported as the ``PGTransactionError`` of its transaction: a
    /// statement of the migration, or the refusal of an edited one, is its ``PGTransactionError/closureError``.
    @discardableResult
    public func migrate(_ connection: PGConnection) throws -> [PGMigration] {
        try validateVersions()
        var applied: [PGMigration] = []
        for migration in migrations {
            let ran = try connection.transaction {
                try connection.execute("SELECT pg_advisory_xact_lock(\(lockKey))")
                try ensureTable(connection)
                let recorded = try recordedChecksums(connection)
                try refuseEdited(connection, recorded: recorded)
                if recorded[migration.version] != nil { return false }
                try connection.execute(unsafeScript: migration.sql)
                try connection.execute(
                    """
                    INSERT INTO \(identifier: schema).schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex'))
                    """)
                return true
            }
            if ran { applied.append(migration) }
        }
        try applyRepeatables(connection)
        return applied
    }

    /// Applies every repeatable script whose text differs from the one recorded (or that was never applied),
    /// each in its own transaction under the migration lock. True when any ran.
    @discardableResult
    public func applyRepeatables(_ connection: PGConnection) throws -> Bool {
        // One light read decides which scripts to look at; each of those is checked again under the lock.
        let recorded = try recordedFingerprints(connection)
        var ranAny = false
        for script in repeatables where recorded[script.name] != script.fingerprint {
            let ran = try connection.transaction {
                try connection.execute("SELECT pg_advisory_xact_lock(\(lockKey))")
                try ensureTable(connection)
                let current = try connection.query(
                    """
                    SELECT fingerprint FROM \(identifier: schema).schema_repeatables WHERE name = \(script.name)
                    """
                ).first?.decode(String?.self, column: 0)
                if current == script.fingerprint { return false }
                try connection.execute(unsafeScript: script.sql)
                try connection.execute(
                    """
                    INSERT INTO \(identifier: schema).schema_repeatables (name, checksum, fingerprint)
                    VALUES (\(script.name), encode(sha256(convert_to(\(script.sql), 'UTF8')), 'hex'), \(script.fingerprint))
                    ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, fingerprint = excluded.fingerprint,
                        applied_at = now(), applied_by = current_user
                    """)
                return true
            }
            ranAny = ranAny || ran
        }
        if ranAny, let afterRepeatables {
            try connection.transaction {
                try connection.execute("SELECT pg_advisory_xact_lock(\(lockKey))")
                try connection.execute(unsafeScript: afterRepeatables)
            }
        }
        return ranAny
    }

    /// The repeatable scripts whose recorded text differs from this program's (or that never ran): what a
    /// `migrate` would apply again. One small read; no script's text is sent.
    public func staleRepeatables(_ connection: PGConnection) throws -> [String] {
        let recorded = try recordedFingerprints(connection)
        return repeatables.filter { recorded[$0.name] != $0.fingerprint }.map(\.name)
    }

    /// Each applied repeatable's fingerprint, by name (empty before the first migration).
    private func recordedFingerprints(_ connection: PGConnection) throws -> [String: String] {
        guard !repeatables.isEmpty else { return [:] }
        let exists =
            try connection.query("SELECT to_regclass(\(schema + ".schema_repeatables")) IS NOT NULL")
            .first?.decode(Bool.self, column: 0) ?? false
        guard exists else { return [:] }
        var result: [String: String] = [:]
        for row in try connection.query("SELECT name, fingerprint FROM \(identifier: schema).schema_repeatables") {
            let fingerprint: String? = try row.decode(column: 1)
            result[try row.decode(String.self, column: 0)] = fingerprint
        }
        return result
    }

    /// Each known migration's state, plus versions recorded in the database that this program does not know.
    public func status(_ connection: PGConnection) throws -> [PGMigrationStatus] {
        let exists =
            try connection.query("SELECT to_regclass(\(schema + ".schema_migrations")) IS NOT NULL")
            .first?.decode(Bool.self, column: 0) ?? false
        let recorded = exists ? try recordedChecksums(connection) : [:]
        let current = try checksums(connection)
        var result = migrations.map { migration -> PGMigrationStatus in
            let state: PGMigrationStatus.State
            if let stored = recorded[migration.version] {
                state = stored.checksum == current[migration.version] ? .applied : .edited
            } else {
                state = .pending
            }
            return PGMigrationStatus(version: migration.version, name: migration.name, state: state)
        }
        let known = Set(migrations.map(\.version))
        for (version, stored) in recorded.sorted(by: { $0.key < $1.key }) where !known.contains(version) {
            result.append(PGMigrationStatus(version: version, name: stored.name, state: .unknown))
        }
        return result
    }

    private func validateVersions() throws {
        var seen = Set<Int>()
        for migration in migrations where !seen.insert(migration.version).inserted {
            throw PGError(kind: .usage, message: "two migrations share version \(migration.version)")
        }
    }

    private func ensureTable(_ connection: PGConnection) throws {
        try connection.execute("CREATE SCHEMA IF NOT EXISTS \(identifier: schema)")
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(identifier: schema).schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text NOT NULL DEFAULT current_user
            )
            """)
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(identifier: schema).schema_repeatables (
                name       text PRIMARY KEY,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text NOT NULL DEFAULT current_user
            )
            """)
        try connection.execute(
            "ALTER TABLE \(identifier: schema).schema_repeatables ADD COLUMN IF NOT EXISTS fingerprint text")
    }

    private func recordedChecksums(_ connection: PGConnection) throws -> [Int: (name: String, checksum: String)] {
        var recorded: [Int: (name: String, checksum: String)] = [:]
        for row in try connection.query("SELECT version, name, checksum FROM \(identifier: schema).schema_migrations") {
            let (version, name, checksum) = try row.decode((Int, String, String).self)
            recorded[version] = (name, checksum)
        }
        return recorded
    }

    /// The checksums of this program's migrations, computed by the server so both sides agree on the bytes.
    private func checksums(_ connection: PGConnection) throws -> [Int: String] {
        let versions = migrations.map(\.version)
        let texts = migrations.map(\.sql)
        var result: [Int: String] = [:]
        let rows = try connection.query(
            """
            SELECT v, encode(sha256(convert_to(t, 'UTF8')), 'hex')
            FROM unnest(\(versions)::int8[], \(texts)::text[]) AS m(v, t)
            """)
        for row in rows {
            let (version, checksum) = try row.decode((Int, String).self)
            result[version] = checksum
        }
        return result
    }

    private func refuseEdited(_ connection: PGConnection, recorded: [Int: (name: String, checksum: String)]) throws {
        guard !recorded.isEmpty else { return }
        let current = try checksums(connection)
        for (version, stored) in recorded.sorted(by: { $0.key < $1.key }) {
            if let checksum = current[version], checksum != stored.checksum {
                throw PGError(
                    kind: .usage,
                    message:
                        "migration \(version) (\(stored.name)) was edited after it was applied: its checksum no longer matches; add a new migration instead"
                )
            }
        }
    }
}
