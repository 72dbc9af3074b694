import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("Conflicts of interest")
struct ConflictTests {
    /// Two submitted applications by Växjö kommun with Kisumu County as partner; cecilia has declared a
    /// conflict with the partner, david with the applicant.
    func setUp(_ service: GrantsService) async throws {
        try await seedRound(service, budget: "100 000")
        try await service.applications.submit(application("C-1"), actor: "anna")
        try await service.applications.submit(application("C-2"), actor: "anna")
        try await service.conflicts.declare(person: "Cecilia ", organisation: "Kisumu County", reason: "Former employee", actor: "anna")
        try await service.conflicts.declare(person: "DAVID", organisation: "212000-0662", reason: "Sits on the board", actor: "anna")
    }

    func expectRefused(
        _ person: String, _ organisation: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        let error = await #expect(throws: GrantsError.self, sourceLocation: sourceLocation) { try await body() }
        #expect(error == .conflictOfInterest(person: person, organisation: organisation), sourceLocation: sourceLocation)
        #expect(error?.category == .permission, sourceLocation: sourceLocation)
    }

    @Test func aConflictedPersonIsRefusedAtEachOfTheFiveSteps() async throws {
        try await TestGrants.withService { service, configuration in
            try await setUp(service)
            let kisumu = "Kisumu County"
            let vaxjo = "Växjö kommun (212000-0662)"
            let writes = try count(configuration, "grants.audit_event")
            // Approve and reject: the partner's and the applicant's conflicts, in other spellings of the names.
            for person in ["cecilia", "Cecilia", " CECILIA\u{00A0}"] {
                await expectRefused("cecilia", kisumu) {
                    try await service.approvals.approve("C-1", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: person)
                }
                await expectRefused("cecilia", kisumu) {
                    try await service.approvals.reject("C-1", decidedOn: day("2021-12-01"), reason: "no", actor: person)
                }
            }
            await expectRefused("david", vaxjo) {
                try await service.approvals.approve("C-1", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "David")
            }
            await expectRefused("david", vaxjo) {
                try await service.approvals.reject("C-2", decidedOn: day("2021-12-01"), reason: "no", actor: "david ")
            }
            #expect(try count(configuration, "grants.audit_event") == writes, "nothing written")
            try await service.approvals.approve("C-1", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")

            // Schedule, attest, pay.
            await expectRefused("cecilia", kisumu) {
                try await service.disbursements.schedule("C-1", amount: sek("500"), dueOn: day("2022-01-31"), actor: "cecilia")
            }
            let tranche = try await service.disbursements.schedule("C-1", amount: sek("500"), dueOn: day("2022-01-31"), actor: "anna")
            await expectRefused("cecilia", kisumu) { try await service.disbursements.attest(tranche.id, actor: "Cecilia") }
            await expectRefused("david", vaxjo) { try await service.disbursements.attest(tranche.id, actor: "DAVID") }
            try await service.disbursements.attest(tranche.id, actor: "bertil")
            await expectRefused("cecilia", kisumu) {
                try await service.disbursements.pay(tranche.id, paidOn: day("2022-02-01"), paymentReference: "BG 1", actor: "cecilia ")
            }
            let paid = try await service.disbursements.pay(tranche.id, paidOn: day("2022-02-01"), paymentReference: "BG 1", actor: "bertil")
            #expect(paid.status == .paid)
            // A reversal is scheduled and paid at once: the same rule.
            await expectRefused("david", vaxjo) {
                try await service.disbursements.reverse(tranche.id, on: day("2022-03-01"), reason: "wrong account", actor: "david")
            }
            // Cancelling is refused too (DESIGN §4); someone without a conflict is unaffected.
            let second = try await service.disbursements.schedule("C-1", amount: sek("100"), dueOn: day("2022-06-30"), actor: "anna")
            await expectRefused("cecilia", kisumu) {
                try await service.disbursements.cancel(second.id, on: .today, reason: "not needed", actor: "cecilia")
            }
            try await service.disbursements.cancel(second.id, on: .today, reason: "not needed", actor: "bertil")
        }
    }

    /// The database holds the rule for every writer: raw SQL as the superuser (a service login) is refused
    /// with GR006 and a structured DETAIL. (Other spellings of the person are nobody: the person register's
    /// foreign keys refuse them, see PersonRegisterTests.)
    @Test func theDatabaseRefusesConflictedWritesFromRawSQL() async throws {
        try await TestGrants.withService { service, configuration in
            try await setUp(service)
            try await service.approvals.approve("C-1", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let tranche = try await service.disbursements.schedule("C-1", amount: sek("500"), dueOn: day("2022-01-31"), actor: "anna")
            let raw = try PGConnection(configuration: configuration)
            let application = try raw.query("SELECT id FROM grants.application WHERE reference = 'C-2'")[0].decode(Int64.self, column: 0)
            let grant = try await service.grants.get("C-1").grant.id
            let attempts: [PGQuery] = [
                "INSERT INTO grants.approval (application_id, decision, decided_on, decided_by, reason) VALUES (\(application), 'rejected', '2021-12-01', 'cecilia', 'no')",
                "INSERT INTO grants.approval (application_id, decision, awarded, decided_on, decided_by) VALUES (\(application), 'approved', 100, '2021-12-01', 'cecilia')",
                "INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by) VALUES (\(grant), 1, 'SEK', '2022-01-01', 9, 'cecilia')",
                "UPDATE grants.disbursement SET status = 'attested', attested_by = 'cecilia' WHERE id = \(tranche.id)",
            ]
            for statement in attempts {
                let error = #expect(throws: PGError.self, "\(statement.sql)") { try raw.execute(statement) }
                #expect(error?.sqlState?.rawValue == "GR006", "\(statement.sql): \(String(describing: error))")
                let detail = try #require(
                    error?.detail.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any])
                #expect(detail["person"] as? String == "cecilia")
                #expect(detail["organisation"] as? String == "Kisumu County")
            }
            try raw.execute("UPDATE grants.disbursement SET status = 'attested', attested_by = 'bertil' WHERE id = \(tranche.id)")
            let pay = #expect(throws: PGError.self) {
                try raw.execute(
                    """
                    UPDATE grants.disbursement SET status = 'paid', paid_on = '2022-02-01', payment_reference = 'x', paid_by = 'David'
                    WHERE id = \(tranche.id)
                    """)
            }
            #expect(pay?.sqlState?.rawValue == "GR006")
            #expect(try await service.disbursements.get(tranche.id).status == .attested)
        }
    }

    /// Where the library does not check ahead (a recorded round is a batch of approvals and tranches), the
    /// database's refusal arrives as the same typed error.
    @Test func recordingARoundWithAConflictedGrantGivesTheSameError() async throws {
        try await TestGrants.withService { service, configuration in
            try await service.rounds.record(sampleManifest(round: "R1", count: 2), actor: "anna")
            try await service.conflicts.declare(person: "cecilia", organisation: "Partner County 2", reason: "Relative", actor: "anna")
            let grants = try count(configuration, "grants.grant")
            let error = await #expect(throws: GrantsError.self) {
                try await service.rounds.record(sampleManifest(round: "R2", count: 2, prefix: "X"), actor: "Cecilia")
            }
            #expect(error == .conflictOfInterest(person: "cecilia", organisation: "Partner County 2"))
            #expect(try count(configuration, "grants.grant") == grants, "all or nothing")
            try await service.rounds.record(sampleManifest(round: "R2", count: 2, prefix: "X"), actor: "bertil")
        }
    }

    @Test func declarationsAreNormalisedRetrySafeAuditedAndAppendOnly() async throws {
        try await TestGrants.withService { service, configuration in
            try await setUp(service)
            let first = try #require(try await service.conflicts.list(person: "cecilia").first)
            #expect(first.person == "cecilia" && first.organisation.name == "Kisumu County" && first.declaredBy == "anna")
            // The same declaration again, in another spelling, is a retry.
            let again = try await service.conflicts.declare(
                person: "CECILIA", organisation: "kisumu county", reason: "Former employee", actor: "bertil")
            #expect(again == first)
            let other = await #expect(throws: GrantsError.self) {
                try await service.conflicts.declare(person: "cecilia", organisation: "Kisumu County", reason: "Cousin", actor: "anna")
            }
            guard let differences = conflictDifferences(other) else {
                Issue.record("got \(String(describing: other))")
                return
            }
            #expect(differences == [Difference("reason", recorded: "Former employee", given: "Cousin")])
            #expect(try await service.conflicts.list().map(\.person) == ["cecilia", "david"])
            #expect(try await service.conflicts.list(person: " Cecilia ").count == 1)
            #expect(try await service.conflicts.list(person: "nobody").isEmpty)
            let events = try await service.audit.list(entity: "conflict")
            #expect(events.map(\.action) == ["conflict.declared", "conflict.declared"])
            #expect(events.first?.details.contains("Former employee") == true)

            // Problems are reported with their domain paths, all at once.
            let bad = await #expect(throws: GrantsError.self) {
                try await service.conflicts.declare(person: "\u{0441}ecilia", organisation: " ", reason: "", actor: "anna")
            }
            guard let problems = invalidProblems(bad) else {
                Issue.record("got \(String(describing: bad))")
                return
            }
            #expect(problems.map(\.location) == ["person", "organisation", "reason"])
            let unknown = await #expect(throws: GrantsError.self) {
                try await service.conflicts.declare(person: "erik", organisation: "Nowhere", reason: "x", actor: "anna")
            }
            #expect(unknown == .notFound(entity: "organisation", key: "Nowhere"))

            let raw = try PGConnection(configuration: configuration)
            for statement: PGQuery in [
                "UPDATE grants.conflict_of_interest SET reason = 'none'", "DELETE FROM grants.conflict_of_interest",
                "TRUNCATE grants.conflict_of_interest",
            ] {
                let error = #expect(throws: PGError.self, "\(statement.sql)") { try raw.execute(statement) }
                #expect(error?.sqlState?.rawValue == "GR001")
            }
            // Raw SQL cannot store a name in another spelling than the one the rules compare.
            let spelling = #expect(throws: PGError.self) {
                try raw.execute(
                    "INSERT INTO grants.conflict_of_interest (person, organisation_id, reason, declared_by) VALUES ('Erik ', \(first.organisation.id), 'x', 'anna')"
                )
            }
            #expect(spelling?.constraint == "conflict_person_normalised")
        }
    }

    /// A person's own login with a declared conflict: refused as itself, whatever else it may do.
    @Test func aConflictedPersonalLoginIsRefused() async throws {
        try await TestGrants.withService { service, configuration in
            try await setUp(service)
            try await service.conflicts.declare(person: "test_staff", organisation: "Kisumu County", reason: "Board member", actor: "anna")
            var staff = configuration
            staff["user"] = "test_staff"
            let own = GrantsService(configuration: GrantsConfiguration(database: staff, poolSize: 1))
            let error = await #expect(throws: GrantsError.self) {
                try await own.approvals.approve("C-1", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "test_staff")
            }
            await own.close()
            #expect(error == .conflictOfInterest(person: "test_staff", organisation: "Kisumu County"))
        }
    }
}
