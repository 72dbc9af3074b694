import Foundation
import Grants
import Logging
import PGClient

/// Databases with the grants schema for tests: each test gets its own copy of a migrated template.
public enum TestGrants {
    /// The template's name changes with the schema, so an edited migration never meets a stale template.
    static func templateName() -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for text in GrantsService.migrations.map(\.sql) + GrantsService.repeatables.map(\.sql) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return "grants_" + String(hash, radix: 16)
    }

    /// Creates the cluster-wide roles once, and login users that are members of them for the tests: the
    /// personal logins `test_staff`, `test_staff2` and `test_finance` act only as themselves; `test_service`,
    /// an embedding service's pool login, states who acts.
    static func ensureRoles(_ connection: PGConnection) throws {
        try connection.execute(
            unsafeScript: """
                DO $$
                DECLARE r text;
                BEGIN
                    FOREACH r IN ARRAY ARRAY['grants_owner', 'grants_staff', 'grants_service', 'grants_finance'] LOOP
                        BEGIN EXECUTE format('CREATE ROLE %I NOLOGIN', r); EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
                    END LOOP;
                    BEGIN CREATE ROLE test_staff LOGIN IN ROLE grants_staff; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
                    BEGIN CREATE ROLE test_staff2 LOGIN IN ROLE grants_staff; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
                    BEGIN CREATE ROLE test_finance LOGIN IN ROLE grants_finance; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
                    BEGIN CREATE ROLE test_service LOGIN IN ROLE grants_service; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
                END
                $$;
                """)
    }

    public static func migratedTemplate() throws -> String {
        try TestServer.template(key: templateName()) { connection in
            try ensureRoles(connection)
            try GrantsService.migrator.migrate(connection)
            try registerPeople(connection)
        }
    }

    /// The people the tests act as, registered in the template: the names the tests use, the test logins,
    /// and numbered families (`caller-0` … , `anna-0` …) for tests with many concurrent actors.
    public static let people: [String] =
        ["anna", "bertil", "cecilia", "david", "erik", "f", "tester", "test_staff", "test_staff2", "test_finance", "test_service"]
        + (0..<64).map { "caller-\($0)" } + (0..<64).map { "anna-\($0)" }

    static func registerPeople(_ connection: PGConnection) throws {
        // The README tour registers anna, bertil and cecilia under these names: the same again is a retry.
        let names = ["anna": "Anna Lind", "bertil": "Bertil Ek", "cecilia": "Cecilia Holm"]
        let logins = ["anna"] + people.filter { $0 != "anna" }
        try connection.execute(
            """
            SELECT grants_api.person_add(p.login, p.name, 'anna')
              FROM unnest(\(logins)::text[], \(logins.map { names[$0] ?? $0 })::text[]) WITH ORDINALITY AS p(login, name, n)
             ORDER BY p.n
            """)
    }

    /// The logger tests give services: warnings and errors only, so expected notices (a lost connection, a
    /// statistics refresh that a killed backend did not finish) do not bury the output.
    public static var quietLogger: Logger {
        var logger = Logger(label: "grants.test")
        logger.logLevel = .warning
        return logger
    }

    /// A service on a fresh migrated database, connected as `user` (the superuser by default), closed afterwards.
    public static func withService<T>(
        user: String? = nil, poolSize: Int = 4, direct: Bool = false, _ body: (GrantsService, PGConfiguration) async throws -> T
    ) async throws -> T {
        let template = try await Blocking.run { try migratedTemplate() }
        return try await TestServer.withDatabase(template: template, direct: direct) { configuration in
            var connectAs = configuration
            if let user { connectAs["user"] = user }
            var logger = Logger(label: "grants.test")
            logger.logLevel = .warning
            let service = GrantsService(configuration: GrantsConfiguration(database: connectAs, poolSize: poolSize), logger: logger)
            do {
                let result = try await body(service, configuration)
                await service.close()
                return result
            } catch {
                await service.close()
                throw error
            }
        }
    }
}
