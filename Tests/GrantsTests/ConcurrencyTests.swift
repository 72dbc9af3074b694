import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("Rules under concurrent writers")
struct ConcurrencyTests {
    @Test func thirtyTwoApprovalsNeverOvershootTheBudget() async throws {
        try await TestGrants.withService(poolSize: 8) { service, configuration in
            try await seedRound(service, budget: "10 000,50")
            for i in 0..<32 { try await service.applications.submit(application("A-\(i)"), actor: "anna") }
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<32 {
                    group.addTask {
                        do {
                            try await service.approvals.approve("A-\(i)", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
                            return true
                        } catch let caught as GrantsError where caught.code == .budgetExceeded {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 10, "exactly what fits")
            let round = try await service.rounds.get("R1")
            #expect(round.awarded == sek("10 000"))
            #expect(try !round.budget.isLess(than: round.awarded))
            let connection = try PGConnection(configuration: configuration)
            let sum = try connection.query("SELECT coalesce(sum(amount), 0)::int8 FROM grants.grant")[0].decode(Int64.self, column: 0)
            #expect(sum == round.awarded.minorUnits, "the running total equals the rows")
        }
    }

    @Test func thirtyTwoDisbursementsNeverExceedTheAward() async throws {
        try await TestGrants.withService(poolSize: 8) { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("G"), actor: "anna")
            try await service.approvals.approve("G", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let successes = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<32 {
                    group.addTask {
                        do {
                            try await service.disbursements.schedule("G", amount: sek("100"), dueOn: day("2022-01-01"), actor: "anna-\(i)")
                            return 1
                        } catch let caught as GrantsError where caught.code == .awardExceeded {
                            return 0
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(successes == 10)
            let grant = try await service.grants.get("G").grant
            #expect(grant.committed == grant.amount)
            let connection = try PGConnection(configuration: configuration)
            #expect(
                try connection.query("SELECT sum(amount)::int8 FROM grants.disbursement")[0].decode(Int64.self, column: 0)
                    == grant.amount.minorUnits)
        }
    }

    @Test func theSameManifestFromEightCallersIsStoredOnce() async throws {
        try await TestGrants.withService(poolSize: 8) { service, configuration in
            let manifest = sampleManifest(count: 20)
            let summaries = try await withThrowingTaskGroup(of: RecordSummary.self) { group in
                for i in 0..<8 { group.addTask { try await service.rounds.record(manifest, actor: "caller-\(i)") } }
                return try await group.reduce(into: [RecordSummary]()) { $0.append($1) }
            }
            #expect(summaries.filter(\.changed).count == 1)
            #expect(summaries.filter { !$0.changed }.allSatisfy { $0.unchanged.count == 20 })
            #expect(try count(configuration, "grants.grant") == 20)
            #expect(try count(configuration, "grants.allocation_round") == 1)
            #expect(try count(configuration, "grants.disbursement") == 40)
        }
    }

    @Test func theSameIdempotencyKeyAppliesOnce() async throws {
        try await TestGrants.withService(poolSize: 8) { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("G"), actor: "anna")
            try await service.approvals.approve("G", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await service.disbursements.schedule(
                            "G", amount: sek("100"), dueOn: day("2022-01-01"), idempotencyKey: "pay-run-7", actor: "anna"
                        ).id
                    }
                }
                return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            #expect(try count(configuration, "grants.disbursement") == 1)
            let reused = await #expect(throws: GrantsError.self) {
                try await service.disbursements.schedule(
                    "G", amount: sek("200"), dueOn: day("2022-01-01"), idempotencyKey: "pay-run-7", actor: "anna")
            }
            guard reused?.code == .conflict else {
                Issue.record("got \(String(describing: reused))")
                return
            }
        }
    }
}
