import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// Approve and schedule are one call each of a database function (`grants_api.approve`, `grants_api.schedule`) that
/// checks, writes and returns the row: what they return must be what every read of the same row says, and
/// what they refuse must be refused with the same errors as before, with nothing written.
@Suite("One-call writes")
struct OneCallWriteTests {
    @Test func theRowsTheyReturnAreTheRowsReadsReturn() async throws {
        try await TestGrants.withService { service, _ in
            try await seedRound(service)
            try await service.applications.submit(application("A", amount: "2 000"), actor: "anna")
            let approved = try await service.approvals.approve(
                "A", amount: sek("1 500"), decidedOn: day("2021-12-01"), decisionRef: "Dnr 2021/17", actor: "anna")
            #expect(approved == (try await service.grants.get("A")).grant)
            #expect(approved.partners.map(\.name) == ["Kisumu County"])
            #expect(approved.themes == [dialogue.code])
            // A retry returns the same grant, written once.
            let retried = try await service.approvals.approve(
                "A", amount: sek("1 500"), decidedOn: day("2021-12-01"), decisionRef: "Dnr 2021/17", actor: "anna")
            #expect(retried == approved)
            #expect(try await service.rounds.get("R1").awarded == sek("1 500"))

            let first = try await service.disbursements.schedule("A", amount: sek("500"), dueOn: day("2022-01-31"), actor: "anna")
            #expect(first == (try await service.disbursements.get(first.id)))
            #expect(first.tranche == 1)
            let keyed = try await service.disbursements.schedule(
                "A", amount: sek("500"), dueOn: day("2022-06-30"), idempotencyKey: "k-1", actor: "anna")
            let again = try await service.disbursements.schedule(
                "A", amount: sek("500"), dueOn: day("2022-06-30"), idempotencyKey: "k-1", actor: "anna")
            #expect(again == keyed)
            #expect(keyed.tranche == 2)
            #expect(try await service.grants.get("A").grant.committed == sek("1 000"))
        }
    }

    @Test func whatTheyRefuseIsTypedAndWritesNothing() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A", amount: "2 000"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            try await service.disbursements.schedule("A", amount: sek("100"), dueOn: day("2022-01-31"), tranche: 1, actor: "anna")
            let disbursements = try count(configuration, "grants.disbursement")
            let events = try count(configuration, "grants.audit_event")

            await #expect(throws: GrantsError.notFound(entity: "application", key: "NOPE")) {
                try await service.approvals.approve("NOPE", amount: sek("1"), decidedOn: day("2021-12-01"), actor: "anna")
            }
            await #expect(throws: GrantsError.notFound(entity: "grant", key: "NOPE")) {
                try await service.disbursements.schedule("NOPE", amount: sek("1"), dueOn: day("2022-01-31"), actor: "anna")
            }
            do {
                try await service.disbursements.schedule("A", amount: sek("1"), dueOn: day("2022-02-28"), tranche: 1, actor: "anna")
                Issue.record("a taken tranche number was accepted")
            } catch let caught as GrantsError where caught.code == .conflict {
                let (entity, key, differences) = (caught.entity, caught.key, caught.differences)
                #expect(entity == "grant" && key == "A")
                #expect(differences.map(\.location) == ["tranche"])
            }
            try await service.disbursements.schedule(
                "A", amount: sek("1"), dueOn: day("2022-02-28"), idempotencyKey: "k-2", actor: "anna")
            do {
                try await service.disbursements.schedule(
                    "A", amount: sek("2"), dueOn: day("2022-02-28"), idempotencyKey: "k-2", actor: "anna")
                Issue.record("a key reused for another request was accepted")
            } catch let caught as GrantsError where caught.code == .conflict {
                let (entity, key, differences) = (caught.entity, caught.key, caught.differences)
                #expect(entity == "idempotency key" && key == "k-2")
                #expect(differences.map(\.location) == ["request"])
            }
            do {
                try await service.disbursements.schedule("A", amount: sek("1"), dueOn: day("2021-06-30"), actor: "anna")
                Issue.record("a due date outside the grant's period was accepted")
            } catch let caught as GrantsError where caught.code == .invalidInput {
                let problems = caught.problems
                #expect(problems.map(\.location) == ["due_on"])
                #expect(problems.first?.message == "2021-06-30 is outside the grant's period 2022-01-01 to 2023-12-31")
            }
            await #expect(throws: GrantsError.awardExceeded(grant: "A", excess: sek("900"))) {
                try await service.disbursements.schedule("A", amount: sek("1 799"), dueOn: day("2022-03-31"), actor: "anna")
            }
            // Only the keyed tranche above was written.
            #expect(try count(configuration, "grants.disbursement") == disbursements + 1)
            #expect(try count(configuration, "grants.audit_event") == events + 1)
        }
    }
}
