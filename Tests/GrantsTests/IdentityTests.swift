import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("Who acts: normalised names, personal and service logins")
struct IdentityTests {
    /// One approved application with a scheduled tranche; returns the tranche's id.
    func scheduled(_ service: GrantsService, by actor: String) async throws -> Int64 {
        try await seedRound(service)
        try await service.applications.submit(application("ID-1"), actor: "anna")
        try await service.approvals.approve("ID-1", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
        return try await service.disbursements.schedule("ID-1", amount: sek("100"), dueOn: day("2022-01-31"), actor: actor).id
    }

    @Test(arguments: ["anna", "Anna", "anna ", " ANNA\u{00A0}", "\u{2003}aNNa\t"])
    func otherSpellingsOfOnePersonMeetFourEyes(attester: String) async throws {
        try await TestGrants.withService { service, _ in
            let id = try await scheduled(service, by: "Anna ")
            let error = await #expect(throws: GrantsError.self) { try await service.disbursements.attest(id, actor: attester) }
            #expect(error == .fourEyes(disbursement: String(id), actor: "anna"))
            #expect(try await service.disbursements.get(id).scheduledBy == "anna")
        }
    }

    @Test func nfdAndNfcAreOnePerson() async throws {
        try await TestGrants.withService { service, configuration in
            try await service.persons.add("Ande\u{0301}n", name: "Andén", actor: "anna")
            let id = try await scheduled(service, by: "Ande\u{0301}n")
            let error = await #expect(throws: GrantsError.self) { try await service.disbursements.attest(id, actor: "AND\u{00C9}N") }
            guard error?.code == .fourEyes else {
                Issue.record("got \(String(describing: error))")
                return
            }
            // Stored as NFC, byte for byte.
            let stored = try PGConnection(configuration: configuration).query(
                "SELECT scheduled_by FROM grants.disbursement WHERE id = \(id)")[0].decode(String.self, column: 0)
            #expect(Array(stored.utf8) == Array("and\u{00E9}n".utf8))
            try await service.disbursements.attest(id, actor: "bertil")
        }
    }

    @Test(arguments: ["\u{0430}nna", "ann\u{0430}", "\u{0391}nna", "an\u{200B}na", "an\u{00AD}na", "\u{202E}anna", "\u{FF41}nna"])
    func lookAlikesAndInvisibleNamesAreRefusedAndNothingIsWritten(actor: String) async throws {
        try await TestGrants.withService { service, configuration in
            let id = try await scheduled(service, by: "anna")
            let events = try count(configuration, "grants.audit_event")
            let error = await #expect(throws: GrantsError.self) { try await service.disbursements.attest(id, actor: actor) }
            guard let problems = invalidProblems(error) else {
                Issue.record("got \(String(describing: error))")
                return
            }
            #expect(problems.map(\.location) == ["actor"])
            #expect(error?.category == .input)
            #expect(try await service.disbursements.get(id).status == .scheduled)
            #expect(try count(configuration, "grants.audit_event") == events)
        }
    }

    @Test func auditEventsAndDecisionsStoreTheNormalisedName() async throws {
        try await TestGrants.withService { service, _ in
            let id = try await scheduled(service, by: " Anna ")
            try await service.disbursements.attest(id, actor: "BERTIL")
            // A retry under another spelling of the same person is still a retry.
            try await service.disbursements.attest(id, actor: " bertil")
            try await service.disbursements.pay(id, paidOn: day("2022-02-01"), paymentReference: "BG 1", actor: "Bertil\u{00A0}")
            let paid = try await service.disbursements.get(id)
            #expect(paid.status == .paid && paid.scheduledBy == "anna" && paid.attestedBy == "bertil")
            #expect(try await service.approvals.decision(for: "ID-1")?.decidedBy == "anna")
            #expect(Set(try await service.audit.list().map(\.actor)) == ["anna", "bertil"])
            #expect(try await service.audit.list(entity: "disbursement").count == 3)
        }
    }

    /// Raw SQL past the library: four-eyes compares people, not spellings.
    @Test func theDatabaseComparesNormalisedNamesForFourEyes() async throws {
        try await TestGrants.withService { service, configuration in
            let id = try await scheduled(service, by: "anna")
            let raw = try PGConnection(configuration: configuration)
            for spelling in ["Anna", "anna ", " ANNA", "\u{00A0}anna"] {
                let error = #expect(throws: PGError.self) {
                    try raw.execute("UPDATE grants.disbursement SET status = 'attested', attested_by = \(spelling) WHERE id = \(id)")
                }
                #expect(error?.constraint == "four_eyes", "\(spelling)")
            }
        }
    }

    @Test func aPersonsOwnLoginActsOnlyAsItself() async throws {
        try await TestGrants.withService(user: "test_staff") { service, configuration in
            let login = try await service.databaseLogin()
            #expect(login.name == "test_staff" && login.personalActor == "test_staff" && !login.statesActor)
            // Its own name in any spelling is itself.
            try await service.themes.add(dialogue, actor: " Test_Staff")
            #expect(try await service.audit.list().filter { $0.entityKind != "person" }.map(\.actor) == ["test_staff"])
            // Another name is refused by the database, with a typed error, and nothing is written.
            let error = await #expect(throws: GrantsError.self) {
                try await service.organisations.add(NewOrganisation(name: "Kisumu County", country: "KE", kind: .region), actor: "bertil")
            }
            #expect(error == .actorMismatch(claimed: "bertil", login: "test_staff"))
            #expect(error?.category == .permission)
            #expect(try await service.organisations.list().isEmpty)
        }
    }

    /// Raw SQL on a person's own login: no table is writable, and every function of the database's API refuses
    /// another name (GR005), also after SET ROLE; the staff member's own name goes through.
    @Test func thePersonalLoginRuleHoldsForRawSQL() async throws {
        try await TestGrants.withService { service, configuration in
            let id = try await scheduled(service, by: "anna")
            var staff = configuration
            staff["user"] = "test_staff"
            let raw = try PGConnection(configuration: staff)
            let attempts: [PGQuery] = [
                "SELECT * FROM grants_api.attest(\(id), 'bertil')",
                "SELECT * FROM grants_api.cancel(\(id), current_date, 'r', 'bertil')",
                "SELECT * FROM grants_api.amend('ID-1', NULL, 100, 'SEK', NULL, 'r', current_date, NULL, 'bertil')",
                "SELECT * FROM grants_api.add_theme('x-theme', 'X', 'X', NULL, 'bertil')",
                "SELECT * FROM grants_api.attest(\(id), 'Bertil ')",
            ]
            for statement in attempts {
                let error = #expect(throws: PGError.self, "\(statement.sql)") { try raw.execute(statement) }
                #expect(error?.sqlState?.rawValue == "GR005", "\(statement.sql): \(String(describing: error))")
            }
            let table = #expect(throws: PGError.self) {
                try raw.execute("INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key) VALUES ('test_staff', 'x', 'y', 'z')")
            }
            #expect(table?.sqlState == .insufficientPrivilege)
            let asRole = #expect(throws: PGError.self) {
                try raw.execute(
                    unsafeScript: """
                        BEGIN; SET LOCAL ROLE grants_staff;
                        SELECT * FROM grants_api.attest(\(id), 'grants_staff');
                        COMMIT;
                        """)
            }
            #expect(asRole?.sqlState?.rawValue == "GR005")
            _ = try? raw.execute("ROLLBACK")
            try raw.execute("SELECT * FROM grants_api.attest(\(id))")
            let attested = try await service.disbursements.get(id)
            #expect(attested.status == .attested && attested.attestedBy == "test_staff")
        }
    }

    @Test func aServiceLoginStatesTheActor() async throws {
        try await TestGrants.withService(user: "test_service") { service, configuration in
            let login = try await service.databaseLogin()
            #expect(login.name == "test_service" && login.personalActor == nil && login.statesActor)
            let id = try await scheduled(service, by: "anna")
            try await service.disbursements.attest(id, actor: "bertil")
            var pool = configuration
            pool["user"] = "test_service"
            try PGConnection(configuration: pool).execute(
                "SELECT * FROM grants_api.add_theme('x-theme', 'X', 'X', NULL, 'cecilia')")
            #expect(Set(try await service.audit.list().filter { $0.entityKind != "person" }.map(\.actor)) == ["anna", "bertil", "cecilia"])
        }
    }

    @Test func superusersStateTheActor() async throws {
        try await TestGrants.withService { service, _ in
            let login = try await service.databaseLogin()
            #expect(login.statesActor)
        }
    }

    @Test func rolesIncludeTheServiceRoleWithStaffPrivileges() async throws {
        try await TestGrants.withService { service, configuration in
            try await service.createRoles()
            let raw = try PGConnection(configuration: configuration)
            // (The owner role may be given a login by the administrator, as the deployment recipe does.)
            for role in GrantsService.roles where role != "grants_owner" {
                #expect(
                    try raw.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = \(role)").first?.decode(Bool.self, column: 0) == false)
            }
            for (role, privilege, expected) in [
                ("grants_service", "INSERT", false), ("grants_staff", "INSERT", false), ("grants_finance", "INSERT", false),
                ("grants_service", "SELECT", true), ("grants_finance", "SELECT", true), ("grants_service", "DELETE", false),
            ] {
                let granted = try raw.query(
                    "SELECT has_table_privilege(\(role)::name, 'grants.conflict_of_interest', \(privilege))")[0].decode(
                        Bool.self, column: 0)
                #expect(granted == expected, "\(role) \(privilege)")
            }
        }
    }
}
