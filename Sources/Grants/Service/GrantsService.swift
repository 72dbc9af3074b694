import CoreMetrics
import Logging
import PGClient
import Tracing

/// The one entry point: create it from a configuration and a `Logger`, then use its domain modules.
///
/// ```swift
/// let service = GrantsService(configuration: GrantsConfiguration(database: try PGConfiguration(url: url)), logger: logger)
/// try await service.migrate()
/// let round = try await service.rounds.create(
///     NewRound(programme: "Kommunala partnerskap", name: "2021:2", budget: try Money(parsing: "10 641 000", currency: .sek)),
///     actor: "anna")
/// await service.close()
/// ```
/// Every write runs in one transaction, records an audit event with its actor in that transaction, and is
/// retried whole on serialization failures. Errors are `GrantsError`s.
///
/// With a replica configured, reports and listings read from it (see ``GrantsConfiguration/replica``); every
/// other call, and every write, uses the primary. Each public call is one span (`grants.<module>.<call>`, e.g.
/// `grants.disbursements.schedule`) on the configured tracer.
public final class GrantsService: Sendable {
    /// The primary's pool: the only one writes can reach.
    let pool: PGPool
    /// The standby, for reports and listings: reachable through read-only transactions only.
    let replica: ReplicaReads?
    let logger: Logger
    let retry: PGRetryPolicy
    let tracer: any Tracer
    let metrics: GrantsMetrics

    public init(configuration: GrantsConfiguration, logger: Logger = Logger(label: "grants")) {
        let factory = configuration.metricsFactory ?? MetricsSystem.factory
        metrics = GrantsMetrics(factory: factory)
        let primary = PGPool(
            configuration: configuration.database, size: configuration.poolSize, name: "primary", logger: logger, metricsFactory: factory)
        pool = primary
        replica = configuration.replica.map { [metrics] in
            ReplicaReads(
                replica: $0, primary: primary, configuration: configuration, logger: logger, metrics: metrics, metricsFactory: factory)
        }
        tracer = configuration.tracer ?? InstrumentationSystem.tracer
        self.logger = logger
        retry = configuration.retry
    }

    /// The migrations compiled into this library (the copy of `Schema/`).
    public static var migrations: [PGMigration] { EmbeddedSchema.migrations }

    /// The current definitions of the database's API functions, views and grants (the copy of `Schema/*/`),
    /// re-applied by ``migrate()`` whenever their text changes.
    public static var repeatables: [PGRepeatable] { EmbeddedSchema.repeatables }

    /// The migrator for this library's schema: numbered migrations, then the repeatable definitions.
    public static let migrator = PGMigrator(
        schema: "grants", migrations: EmbeddedSchema.migrations, repeatables: EmbeddedSchema.repeatables,
        afterRepeatables: "SELECT grants.apply_privileges()")

    /// Applies pending migrations; returns the ones applied.
    @discardableResult
    public func migrate() async throws(GrantsError) -> [PGMigration] {
        try await run("grants.service.migrate") { try Self.migrator.migrate($0) }
    }

    public func migrationStatus() async throws(GrantsError) -> [PGMigrationStatus] {
        try await run("grants.service.migration_status") { try Self.migrator.status($0) }
    }

    /// The configured replica against the primary (nil without one); never throws, since a standby that is down
    /// is a state to show, not an error.
    public func replicaStatus() async -> ReplicaStatus? {
        guard let replica else { return nil }
        return await traced("grants.service.replica_status") { await replica.status() }
    }

    /// Checks that the database holds the schema this library needs, in two light queries (not the checksums
    /// ``migrationStatus()`` computes): every migration it carries applied, and none it does not know. Throws
    /// a `GrantsError` of code `schemaMismatch` saying what to do: migrate when the database is behind
    /// (``migrate()``), upgrade this program when a newer version migrated it.
    ///
    /// ```swift
    /// try await service.checkSchema()   // at start-up, before taking requests
    /// ```
    public func checkSchema() async throws(GrantsError) {
        try await run { connection in
            if let cause = try Self.schemaMismatch(connection) { throw GrantsError.schemaMismatch(cause) }
        }
    }

    static func schemaMismatch(_ connection: PGConnection) throws -> String? {
        let table = try connection.query("SELECT to_regclass('grants.schema_migrations') IS NOT NULL")[0].decode(Bool.self, column: 0)
        guard table else { return "the database is not migrated: migrate it to this version" }
        let applied: Set<Int>
        do {
            applied = Set(try connection.query("SELECT version FROM grants.schema_migrations").map { try $0.decode(Int.self, column: 0) })
        } catch let error as PGError where error.sqlState == .insufficientPrivilege {
            // A login that may not read the migrations table: the statements themselves will tell.
            return nil
        }
        let known = Set(EmbeddedSchema.migrations.map(\.version))
        let newer = applied.subtracting(known).sorted()
        if !newer.isEmpty {
            return
                "the database was migrated by a newer version of grants (migration \(newer.map(String.init).joined(separator: ", ")) is unknown to this one): upgrade this program"
        }
        let pending = known.subtracting(applied).sorted()
        if !pending.isEmpty {
            return
                "the database is not migrated to this version (\(pending.count) pending, from \(pending[0])): migrate it"
        }
        // The API's definitions are compared by checksum, not only by version: an older definition of a
        // function this program calls would answer for other rules.
        let stale: [String]
        do {
            stale = try migrator.staleRepeatables(connection)
        } catch let error as PGError where error.sqlState == .insufficientPrivilege {
            return nil
        }
        if !stale.isEmpty {
            return
                "the database's API functions are not this version's (\(stale.joined(separator: ", "))): migrate it"
        }
        return nil
    }

    /// The cluster-wide roles, all without login: `grants_owner` runs migrations, `grants_staff` is for a
    /// person's own login, `grants_service` for the pool login of an embedding service that states who acts,
    /// `grants_finance` reads.
    public static let roles = ["grants_owner", "grants_staff", "grants_service", "grants_finance"]

    /// Creates the cluster-wide ``roles`` if missing and, on a migrated database, grants them their privileges
    /// (on one not migrated yet, the migration does). Needs a user allowed to create roles.
    public func createRoles() async throws(GrantsError) {
        try await run("grants.service.create_roles") { connection in
            try connection.transaction {
                for role in Self.roles {
                    let exists = try connection.query("SELECT 1 FROM pg_roles WHERE rolname = \(role)").count == 1
                    if !exists { try connection.execute("CREATE ROLE \(identifier: role) NOLOGIN") }
                }
                // Before the first migration there is nothing to grant yet: the migration grants to the roles
                // that exist when it runs (Schema/privileges/roles.sql).
                let migrated = try connection.query("SELECT to_regprocedure('grants.apply_privileges()') IS NOT NULL")[0]
                    .decode(Bool.self, column: 0)
                if migrated { try connection.execute("SELECT grants.apply_privileges()") }
            }
        }
    }

    /// Finishes the pools' connections.
    public func close() async {
        await pool.close()
        await replica?.close()
    }

    public var themes: Themes { Themes(service: self) }
    public var organisations: Organisations { Organisations(service: self) }
    public var rounds: Rounds { Rounds(service: self) }
    public var reports: Reports { Reports(service: self) }
    public var applications: Applications { Applications(service: self) }
    public var approvals: Approvals { Approvals(service: self) }
    public var grants: GrantRegistry { GrantRegistry(service: self) }
    public var disbursements: Disbursements { Disbursements(service: self) }
    public var audit: AuditLog { AuditLog(service: self) }
    public var persons: Persons { Persons(service: self) }
    public var conflicts: ConflictsOfInterest { ConflictsOfInterest(service: self) }
    public var requirements: Requirements { Requirements(service: self) }
    public var repayments: Repayments { Repayments(service: self) }
    public var partnerships: Partnerships { Partnerships(service: self) }
    public var contacts: Contacts { Contacts(service: self) }
    public var programmes: Programmes { Programmes(service: self) }
    public var payeeAccounts: PayeeAccounts { PayeeAccounts(service: self) }
    public var paymentBatches: PaymentBatches { PaymentBatches(service: self) }
    public var bankMessages: BankMessages { BankMessages(service: self) }
    public var periods: Periods { Periods(service: self) }

    // MARK: Running work
    // Each takes the span's name (`grants.<module>.<call>`); without one it is made from the calling function and
    // file. Inside a call that already has its span (see `traced`), no other is opened.

    /// A write: one READ COMMITTED transaction on the primary, retried on 40001/40P01, errors as `GrantsError`.
    func write<T: Sendable>(
        _ operation: String = #function, fileID: String = #fileID, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws(GrantsError) -> T {
        try await traced(Self.spanName(operation, fileID)) { () async throws(GrantsError) -> T in
            try await retryingIdempotencyRaces {
                do {
                    return try await pool.transaction(isolation: .readCommitted, retry: retry) { connection in
                        try LocalSettings.lightPlanning.apply(connection)
                        return try body(connection)
                    }
                } catch {
                    // A body that rolled back on purpose (a dry run) answers with what it carried out.
                    guard let rollBack = PGTransactionError.underlyingError(of: error) as? RollBack<T> else { throw error }
                    return rollBack.answer
                }
            }
        }
    }

    /// A write that is one statement, a call of one of the database's API functions (`grants_api.approve`,
    /// `grants_api.schedule`, …), sent outside a transaction block: the server commits it before it answers, so the
    /// locks it takes (a round's row) are not held across a round trip to this process. The function's own
    /// statements have plans the session keeps, and the call itself is a statement prepared on the session when
    /// the session keeps it (not through a transaction pooler), so nothing is parsed or planned per call. Retried
    /// like `write`.
    func writeOneStatement<T: Sendable>(
        _ operation: String = #function, fileID: String = #fileID, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws(GrantsError) -> T {
        try await traced(Self.spanName(operation, fileID)) { () async throws(GrantsError) -> T in
            try await retryingIdempotencyRaces {
                try await pool.autocommit(retry: retry) { connection in
                    try connection.preparingStatements { try body(connection) }
                }
            }
        }
    }

    /// Thrown by a write's body to roll back everything it wrote and answer with `answer` (a dry run).
    struct RollBack<Answer: Sendable>: Error {
        let answer: Answer
    }

    /// Runs `attempt` again when a concurrent request with the same idempotency key committed first (its key's
    /// primary key refused this one): the next run's lookup finds that request's result. Errors as `GrantsError`.
    private func retryingIdempotencyRaces<T: Sendable>(_ attempt: () async throws -> T) async throws(GrantsError) -> T {
        var retries = 0
        while true {
            do {
                return try await attempt()
            } catch let error
                where (PGTransactionError.underlyingError(of: error) as? PGError)?.constraint == "idempotency_key_pkey" && retries < 3
            {
                metrics.idempotencyRetries.increment()
                retries += 1
            } catch {
                throw translated(error)
            }
        }
    }

    /// What a transaction sets for itself before its body, in one statement.
    enum LocalSettings: String {
        /// Writes and lookups by key find their rows by key and join in the order they are written, so the planner
        /// need not search join orders: for the wide reads of a grant with its parties that search was most of
        /// their cost (0.37 ms planned, 0.1 ms run; 0.19 ms planned this way).
        case lightPlanning = "SET LOCAL join_collapse_limit = 1; SET LOCAL from_collapse_limit = 1"
        /// Listings and exports keep the full search, without JIT: their rows come with small per-row subqueries
        /// (an application's partners and themes) that the planner prices high, so past a few thousand rows the
        /// estimate crosses `jit_above_cost`, and compiling the plan costs more than it saves: 20–75 ms of JIT
        /// measured for a round of 10 000 grants whose query runs in about 100 ms without; for the disbursement
        /// export, about 150 ms of JIT at 100 000 rows, and no gain from it at a million.
        case listing = "SET LOCAL jit = off"
        /// An export also leaves a core to its client, which formats the rows as they arrive: its query asks for at
        /// most one parallel worker (never more than the server allows). The disbursement export's union of
        /// money entries makes PostgreSQL plan a Parallel Append with two workers where the table's size
        /// warrants one; on two cores the second worker, the leader and the client then took turns, and the
        /// export of 100 000 rows took 0.96–1.05 s against 0.83–0.86 s with one (no change at a million rows).
        case export = """
            SET LOCAL jit = off;
            SELECT set_config('max_parallel_workers_per_gather',
                              least(current_setting('max_parallel_workers_per_gather')::int, 1)::text, true)
            """

        func apply(_ connection: PGConnection) throws { try connection.execute(unsafeScript: rawValue) }
    }

    /// The retry-safe add every module shares: what `find` returns is the answer when it is the same as what
    /// was asked for (`differences` is empty), a `GrantsError.conflict(entity:key:differences:)` when it is
    /// not, and `insert` runs only when nothing is recorded yet. One transaction.
    func addOnce<Recorded: Sendable>(
        _ operation: String = #function, fileID: String = #fileID,
        entity: String, key: String, find: @escaping @Sendable (PGConnection) throws -> Recorded?,
        differences: @escaping @Sendable (Recorded) -> [Difference],
        insert: @escaping @Sendable (PGConnection) throws -> Recorded
    ) async throws(GrantsError) -> Recorded {
        try await write(operation, fileID: fileID) { connection in
            guard let recorded = try find(connection) else { return try insert(connection) }
            let found = differences(recorded)
            guard found.isEmpty else { throw GrantsError.conflict(entity: entity, key: key, differences: found) }
            return recorded
        }
    }

    /// A read from one consistent snapshot of the primary: lookups by key, and reads that are part of a write's
    /// answer, planned like a write's statements (see `LocalSettings`).
    func read<T: Sendable>(
        _ operation: String = #function, fileID: String = #fileID, settings: LocalSettings = .lightPlanning,
        _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws(GrantsError) -> T {
        try await traced(Self.spanName(operation, fileID)) { () async throws(GrantsError) -> T in
            do {
                return try await pool.transaction(isolation: .repeatableRead, readOnly: true, retry: retry) { connection in
                    try settings.apply(connection)
                    return try body(connection)
                }
            } catch {
                throw translated(error)
            }
        }
    }

    /// A listing: one consistent snapshot from the replica when one is configured (as fresh as the primary was
    /// when the call began, else from the primary), else from the primary, planned as `LocalSettings.listing`
    /// says on either. `body` only reads and returns.
    func listing<T: Sendable>(
        _ operation: String = #function, fileID: String = #fileID, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws(GrantsError) -> T {
        guard let replica else { return try await read(operation, fileID: fileID, settings: .listing, body) }
        return try await traced(Self.spanName(operation, fileID)) { () async throws(GrantsError) -> T in
            do {
                return try await replica.read(retry: retry, rerunnable: true) { connection in
                    try LocalSettings.listing.apply(connection)
                    return try body(connection)
                }
            } catch {
                throw translated(error)
            }
        }
    }

    /// An export: `body` runs once in a read-only REPEATABLE READ transaction, on the replica when one is
    /// configured and has caught up, else on the primary, planned as `LocalSettings.export` says. Never run
    /// twice, since it writes as it goes.
    func export<T: Sendable>(
        _ operation: String = #function, fileID: String = #fileID, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws(GrantsError) -> T {
        try await traced(Self.spanName(operation, fileID)) { () async throws(GrantsError) -> T in
            do {
                let planned: @Sendable (PGConnection) throws -> T = { connection in
                    try LocalSettings.export.apply(connection)
                    return try body(connection)
                }
                if let replica { return try await replica.read(retry: .never, rerunnable: false, planned) }
                return try await pool.transaction(isolation: .repeatableRead, readOnly: true, retry: .never, planned)
            } catch {
                throw translated(error)
            }
        }
    }

    /// Work on the primary that manages its own transactions (migrations, statistics).
    func run<T: Sendable>(
        _ operation: String = #function, fileID: String = #fileID, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws(GrantsError) -> T {
        try await traced(Self.spanName(operation, fileID)) { () async throws(GrantsError) -> T in
            do {
                return try await pool.withConnection(body)
            } catch {
                throw translated(error)
            }
        }
    }

    /// `error` in the library's terms; a ROLLBACK that failed after it is logged here (and kept in the error).
    func translated(_ error: any Error) -> GrantsError {
        let translated = DatabaseRules.translate(error)
        if let rollback = translated[.rollback] {
            logger.warning("a rollback failed after an error", metadata: ["error": "\(translated.code)", "rollback": "\(rollback)"])
        }
        return translated
    }

    static func spanName(_ operation: String, _ fileID: String) -> String {
        operation.hasPrefix("grants.") ? operation : operationName(function: operation, fileID: fileID)
    }
}
