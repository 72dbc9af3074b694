import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@testable import Grants

/// Applications, decisions and the grant itself through the database's API (`Schema/api/applications.sql`,
/// `Schema/api/grants.sql`): a staff member at a `psql` prompt calls the same functions as the library, as
/// herself, and meets the same rules with the same errors; nothing is written when a rule refuses.
@Suite("Decisions through grants_api")
struct DecisionsAPITests {
    /// What `query` made the database say, as the library says it; nil when it succeeded.
    func databaseError(_ configuration: PGConfiguration, user: String? = nil, _ query: PGQuery) throws -> GrantsError? {
        var configuration = configuration
        if let user { configuration["user"] = user }
        let connection = try PGConnection(configuration: configuration)
        do {
            try connection.execute(query)
            return nil
        } catch {
            return DatabaseRules.translate(error)
        }
    }

    /// Every row of the tables this domain writes, counted together.
    func written(_ configuration: PGConfiguration) throws -> Int64 {
        let connection = try PGConnection(configuration: configuration)
        return try connection.query(
            """
            SELECT (SELECT count(*) FROM grants.audit_event) + (SELECT count(*) FROM grants.application)
                 + (SELECT count(*) FROM grants.application_partner) + (SELECT count(*) FROM grants.application_theme)
                 + (SELECT count(*) FROM grants.approval) + (SELECT count(*) FROM grants.grant)
                 + (SELECT count(*) FROM grants.grant_amendment)
                 + (SELECT count(*) FROM grants.grant WHERE status = 'closed')
                 + (SELECT count(*) FROM grants.application WHERE status <> 'submitted')
                 + (SELECT coalesce(sum(written_off), 0) FROM grants.settlement)::int8
            """)[0].decode(Int64.self, column: 0)
    }

    func submitSQL(_ reference: String, themes: String = "{citizen-dialogue}", actor: String? = nil) -> PGQuery {
        """
        SELECT * FROM grants_api.submit_application('R1', NULL, \(reference)::text, 'Dialog', '212000-0662',
            '{Kisumu County}', \(themes)::text[], 'project', 100000, 'SEK', '2022-01-01', '2023-12-31', NULL, \(actor)::text)
        """
    }

    func approveSQL(_ reference: String, amount: Int64 = 100_000, above: Bool = false, actor: String? = nil) -> PGQuery {
        """
        SELECT * FROM grants_api.approve(\(reference)::text, NULL, \(amount)::int8, 'SEK', '2021-12-01', NULL,
            \(above)::boolean, \(actor)::text)
        """
    }

    func rejectSQL(_ reference: String, reason: String = "no", actor: String? = nil) -> PGQuery {
        "SELECT * FROM grants_api.reject(\(reference)::text, NULL, '2021-12-01', \(reason)::text, \(actor)::text)"
    }

    func withdrawSQL(_ reference: String, actor: String? = nil) -> PGQuery {
        "SELECT * FROM grants_api.withdraw(\(reference)::text, NULL, \(actor)::text)"
    }

    func amendSQL(_ reference: String, change: Int64 = 100, actor: String? = nil) -> PGQuery {
        """
        SELECT * FROM grants_api.amend(\(reference)::text, NULL, \(change)::int8, 'SEK', NULL, 'more workshops',
            current_date, NULL, \(actor)::text)
        """
    }

    func closeSQL(_ reference: String, writeOff: String? = nil, actor: String? = nil) -> PGQuery {
        "SELECT * FROM grants_api.close(\(reference)::text, NULL, '2024-05-01', \(writeOff)::text, \(actor)::text)"
    }

    @Test func aStaffLoginActsAsHerselfThroughEveryFunction() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            for query in [submitSQL("S-1"), submitSQL("S-2"), submitSQL("S-3"), approveSQL("S-1"), rejectSQL("S-2"),
                withdrawSQL("S-3"), amendSQL("S-1"), closeSQL("S-1")]
            {
                #expect(try databaseError(configuration, user: "test_staff", query) == nil, "\(query)")
            }
            let connection = try PGConnection(configuration: configuration)
            let actors = try connection.query(
                """
                SELECT (SELECT array_agg(DISTINCT submitted_by) FROM grants.application)
                    || (SELECT array_agg(DISTINCT decided_by) FROM grants.approval)
                    || (SELECT array_agg(DISTINCT amended_by) FROM grants.grant_amendment)
                    || (SELECT array_agg(DISTINCT closed_by) FROM grants.grant)
                    || (SELECT array_agg(DISTINCT actor) FROM grants.audit_event
                         WHERE action IN ('application.submitted', 'application.approved', 'application.rejected',
                                          'application.withdrawn', 'grant.amended', 'grant.closed'))
                """)[0].decode([String].self, column: 0)
            #expect(Set(actors) == ["test_staff"])
            let events = try connection.query(
                "SELECT action FROM grants.audit_event WHERE actor = 'test_staff' ORDER BY id"
            ).map { try $0.decode(String.self, column: 0) }
            #expect(
                events == [
                    "application.submitted", "application.submitted", "application.submitted", "application.approved",
                    "application.rejected", "application.withdrawn", "grant.amended", "grant.closed",
                ])
            let grant = try await service.grants.get("S-1").grant
            #expect(grant.amount == sek("1 001") && grant.status == .closed && grant.partners.map(\.name) == ["Kisumu County"])
            // The same submission again is a retry: nothing more is written.
            let before = try written(configuration)
            #expect(try databaseError(configuration, user: "test_staff", submitSQL("S-2")) == nil)
            #expect(try written(configuration) == before)
        }
    }

    @Test func rawCallsAreRefusedAsTheLibraryRefusesAndWriteNothing() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A", amount: "1 000"), actor: "anna")
            try await service.applications.submit(application("B"), actor: "anna")
            try await service.approvals.approve("B", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            try await service.disbursements.schedule("B", amount: sek("500"), dueOn: day("2022-01-31"), actor: "anna")
            let before = try written(configuration)

            // Submit: an unknown theme, and another application under a used reference.
            var new = application("C")
            new.themes = ["no-such-theme", "citizen-dialogue", "nor-this"]
            let unknown = await libraryError { try await service.applications.submit(new, actor: "anna") }
            #expect(invalidProblems(unknown)?.count == 2)
            #expect(try databaseError(configuration, user: "test_staff", submitSQL("C", themes: "{no-such-theme,citizen-dialogue,nor-this}")) == unknown)
            var other = application("A", amount: "1 000")
            other.title = "Another title"
            other.requested = sek("2 000")
            let used = await libraryError { try await service.applications.submit(other, actor: "anna") }
            #expect(conflictDifferences(used)?.count == 2)
            let usedRaw = try databaseError(
                configuration, user: "test_staff",
                """
                SELECT * FROM grants_api.submit_application('R1', NULL, 'A', 'Another title', '212000-0662',
                    '{Kisumu County}', '{citizen-dialogue}', 'project', 200000, 'SEK', '2022-01-01', '2023-12-31', NULL, NULL)
                """)
            #expect(usedRaw == used)

            // Approve above the amount requested without saying it is meant; approve an approved one otherwise.
            let above = await libraryError {
                try await service.approvals.approve("A", amount: sek("1 500"), decidedOn: day("2021-12-01"), actor: "anna")
            }
            #expect(above != nil)
            #expect(try databaseError(configuration, user: "test_staff", approveSQL("A", amount: 150_000)) == above)
            let again = await libraryError {
                try await service.approvals.approve("B", amount: sek("900"), decidedOn: day("2021-12-01"), actor: "anna")
            }
            #expect(again == .invalidTransition(entity: "application", key: "B", from: "approved", to: "approved"))
            #expect(try databaseError(configuration, user: "test_staff", approveSQL("B", amount: 90_000)) == again)

            // Reject and withdraw an approved application.
            let reject = await libraryError { try await service.approvals.reject("B", decidedOn: day("2021-12-01"), reason: "no", actor: "anna") }
            #expect(reject == .invalidTransition(entity: "application", key: "B", from: "approved", to: "rejected"))
            #expect(try databaseError(configuration, user: "test_staff", rejectSQL("B")) == reject)
            let withdraw = await libraryError { try await service.applications.withdraw("B", actor: "anna") }
            #expect(withdraw == .invalidTransition(entity: "application", key: "B", from: "approved", to: "withdrawn"))
            #expect(try databaseError(configuration, user: "test_staff", withdrawSQL("B")) == withdraw)

            // Amend past the round's budget (10 000) and below what is scheduled.
            let budget = await libraryError {
                try await service.grants.amend("B", amountChange: sek("9 500"), reason: "more", on: .today, actor: "anna")
            }
            #expect(budget == .budgetExceeded(round: "R1", excess: sek("500")))
            #expect(try databaseError(configuration, user: "test_staff", amendSQL("B", change: 950_000)) == budget)
            let below = await libraryError {
                try await service.grants.amend("B", amountChange: Money(minorUnits: -60_000, currency: .sek), reason: "less", on: .today, actor: "anna")
            }
            #expect(below == .awardExceeded(grant: "B", excess: sek("100")))
            #expect(try databaseError(configuration, user: "test_staff", amendSQL("B", change: -60_000)) == below)

            // Close with a tranche still scheduled.
            let close = await libraryError { try await service.grants.close("B", on: .today, actor: "anna") }
            #expect(close == .invalidTransition(entity: "grant", key: "B", from: "active with 1 unpaid disbursements", to: "closed"))
            #expect(try databaseError(configuration, user: "test_staff", closeSQL("B")) == close)

            // Not found, through every function.
            let missing = GrantsError.notFound(entity: "application", key: "NOPE")
            for query in [approveSQL("NOPE"), rejectSQL("NOPE"), withdrawSQL("NOPE")] {
                #expect(try databaseError(configuration, user: "test_staff", query) == missing)
            }
            for query in [amendSQL("NOPE"), closeSQL("NOPE")] {
                #expect(try databaseError(configuration, user: "test_staff", query) == .notFound(entity: "grant", key: "NOPE"))
            }
            #expect(try written(configuration) == before, "nothing written")
        }
    }

    /// Partners and themes come with the application and only with it: no login, the owner's included, adds one
    /// to an application recorded earlier (an approved grant above all).
    @Test func partnersAndThemesAreNeverAddedLater() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("B"), actor: "anna")
            try await service.approvals.approve("B", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            try await service.organisations.add(NewOrganisation(name: "Zomba City Council", country: "MW", kind: .municipality), actor: "anna")
            try await service.themes.add(youth, actor: "anna")
            let before = try written(configuration)
            // Staff may not write the table at all; the owner is refused by the rule.
            for user in ["test_staff", nil] {
                func isRefused(_ error: GrantsError?) -> Bool {
                    if user == nil { return error == .appendOnly(entity: "application", key: "B") }
                    if error?.code == .notPermitted { return true }
                    return false
                }
                #expect(
                    isRefused(try databaseError(
                        configuration, user: user,
                        """
                        INSERT INTO grants.application_partner (application_id, organisation_id, position)
                        SELECT a.id, o.id, 1 FROM grants.application a, grants.organisation o
                        WHERE a.reference = 'B' AND o.name = 'Zomba City Council'
                        """)))
                #expect(
                    isRefused(try databaseError(
                        configuration, user: user,
                        """
                        INSERT INTO grants.application_theme (application_id, theme_code, position)
                        SELECT a.id, 'youth-participation', 1 FROM grants.application a WHERE a.reference = 'B'
                        """)))
            }
            #expect(try written(configuration) == before)
            #expect(try await service.grants.get("B").grant.partners.map(\.name) == ["Kisumu County"])
        }
    }

    @Test func aStaffLoginNamingAnotherActorIsRefused() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.applications.submit(application("B"), actor: "anna")
            try await service.approvals.approve("B", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let before = try written(configuration)
            for query in [submitSQL("S", actor: "anna"), approveSQL("A", actor: "anna"), rejectSQL("A", actor: "anna"),
                withdrawSQL("A", actor: "anna"), amendSQL("B", actor: "anna"), closeSQL("B", actor: "anna")]
            {
                #expect(
                    try databaseError(configuration, user: "test_staff", query) == .actorMismatch(claimed: "anna", login: "test_staff"),
                    "\(query)")
            }
            // Her own name, in another spelling, is herself.
            #expect(try databaseError(configuration, user: "test_staff", withdrawSQL("A", actor: " Test_Staff")) == nil)
            #expect(try written(configuration) == before + 2)
        }
    }

    @Test func aServiceLoginStatingAnUnregisteredActorIsRefused() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.applications.submit(application("B"), actor: "anna")
            try await service.approvals.approve("B", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let before = try written(configuration)
            for user in ["test_service", nil] {
                for query in [submitSQL("S", actor: "nobody"), approveSQL("A", actor: "nobody"), rejectSQL("A", actor: "nobody"),
                    withdrawSQL("A", actor: "nobody"), amendSQL("B", actor: "nobody"), closeSQL("B", actor: "nobody")]
                {
                    #expect(try databaseError(configuration, user: user, query) == .unknownPerson("nobody"), "\(query)")
                }
                // A service login must say who acts.
                #expect(try databaseError(configuration, user: user, withdrawSQL("A")) == .unknownPerson(""))
            }
            #expect(await libraryError { try await service.grants.amend("B", amountChange: sek("1"), reason: "r", on: .today, actor: "nobody") }
                == .unknownPerson("nobody"))
            #expect(try written(configuration) == before)
        }
    }

    /// cecilia has declared a conflict with the partner (Kisumu County): she may not approve, reject, amend, write
    /// off or close; neither through the library nor by a raw call stating her.
    @Test func aConflictedPersonIsRefusedEveryDecisionOnTheGrant() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.applications.submit(application("B"), actor: "anna")
            try await service.approvals.approve("B", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let tranche = try await service.disbursements.schedule("B", amount: sek("1 000"), dueOn: day("2022-01-31"), actor: "anna")
            try await service.disbursements.attest(tranche.id, actor: "bertil")
            try await service.disbursements.pay(tranche.id, paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
            try await service.grants.settle("B", spent: sek("900"), on: day("2024-04-15"), actor: "anna")
            try await service.conflicts.declare(person: "cecilia", organisation: "Kisumu County", reason: "Former employee", actor: "anna")
            let refused = GrantsError.conflictOfInterest(person: "cecilia", organisation: "Kisumu County")
            let before = try written(configuration)

            #expect(
                await libraryError {
                    try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "cecilia")
                } == refused)
            #expect(await libraryError { try await service.approvals.reject("A", decidedOn: day("2021-12-01"), reason: "no", actor: "cecilia") } == refused)
            #expect(await libraryError { try await service.grants.amend("B", amountChange: sek("500"), reason: "more", on: .today, actor: "cecilia") } == refused)
            #expect(await libraryError { try await service.grants.amend("B", newEndsOn: day("2024-12-31"), reason: "later", on: .today, actor: "cecilia") } == refused)
            #expect(await libraryError { try await service.grants.close("B", on: .today, actor: "cecilia") } == refused)
            #expect(await libraryError { try await service.grants.close("B", on: .today, writeOff: "lost", actor: "cecilia") } == refused)
            for query in [approveSQL("A", actor: "cecilia"), rejectSQL("A", actor: "cecilia"), amendSQL("B", actor: "cecilia"),
                closeSQL("B", writeOff: "lost", actor: "cecilia")]
            {
                #expect(try databaseError(configuration, user: "test_service", query) == refused, "\(query)")
            }
            #expect(try written(configuration) == before, "nothing written")
            #expect(try await service.grants.settlement("B")?.writtenOff == Money.zero(.sek))

            // Someone without a conflict writes the rest off and closes, stamped and audited.
            let closed = try await service.grants.close("B", on: day("2024-05-01"), writeOff: "lost", actor: "anna")
            #expect(closed.status == .closed)
            let connection = try PGConnection(configuration: configuration)
            let stamp = try connection.query(
                """
                SELECT g.closed_by, e.actor, e.details->>'written_off', e.details->>'write_off_reason'
                FROM grants.grant g JOIN grants.audit_event e ON e.entity_key = g.reference AND e.action = 'grant.closed'
                WHERE g.reference = 'B'
                """)[0]
            let values = try (0..<4).map { try stamp.decode(String.self, column: $0) }
            #expect(values == ["anna", "anna", "100.00", "lost"])
        }
    }
}
