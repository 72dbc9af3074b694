import Foundation
import PGClient
import TestSupport
import Testing

@testable import Grants

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

    /// Raw grant inserts, as a writer past the library sends them, racing for one round's budget. The one that
    /// waited for the round's lock is judged by the total its predecessor committed, and refused by the committed
    /// excess; an award that fills the budget exactly is taken; a statement of several rounds is refused at the
    /// first round over its budget, with nothing written; under REPEATABLE READ a waiter cannot serialize.
    @Test func aGrantThatWaitedForTheRoundIsJudgedByTheCommittedTotal() async throws {
        try await TestGrants.withService(direct: true) { service, configuration in
            try await seedRound(service)
            try await service.rounds.create(NewRound(programme: "Kommunala partnerskap", name: "R2", budget: sek("3 000")), actor: "anna")
            for (reference, amount) in [("A", "6 000"), ("B", "5 000"), ("C", "4 000"), ("D", "1 000"), ("E", "1 000")] {
                try await service.applications.submit(application(reference, amount: amount), actor: "anna")
            }
            try await service.rounds.create(NewRound(programme: "Kommunala partnerskap", name: "R3", budget: sek("3 000")), actor: "anna")
            for (reference, round) in [("F", "R2"), ("G", "R2"), ("H", "R3"), ("I", "R3")] {
                var other = application(reference)
                other.round = round
                try await service.applications.submit(other, actor: "anna")
            }
            func insert(_ awards: [String: Int64]) -> PGQuery {
                let references = awards.keys.sorted()
                return """
                    INSERT INTO grants.grant (application_id, programme_id, round_id, reference, original_amount, amount, currency,
                        starts_on, original_ends_on, ends_on)
                    SELECT a.id, a.programme_id, a.round_id, a.reference, x.amount, x.amount, a.currency, a.starts_on, a.ends_on, a.ends_on
                      FROM grants.application a
                      JOIN unnest(\(references)::text[], \(references.map { awards[$0] ?? 0 })::int8[]) AS x(reference, amount)
                        ON x.reference = a.reference
                    """
            }
            func databaseError(_ connection: PGConnection, _ query: PGQuery) -> GrantsError? {
                do {
                    try connection.execute(query)
                    return nil
                } catch {
                    return DatabaseRules.translate(error)
                }
            }
            let monitor = try PGConnection(configuration: configuration)
            func awarded(_ round: String) throws -> Int64 {
                try monitor.query("SELECT awarded_total FROM grants.allocation_round WHERE name = \(round)")[0]
                    .decode(Int64.self, column: 0)
            }
            func waitUntilBlocked(_ name: String) async throws {
                // A bound, not a measure: until the statement waits for a lock.
                for _ in 0..<6_000 {
                    let waiting = try monitor.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = \(name) AND wait_event_type = 'Lock'"
                    )[0].decode(Int64.self, column: 0)
                    if waiting > 0 { return }
                    try await Task.sleep(for: .milliseconds(10))
                }
                Issue.record("\(name) never waited for the round")
            }

            // READ COMMITTED: B waits for A's lock on the round, then meets A's committed 6 000.
            let first = try PGConnection(configuration: configuration)
            try first.execute("BEGIN")
            try first.execute(insert(["A": 600_000]))
            var waiter = configuration
            waiter["application_name"] = "budget-waiter"
            let racing = StatementThread(configuration: waiter, statements: [insert(["B": 500_000])])
            racing.start()
            try await waitUntilBlocked("budget-waiter")
            try first.execute("COMMIT")
            #expect(racing.result() == .budgetExceeded(round: "R1", excess: sek("1 000")))
            #expect(try awarded("R1") == 600_000)

            // Exactly what is left is taken; a cent more is not.
            #expect(databaseError(first, insert(["E": 400_001])) == .budgetExceeded(round: "R1", excess: sek("0,01")))
            #expect(databaseError(first, insert(["C": 400_000])) == nil)
            #expect(try awarded("R1") == 1_000_000)

            // Several rounds in one statement: R1 is full, so nothing is written in R2 either.
            #expect(databaseError(first, insert(["D": 100_000, "F": 100_000])) == .budgetExceeded(round: "R1", excess: sek("1 000")))
            #expect(try awarded("R2") == 0)
            #expect(databaseError(first, insert(["F": 100_000, "G": 200_000])) == nil)
            #expect(try awarded("R2") == 300_000)

            // REPEATABLE READ: a round another writer moved after the snapshot cannot be added to (40001, which a
            // pool's transaction retries).
            let repeatable = try PGConnection(configuration: configuration)
            try repeatable.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            _ = try repeatable.query("SELECT awarded_total FROM grants.allocation_round WHERE name = 'R3'")
            #expect(databaseError(first, insert(["H": 100_000])) == nil)
            do {
                try repeatable.execute(insert(["I": 100_000]))
                Issue.record("a REPEATABLE READ insert added to a round moved after its snapshot")
            } catch let error as PGError {
                #expect(error.sqlState == .serializationFailure, "\(error)")
            }
            try repeatable.execute("ROLLBACK")
            #expect(try awarded("R3") == 100_000)
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

/// Runs raw statements on a connection of its own, on a thread, so that a test can watch it wait for a lock; the
/// first statement's refusal, in the library's terms (nil when all ran).
final class StatementThread: @unchecked Sendable {
    // @unchecked: `outcome` is written once by the thread before `done` is signalled and read only after.
    private let configuration: PGConfiguration
    private let statements: [PGQuery]
    private let done = DispatchSemaphore(value: 0)
    private var outcome: GrantsError?

    init(configuration: PGConfiguration, statements: [PGQuery]) {
        self.configuration = configuration
        self.statements = statements
    }

    func start() {
        Thread {
            do {
                let connection = try PGConnection(configuration: self.configuration)
                for statement in self.statements { try connection.execute(statement) }
            } catch {
                self.outcome = DatabaseRules.translate(error)
            }
            self.done.signal()
        }.start()
    }

    func result() -> GrantsError? {
        done.wait()
        return outcome
    }
}
