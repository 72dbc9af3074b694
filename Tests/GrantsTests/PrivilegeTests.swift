import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("Roles and append-only rows")
struct PrivilegeTests {
    /// Records a round and pays one disbursement: `actor` does all but attesting and paying, which `attester`
    /// does through `colleague` (a service of their own login, when they have one); returns its id.
    func paidDisbursement(
        _ service: GrantsService, actor: String = "anna", attester: String = "bertil", colleague: GrantsService? = nil
    ) async throws -> Int64 {
        try await seedRound(service, actor: actor)
        try await service.applications.submit(application("P"), actor: actor)
        try await service.approvals.approve("P", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: actor)
        let d = try await service.disbursements.schedule("P", amount: sek("500"), dueOn: day("2022-01-01"), actor: actor)
        try await (colleague ?? service).disbursements.attest(d.id, actor: attester)
        try await (colleague ?? service).disbursements.pay(d.id, paidOn: day("2022-01-02"), paymentReference: "PAY-1", actor: attester)
        return d.id
    }

    /// Two people, each on their own login (which acts only as itself), do the whole round trip with four eyes.
    @Test func theLibraryWorksAsStaffAndStaffCannotRewriteMoney() async throws {
        try await TestGrants.withService(user: "test_staff") { service, configuration in
            var second = configuration
            second["user"] = "test_staff2"
            let colleague = GrantsService(configuration: GrantsConfiguration(database: second))
            let id: Int64
            do {
                id = try await paidDisbursement(service, actor: "test_staff", attester: "test_staff2", colleague: colleague)
                await colleague.close()
            } catch {
                await colleague.close()
                throw error
            }
            try await service.rounds.record(sampleManifest(round: "R2"), actor: "test_staff")
            try expectStaffCannotRewriteMoney(configuration, user: "test_staff", paid: id)
            #expect(try await service.disbursements.get(id).status == .paid)
            #expect(try await service.disbursements.get(id).paymentReference == "PAY-1")
        }
    }

    /// An embedding service's pool login states who acts, and is held to the same privileges as staff.
    @Test func aServiceLoginStatesActorsAndCannotRewriteMoneyEither() async throws {
        try await TestGrants.withService(user: "test_service") { service, configuration in
            let id = try await paidDisbursement(service)
            try expectStaffCannotRewriteMoney(configuration, user: "test_service", paid: id)
            let events = try await service.audit.list(entity: "disbursement")
            #expect(Set(events.map(\.actor)) == ["anna", "bertil"])
        }
    }

    func expectStaffCannotRewriteMoney(_ configuration: PGConfiguration, user: String, paid id: Int64) throws {
        var staff = configuration
        staff["user"] = user
        let connection = try PGConnection(configuration: staff)
        let attempts: [PGQuery] = [
            "UPDATE grants.disbursement SET amount = 1 WHERE id = \(id)",
            "UPDATE grants.disbursement SET status = 'cancelled' WHERE id = \(id)",
            "UPDATE grants.disbursement SET payment_reference = 'X' WHERE id = \(id)",
            "DELETE FROM grants.disbursement WHERE id = \(id)",
            "UPDATE grants.audit_event SET actor = 'mallory'",
            "DELETE FROM grants.audit_event",
            "TRUNCATE grants.audit_event",
            "TRUNCATE grants.disbursement",
            "UPDATE grants.allocation_round SET budget = budget * 2",
            "UPDATE grants.allocation_round SET awarded_total = 0",
            "UPDATE grants.grant SET amount = amount * 2",
            "UPDATE grants.grant SET committed_total = 0",
            "DELETE FROM grants.grant",
            "DROP TABLE grants.audit_event",
            "ALTER TABLE grants.disbursement DROP CONSTRAINT four_eyes",
            "CREATE TABLE grants.sneaky (id int)",
            "UPDATE grants.conflict_of_interest SET reason = 'none'",
            "DELETE FROM grants.conflict_of_interest",
            "TRUNCATE grants.conflict_of_interest",
        ]
        for statement in attempts {
            #expect(throws: PGError.self, "\(user): \(statement.sql)") { try connection.execute(statement) }
        }
    }

    @Test func evenTheOwnerCannotUpdateOrDeletePaidRowsOrAuditEvents() async throws {
        try await TestGrants.withService { service, configuration in
            let id = try await paidDisbursement(service)
            let owner = try PGConnection(configuration: configuration)
            for statement: PGQuery in [
                "UPDATE grants.disbursement SET amount = 1 WHERE id = \(id)",
                "DELETE FROM grants.disbursement WHERE id = \(id)",
                "UPDATE grants.audit_event SET actor = 'mallory'",
                "DELETE FROM grants.audit_event",
                "TRUNCATE grants.audit_event",
            ] {
                let error = #expect(throws: PGError.self, "\(statement.sql)") { try owner.execute(statement) }
                #expect(error?.sqlState?.rawValue == "GR001")
            }
            // A direct insert that would overshoot the budget meets the CHECK even without the library.
            let check = #expect(throws: PGError.self) {
                try owner.execute("UPDATE grants.allocation_round SET budget = 1")
            }
            #expect(check?.sqlState == .checkViolation)
        }
    }

    @Test func financeReadsButWritesNothing() async throws {
        try await TestGrants.withService { service, configuration in
            _ = try await paidDisbursement(service)
            var finance = configuration
            finance["user"] = "test_finance"
            let connection = try PGConnection(configuration: finance)
            #expect(try connection.query("SELECT count(*) FROM grants.disbursement")[0].decode(Int64.self, column: 0) == 1)
            for statement: PGQuery in [
                "INSERT INTO grants.theme (code, name_sv, name_en) VALUES ('x', 'x', 'x')",
                "UPDATE grants.disbursement SET status = 'attested'",
                "INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key) VALUES ('f', 'a', 'b', 'c')",
                "DELETE FROM grants.theme",
                "UPDATE grants.programme SET name = 'x'",
            ] {
                let error = #expect(throws: PGError.self, "\(statement.sql)") { try connection.execute(statement) }
                #expect(error?.sqlState == .insufficientPrivilege)
            }
            let financeService = GrantsService(configuration: GrantsConfiguration(database: finance))
            let refused = await #expect(throws: GrantsError.self) {
                try await financeService.themes.add(Theme(code: "x", nameSv: "x", nameEn: "x"), actor: "f")
            }
            guard refused?.code == .notPermitted else {
                Issue.record("got \(String(describing: refused))")
                return
            }
            // The one-call writes run as their caller: finance may call them and is refused at the first write.
            try await service.applications.submit(application("Q"), actor: "anna")
            for write in [
                { _ = try await financeService.approvals.approve("Q", amount: sek("100"), decidedOn: day("2021-12-01"), actor: "f") },
                { _ = try await financeService.disbursements.schedule("P", amount: sek("100"), dueOn: day("2022-02-01"), actor: "f") },
            ] as [@Sendable () async throws -> Void] {
                let error = await #expect(throws: GrantsError.self) { try await write() }
                guard error?.code == .notPermitted else {
                    Issue.record("got \(String(describing: error))")
                    continue
                }
            }
            #expect(try await service.grants.get("P").grant.committed == sek("500"))
            #expect(try await service.applications.get("Q").status == .submitted)
            #expect(try await financeService.rounds.list().count == 1)
            await financeService.close()
        }
    }

    @Test func noLibraryRoleIsPrivileged() async throws {
        let connection = try PGConnection(configuration: TestServer.adminConfiguration())
        _ = try await Blocking.run { try TestGrants.migratedTemplate() }
        let rows = try connection.query(
            """
            SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles
            WHERE rolname IN ('grants_staff', 'grants_service', 'grants_finance', 'test_staff', 'test_service', 'test_finance')
            """
        )
        #expect(rows.count == 6)
        for row in rows {
            let (name, superuser, bypass, createRole, createDB) = try row.decode((String, Bool, Bool, Bool, Bool).self)
            #expect(!superuser && !bypass && !createRole && !createDB, "\(name)")
        }
    }
}
