import Foundation
@testable import Grants
import PGClient
import TestSupport
import Testing

/// The database is the boundary: no login but the owner writes a table, each role may call exactly the
/// functions documented for it, records refuse TRUNCATE for everyone, references are PostgreSQL's own
/// foreign keys, and only registered people act. Each attack is tried as the login an adversary would have.
@Suite("The database is the boundary")
struct BoundaryTests {
    static let libraryRoles = ["grants_staff", "grants_service", "grants_finance"]
    static let logins = ["test_staff", "test_staff2", "test_service", "test_finance"]

    /// What each role may EXECUTE, as the README's "Who may do what" documents it: every grants_api function
    /// for staff and service (the person register for service only) except finance's own; a few pure functions
    /// for reading; nothing that writes or locks for finance but its own acts.
    static let readingFunctions: Set<String> = [
        "grants.actor_name(text)", "grants.login_actor()", "grants.paid_part(text,bigint)",
        "grants.committed_part(text,bigint)", "grants.rule_detail(text,text,text,jsonb)",
        "grants.recorded_paid_at(text,timestamp with time zone,timestamp with time zone)",
        "grants.business_date(date,timestamp with time zone)", "grants_api.periods(text)",
    ]
    /// The books' own acts and the bank's answers: finance's, and no other role's.
    static let periodFunctions: Set<String> = [
        "grants_api.close_period(text,text,text)", "grants_api.open_period(text,text,text,text)",
        "grants_api.import_bank_message(text,text,jsonb,text)",
    ]

    func connect(_ configuration: PGConfiguration, as user: String) throws -> PGConnection {
        var login = configuration
        login["user"] = user
        return try PGConnection(configuration: login)
    }

    @Test func noTableIsWritableByAnyRoleButTheOwner() async throws {
        try await TestGrants.withService { _, configuration in
            let connection = try PGConnection(configuration: configuration)
            let rows = try connection.query(
                """
                SELECT r.role, c.relname, p.privilege
                  FROM unnest(\(Self.libraryRoles + Self.logins + ["public"])::text[]) AS r(role)
                 CROSS JOIN (SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE n.nspname = 'grants' AND c.relkind IN ('r', 'p')) c
                 CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(privilege)
                 WHERE has_table_privilege(r.role, c.oid, p.privilege)
                 ORDER BY 1, 2, 3
                """)
            let writable = try rows.map { "\(try $0.decode(String.self, column: 0)) \(try $0.decode(String.self, column: 2)) \(try $0.decode(String.self, column: 1))" }
            #expect(writable.isEmpty, "writable by a library role: \(writable.joined(separator: ", "))")
            // Columns too: no column privilege hides a write.
            let columns = try connection.query(
                """
                SELECT count(*) FROM unnest(\(Self.libraryRoles + Self.logins)::text[]) AS r(role)
                 CROSS JOIN information_schema.columns c
                 WHERE c.table_schema = 'grants'
                   AND (has_column_privilege(r.role, format('grants.%I', c.table_name), c.column_name, 'UPDATE')
                        OR has_column_privilege(r.role, format('grants.%I', c.table_name), c.column_name, 'INSERT'))
                   AND c.table_name IN (SELECT relname FROM pg_class WHERE relkind IN ('r', 'p'))
                """)[0].decode(Int64.self, column: 0)
            #expect(columns == 0)
        }
    }

    /// The functions each role can execute, compared with the documented sets.
    /// The API's functions that close or reopen a period or import the bank's answers.
    func periodsAPI(_ api: Set<String>) -> Set<String> {
        api.filter {
            $0.hasPrefix("grants_api.close_period(") || $0.hasPrefix("grants_api.open_period(")
                || $0.hasPrefix("grants_api.import_bank_message(")
        }
    }

    @Test func everyFunctionARoleCanExecuteIsDocumented() async throws {
        try await TestGrants.withService { _, configuration in
            let connection = try PGConnection(configuration: configuration)
            func executable(_ role: String) throws -> Set<String> {
                Set(
                    try connection.query(
                        """
                        SELECT n.nspname || '.' || p.proname || '(' ||
                               coalesce((SELECT string_agg(format_type(t, NULL), ',' ORDER BY i)
                                           FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)), '') || ')'
                          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                         WHERE n.nspname IN ('grants', 'grants_api') AND has_function_privilege(\(role), p.oid, 'EXECUTE')
                        """
                    ).map { try $0.decode(String.self, column: 0) })
            }
            let api = Set(
                try connection.query(
                    """
                    SELECT 'grants_api.' || p.proname || '(' ||
                           coalesce((SELECT string_agg(format_type(t, NULL), ',' ORDER BY i)
                                       FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)), '') || ')'
                      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'grants_api'
                    """
                ).map { try $0.decode(String.self, column: 0) })
            let register: Set<String> = ["grants_api.person_add(text,text,text)", "grants_api.person_retire(text,text)"]
            #expect(register.isSubset(of: api))
            #expect(periodsAPI(api) == Self.periodFunctions)
            #expect(try executable("grants_finance") == Self.readingFunctions.union(Self.periodFunctions))
            #expect(try executable("test_finance") == Self.readingFunctions.union(Self.periodFunctions))
            let housekeeping: Set<String> = ["grants.refresh_statistics()"]
            for staff in ["grants_staff", "test_staff"] {
                #expect(
                    try executable(staff)
                        == Self.readingFunctions.union(housekeeping).union(api.subtracting(register).subtracting(Self.periodFunctions)))
            }
            for service in ["grants_service", "test_service"] {
                #expect(try executable(service) == Self.readingFunctions.union(housekeeping).union(api.subtracting(Self.periodFunctions)))
            }
            // PUBLIC gets nothing of ours.
            #expect(try executable("public").isEmpty)
            // Every API function pins its search_path and runs as its owner.
            let loose = try connection.query(
                """
                SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = 'grants_api'
                   AND (NOT p.prosecdef OR NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, pg_temp'])
                """
            ).map { try $0.decode(String.self, column: 0) }
            #expect(loose.isEmpty, "\(loose)")
        }
    }

    /// Finance reads; it can run nothing that writes or locks (an approval once waited 7 s behind its
    /// check_round_budgets()), except its own acts: closing and reopening a period (PeriodTests) and importing the
    /// bank's answers (BankTests).
    @Test func financeCanRunNothingThatWritesOrLocks() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let finance = try connect(configuration, as: "test_finance")
            let attempts: [PGQuery] = [
                "SELECT grants.check_round_budgets('{}')", "SELECT grants.refresh_statistics()", "SELECT grants.next_entry_id()",
                "SELECT grants.apply_privileges()", "SELECT * FROM grants_api.person_add('zed', 'Zed')",
                "SELECT grants.acting_person('anna')",
                "INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key) VALUES ('test_finance', 'x', 'y', 'z')",
                "UPDATE grants.allocation_round SET budget = budget + 1",
            ]
            for attempt in attempts {
                let error = #expect(throws: PGError.self, "\(attempt.sql)") { try finance.execute(attempt) }
                #expect(error?.sqlState == .insufficientPrivilege, "\(attempt.sql): \(String(describing: error))")
            }
            #expect(try finance.query("SELECT count(*) FROM grants.allocation_round")[0].decode(Int64.self, column: 0) == 1)
        }
    }

    /// Records refuse TRUNCATE for every role, the owner (here the superuser) included.
    @Test func everyTableRefusesTruncateForTheOwnerToo() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let owner = try PGConnection(configuration: configuration)
            let tables = try owner.query(
                """
                SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'grants' AND c.relkind = 'r' AND c.relname NOT IN ('schema_migrations', 'schema_repeatables')
                 ORDER BY 1
                """
            ).map { try $0.decode(String.self, column: 0) }
            #expect(tables.count >= 20)
            for table in tables {
                let error = #expect(throws: PGError.self, "\(table)") {
                    try owner.execute("TRUNCATE grants.\(identifier: table) CASCADE")
                }
                #expect(error?.sqlState?.rawValue == "GR001", "\(table): \(String(describing: error))")
            }
            #expect(try owner.query("SELECT count(*) FROM grants.allocation_round")[0].decode(Int64.self, column: 0) == 1)
        }
    }

    /// The owner switching its user triggers off leaves every reference in force: they are foreign keys.
    @Test func disablingUserTriggersLeavesForeignKeysInForce() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("FK"), actor: "anna")
            try await service.approvals.approve("FK", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let owner = try PGConnection(configuration: configuration)
            let references = try owner.query(
                """
                SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                 WHERE n.nspname = 'grants' AND c.contype = 'f'
                """)[0].decode(Int64.self, column: 0)
            #expect(references >= 30, "foreign keys: \(references)")
            let attempts: [(String, PGQuery)] = [
                ("disbursement", "INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by) VALUES (999999, 1, 'SEK', '2022-01-01', 1, 'anna')"),
                ("disbursement", "INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by) SELECT id, 1, 'SEK', '2022-01-01', 1, 'nobody' FROM grants.grant"),
                ("application_partner", "INSERT INTO grants.application_partner (application_id, organisation_id, position) SELECT id, 999999, 9 FROM grants.application"),
                ("application_theme", "INSERT INTO grants.application_theme (application_id, theme_code, position) SELECT id, 'no-such-theme', 9 FROM grants.application"),
                ("grant", "UPDATE grants.grant SET application_id = 999999"),
            ]
            for (table, attempt) in attempts {
                try owner.execute("ALTER TABLE grants.\(identifier: table) DISABLE TRIGGER USER")
                let error = #expect(throws: PGError.self, "\(attempt.sql)") { try owner.execute(attempt) }
                #expect(error?.sqlState == .foreignKeyViolation, "\(attempt.sql): \(String(describing: error))")
                try owner.execute("ALTER TABLE grants.\(identifier: table) ENABLE TRIGGER USER")
            }
        }
    }

    /// What used to end as an internal error (exit 70) is the caller's: an amendment past what an amount can
    /// hold is bad input, a key recorded already is a conflict.
    @Test func overflowAndDuplicateKeysAreNotInternalErrors() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service, budget: "100 000")
            try await service.applications.submit(application("O-1"), actor: "anna")
            try await service.approvals.approve("O-1", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let owner = try PGConnection(configuration: configuration)
            func translated(_ query: PGQuery) -> GrantsError? {
                do {
                    try owner.execute(query)
                    return nil
                } catch {
                    return DatabaseRules.translate(error)
                }
            }
            let overflow = translated("SELECT * FROM grants_api.amend('O-1', NULL, 9223372036854775807, 'SEK', NULL, 'more', current_date, NULL, 'anna')")
            // (The API refuses it by the budget rule before any sum could overflow; either way it is not a fault.)
            #expect(overflow != nil && overflow?.category != .internal, "\(String(describing: overflow))")
            let outOfRange = translated("SELECT 9223372036854775807::int8 + 1")
            #expect(outOfRange?.category == .input, "\(String(describing: outOfRange))")
            let duplicate = translated("INSERT INTO grants.person (login, name) VALUES ('anna', 'Another Anna')")
            guard duplicate?.code == .conflict else {
                Issue.record("a duplicate key: \(String(describing: duplicate))")
                return
            }
        }
    }

    /// Only registered people act: another spelling, a look-alike or a stranger is nobody, through the
    /// library, and as raw SQL; a retired person no longer acts; staff cannot register anyone.
    @Test func onlyRegisteredPeopleAct() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            for stranger in ["zed", "cecil", "\u{0441}\u{0435}\u{0441}\u{0456}\u{04CF}\u{0456}\u{0430}", "stra\u{00DF}e"] {
                let error = await #expect(throws: GrantsError.self) {
                    try await service.applications.submit(application("S-\(stranger.count)"), actor: stranger)
                }
                #expect(error?.category == .permission, "\(stranger): \(String(describing: error))")
            }
            let unknown = await #expect(throws: GrantsError.self) {
                try await service.applications.submit(application("S-1"), actor: "zed")
            }
            #expect(unknown == .unknownPerson("zed"))
            // Raw SQL naming a stranger: the person register's foreign key refuses it.
            let owner = try PGConnection(configuration: configuration)
            let raw = #expect(throws: PGError.self) {
                try owner.execute(
                    "INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key) VALUES ('x', 'y', 'z', '1'); INSERT INTO grants.conflict_of_interest (person, organisation_id, reason, declared_by) SELECT 'zed', id, 'r', 'anna' FROM grants.organisation LIMIT 1"
                )
            }
            #expect(raw != nil)
            // Retired: refused from then on, and the register says when.
            try await service.persons.add("ulla", name: "Ulla Berg", actor: "anna")
            try await service.applications.submit(application("U-1"), actor: "ulla")
            let retired = try await service.persons.retire("ulla", actor: "anna")
            #expect(retired.retiredAt != nil && retired.retiredBy == "anna")
            let afterwards = await #expect(throws: GrantsError.self) {
                try await service.applications.submit(application("U-2"), actor: "ulla")
            }
            #expect(afterwards == .unknownPerson("ulla"))
            // The same registration again is a retry; another name for a login is a conflict.
            try await service.persons.add("bertil", name: "Bertil Ek", actor: "anna")
            let renamed = await #expect(throws: GrantsError.self) {
                try await service.persons.add("bertil", name: "Bertil Someone Else", actor: "anna")
            }
            #expect(renamed?.category == .conflict)
            // A person's own login registers nobody, itself included.
            let staff = try connect(configuration, as: "test_staff")
            let refused = #expect(throws: PGError.self) {
                try staff.execute("SELECT * FROM grants_api.person_add('mallory', 'Mallory', 'anna')")
            }
            #expect(refused?.sqlState == .insufficientPrivilege)
            #expect(try owner.query("SELECT count(*) FROM grants.person WHERE login = 'mallory'")[0].decode(Int64.self, column: 0) == 0)
            // The same look-alike through the API by raw SQL, as the owner (a service login): refused too.
            let cyrillic = #expect(throws: PGError.self) {
                try owner.execute("SELECT * FROM grants_api.person_add('\u{0430}nna', 'Not Anna', 'anna')")
            }
            #expect(cyrillic?.sqlState?.rawValue == "GR008")
            // Logins that would pass for someone else are refused at the register's door.
            for lookalike in ["an\u{200B}na", "anna\u{202E}", "an\nna", "\u{0430}nna", "\u{FF41}nna"] {
                let error = await #expect(throws: GrantsError.self) {
                    try await service.persons.add(lookalike, name: "Look-alike", actor: "anna")
                }
                #expect(error?.category == .input, "\(lookalike.debugDescription): \(String(describing: error))")
            }
        }
    }
}
