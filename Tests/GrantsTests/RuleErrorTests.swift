import Foundation
import PGClient
import TestSupport
import Testing

@testable import Grants

/// Each rule of DESIGN §4 gives one error case, whether the library's own check catches it or the database
/// catches a writer that went past the library (raw SQL here, a racing writer in production).
@Suite("One error per rule, whichever layer catches it")
struct RuleErrorTests {
    /// What the database says to a raw statement, in the library's terms.
    func databaseError(_ configuration: PGConfiguration, _ query: PGQuery) throws -> GrantsError? {
        let connection = try PGConnection(configuration: configuration)
        do {
            try connection.execute(query)
            return nil
        } catch {
            return DatabaseRules.translate(error)
        }
    }

    @Test func budgetExceeded() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A", amount: "9 000"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("9 000"), decidedOn: day("2021-12-01"), actor: "anna")
            try await service.applications.submit(application("B", amount: "2 000"), actor: "anna")
            let swift = await libraryError {
                try await service.approvals.approve("B", amount: sek("2 000"), decidedOn: day("2021-12-01"), actor: "anna")
            }
            let database = try databaseError(
                configuration,
                """
                INSERT INTO grants.grant (application_id, programme_id, round_id, reference, original_amount, amount, currency,
                    starts_on, original_ends_on, ends_on)
                SELECT id, programme_id, round_id, reference, 200000, 200000, currency, starts_on, ends_on, ends_on
                FROM grants.application WHERE reference = 'B'
                """)
            #expect(swift == .budgetExceeded(round: "R1", excess: sek("1 000")))
            #expect(database == swift)
            #expect(swift?.category == .rule)
        }
    }

    @Test func awardExceeded() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            try await service.disbursements.schedule("A", amount: sek("900"), dueOn: day("2022-01-31"), actor: "anna")
            let swift = await libraryError {
                try await service.disbursements.schedule("A", amount: sek("100,01"), dueOn: day("2022-02-28"), actor: "anna")
            }
            let database = try databaseError(
                configuration,
                """
                INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by)
                SELECT id, 10001, currency, '2022-02-28', 9, 'anna' FROM grants.grant WHERE reference = 'A'
                """)
            #expect(swift == .awardExceeded(grant: "A", excess: sek("0,01")))
            #expect(database == swift)
            // An amendment below what is already committed is the same rule.
            let amendment = await libraryError {
                try await service.grants.amend(
                    "A", amountChange: Money(minorUnits: -sek("100,01").minorUnits, currency: .sek), reason: "Less", on: .today, actor: "anna")
            }
            #expect(amendment == .awardExceeded(grant: "A", excess: sek("0,01")))
        }
    }

    @Test func fourEyesAndStateChanges() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let first = try await service.disbursements.schedule("A", amount: sek("500"), dueOn: day("2022-01-31"), actor: "anna")
            let swift = await libraryError { try await service.disbursements.attest(first.id, actor: "anna") }
            let database = try databaseError(
                configuration,
                """
                UPDATE grants.disbursement SET status = 'attested', attested_by = scheduled_by, attested_at = now()
                WHERE id = \(first.id)
                """)
            #expect(swift == .fourEyes(disbursement: String(first.id), actor: "anna"))
            #expect(database == swift)

            try await service.disbursements.cancel(first.id, on: .today, reason: "Wrong date", actor: "anna")
            let again = await libraryError { try await service.disbursements.attest(first.id, actor: "bertil") }
            let raw = try databaseError(
                configuration,
                "UPDATE grants.disbursement SET status = 'attested', attested_by = 'bertil', attested_at = now() WHERE id = \(first.id)")
            #expect(again == .invalidTransition(entity: "disbursement", key: String(first.id), from: "cancelled", to: "attested"))
            #expect(raw == again)
        }
    }

    @Test func closedRounds() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.rounds.close("R1", actor: "anna")
            let swift = await libraryError {
                try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            }
            let database = try databaseError(
                configuration,
                """
                INSERT INTO grants.grant (application_id, programme_id, round_id, reference, original_amount, amount, currency,
                    starts_on, original_ends_on, ends_on)
                SELECT id, programme_id, round_id, reference, 100000, 100000, currency, starts_on, ends_on, ends_on
                FROM grants.application WHERE reference = 'A'
                """)
            #expect(swift == .closed(entity: "round", key: "R1"))
            #expect(database == swift)
        }
    }

    /// Paid money never changes. The library offers no way to edit it, so only the database can be asked.
    @Test func appendOnly() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let d = try await service.disbursements.schedule("A", amount: sek("500"), dueOn: day("2022-01-31"), actor: "anna")
            try await service.disbursements.attest(d.id, actor: "bertil")
            try await service.disbursements.pay(d.id, paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
            let database = try databaseError(configuration, "UPDATE grants.disbursement SET amount = 1 WHERE id = \(d.id)")
            #expect(database == .appendOnly(entity: "disbursement", key: String(d.id)))
            let audit = try databaseError(configuration, "DELETE FROM grants.audit_event")
            guard audit?.code == .appendOnly, let entity = audit?.entity else {
                Issue.record("got \(String(describing: audit))")
                return
            }
            #expect(entity == "audit_event")
        }
    }

    /// A new grant starts with zero totals, whoever writes it; its tranches, inserted with it in one statement
    /// (how a round is recorded) or later, add to them (Schema/rules/totals.sql). No system column is read.
    @Test func grantsInsertedWithTheirTranchesCarryTheirTotals() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            for reference in ["A", "B"] { try await service.applications.submit(application(reference), actor: "anna") }
            func insert(committed: Int, tranches: [Int]) -> PGQuery {
                let values =
                    tranches.isEmpty
                    ? "SELECT 0, 0 WHERE false"
                    : "VALUES " + tranches.enumerated().map { "(\($0.element), \($0.offset + 1))" }.joined(separator: ", ")
                return """
                    WITH g AS (
                        INSERT INTO grants.grant (application_id, programme_id, round_id, reference, original_amount, amount, currency,
                            starts_on, original_ends_on, ends_on, committed_total)
                        SELECT id, programme_id, round_id, reference, 100000, 100000, currency, starts_on, ends_on, ends_on,
                               \(unsafeRaw: String(committed))
                        FROM grants.application WHERE reference = 'A'
                        RETURNING id, currency
                    ), d AS (
                        INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by)
                        SELECT g.id, t.amount, g.currency, '2022-01-31', t.n, 'anna'
                        FROM g CROSS JOIN (\(unsafeRaw: values)) AS t(amount, n)
                    )
                    SELECT 1
                    """
            }
            // A new grant that claims totals of its own is refused, with or without tranches beside it.
            for (committed, tranches) in [(50000, []), (55000, [50000, 5000]), (60000, [50000, 5000])] {
                let refused = try databaseError(configuration, insert(committed: committed, tranches: tranches))
                #expect(refused?.category == .rule, "\(committed) with \(tranches): \(String(describing: refused))")
                #expect(try count(configuration, "grants.grant") == 0)
                #expect(try count(configuration, "grants.disbursement") == 0)
            }
            // From zero, the tranches written with it add up, and later tranches are added as always.
            #expect(try databaseError(configuration, insert(committed: 0, tranches: [50000, 5000])) == nil)
            let later = try databaseError(
                configuration,
                """
                INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by)
                SELECT id, 20000, currency, '2022-02-28', 3, 'anna' FROM grants.grant WHERE reference = 'A'
                """)
            #expect(later == nil)
            let connection = try PGConnection(configuration: configuration)
            let totals = try connection.query("SELECT committed_total FROM grants.grant WHERE reference = 'A'")
            #expect(try totals[0].decode(Int64.self, column: 0) == 75000)

            // A statement that writes an existing grant (a no-op update) and inserts its disbursement: the grant is not
            // new, so the tranche counts as any other, or the statement is refused; the totals never drift.
            try await service.approvals.approve("B", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            _ = try databaseError(
                configuration,
                """
                WITH u AS (UPDATE grants.grant SET status = status WHERE reference = 'B' RETURNING id, currency)
                INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by)
                SELECT id, 30000, currency, '2022-01-31', 1, 'anna' FROM u
                """)
            let drift = try connection.query(
                """
                SELECT count(*) FROM grants.grant g
                WHERE g.committed_total <> coalesce((SELECT sum(grants.committed_part(d.status, d.amount)) FROM grants.disbursement d
                                                     WHERE d.grant_id = g.id), 0)
                """)[0].decode(Int64.self, column: 0)
            #expect(drift == 0)
        }
    }

    /// Every pair of states of every state machine, tried against the triggers with raw SQL: the database
    /// allows exactly the changes `StateMachine.transitions` allows.
    @Test func stateMachinesAgreeWithTheTriggers() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service, budget: "100 000")
            let connection = try PGConnection(configuration: configuration)
            func accepts(_ update: PGQuery) throws -> Bool {
                try connection.execute("BEGIN")
                defer { _ = try? connection.execute("ROLLBACK") }
                do {
                    try connection.execute(update)
                    return true
                } catch let error as PGError {
                    let refusals: Set<SQLState> = [.appendOnly, .invalidStateChange, .closed, .invalidReversal]
                    guard let state = error.sqlState, refusals.contains(state) else { throw error }
                    return false
                }
            }
            func check<S: StateMachine>(_ from: S, _ to: S, _ accepted: Bool) {
                #expect(accepted == from.canTransition(to: to), "\(S.self): \(from.rawValue) → \(to.rawValue)")
            }

            // Disbursements in each state, on one grant.
            try await service.applications.submit(application("D", amount: "10 000"), actor: "anna")
            try await service.approvals.approve("D", amount: sek("10 000"), decidedOn: day("2021-12-01"), actor: "anna")
            var disbursements: [DisbursementStatus: Int64] = [:]
            // `reversal` is made from a paid one below; `repayment`, `write-off` and `reclaim` are no disbursement's
            // state (rows the reports give repayments and closings: see AfterTheAwardTests, TimeInTheBooksTests).
            for status in DisbursementStatus.allCases where ![.reversal, .repayment, .writeOff, .reclaim].contains(status) {
                let d = try await service.disbursements.schedule("D", amount: sek("100"), dueOn: day("2022-01-31"), actor: "anna")
                if status == .attested || status == .paid { try await service.disbursements.attest(d.id, actor: "bertil") }
                if status == .paid {
                    try await service.disbursements.pay(d.id, paidOn: day("2022-02-01"), paymentReference: "P", actor: "bertil")
                }
                if status == .cancelled { try await service.disbursements.cancel(d.id, on: .today, reason: "r", actor: "anna") }
                disbursements[status] = d.id
            }
            let paid = try #require(disbursements[.paid])
            disbursements[.reversal] = try await service.disbursements.reverse(paid, on: day("2022-03-01"), reason: "r", actor: "anna").id
            let to: [DisbursementStatus: PGQuery] = [
                .scheduled: "status = 'scheduled', attested_by = NULL, attested_at = NULL",
                .attested: "status = 'attested', attested_by = 'erik', attested_at = now()",
                .paid:
                    "status = 'paid', attested_by = coalesce(attested_by, 'erik'), paid_on = '2022-02-01', payment_reference = 'P', paid_by = 'erik'",
                .cancelled: "status = 'cancelled', cancelled_by = 'erik', cancelled_at = now(), cancelled_on = current_date, reason = 'r'",
                .reversal: "status = 'reversal'",
            ]
            for (from, id) in disbursements {
                for (target, set) in to where target != from {
                    check(from, target, try accepts("UPDATE grants.disbursement SET \(set) WHERE id = \(id)"))
                }
            }

            // Applications in each state.
            var applications: [ApplicationStatus: String] = [:]
            for status in ApplicationStatus.allCases {
                let reference = "A-\(status.rawValue)"
                try await service.applications.submit(application(reference), actor: "anna")
                switch status {
                case .submitted: break
                case .approved:
                    try await service.approvals.approve(reference, amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
                case .rejected: try await service.approvals.reject(reference, decidedOn: day("2021-12-01"), reason: "r", actor: "anna")
                case .withdrawn: try await service.applications.withdraw(reference, actor: "anna")
                }
                applications[status] = reference
            }
            for (from, reference) in applications {
                for target in ApplicationStatus.allCases where target != from {
                    check(
                        from, target,
                        try accepts("UPDATE grants.application SET status = \(target.rawValue) WHERE reference = \(reference)"))
                }
            }

            // Grants: one active, one closed.
            try await service.applications.submit(application("G"), actor: "anna")
            try await service.approvals.approve("G", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            try await service.grants.close("G", on: .today, actor: "anna")
            let grants: [GrantStatus: String] = [.active: "D", .closed: "G"]
            for (from, reference) in grants {
                for target in GrantStatus.allCases where target != from {
                    let set: PGQuery =
                        target == .closed
                        ? "status = 'closed', closed_on = '2024-01-01', reclaimed = 0, closed_by = 'erik'"
                        : "status = 'active', closed_on = NULL, reclaimed = NULL, closed_by = NULL"
                    check(from, target, try accepts("UPDATE grants.grant SET \(set) WHERE reference = \(reference)"))
                }
            }

            // Reporting requirements in each state, on grant D.
            var requirements: [RequirementStatus: Int64] = [:]
            for (i, status) in RequirementStatus.allCases.enumerated() {
                let r = try await service.requirements.add(
                    "D", kind: .interim, dueOn: try CalendarDate(daysSinceEpoch: day("2022-06-01").daysSinceEpoch + i), actor: "anna")
                if status != .due && status != .waived {
                    try await service.requirements.receive(r.id, on: day("2022-06-10"), actor: "anna")
                }
                switch status {
                case .approved: try await service.requirements.approve(r.id, on: day("2022-06-11"), actor: "anna")
                case .returned: try await service.requirements.returnForChanges(r.id, reason: "r", actor: "anna")
                case .waived: try await service.requirements.waive(r.id, reason: "r", actor: "anna")
                case .due, .received: break
                }
                requirements[status] = r.id
            }
            let requirementSet: [RequirementStatus: PGQuery] = [
                .due: "status = 'due'",
                .received: "status = 'received', received_on = '2022-06-12'",
                .approved: "status = 'approved', received_on = coalesce(received_on, '2022-06-12'), approved_on = '2022-06-13'",
                .returned: "status = 'returned', reason = 'r'",
                .waived: "status = 'waived', reason = 'r'",
            ]
            for (from, id) in requirements {
                for (target, set) in requirementSet where target != from {
                    check(from, target, try accepts("UPDATE grants.reporting_requirement SET \(set) WHERE id = \(id)"))
                }
            }

            // Rounds: R1 open, R2 closed.
            try await service.rounds.create(NewRound(programme: "Kommunala partnerskap", name: "R2", budget: sek("1")), actor: "anna")
            try await service.rounds.close("R2", actor: "anna")
            let rounds: [RoundStatus: String] = [.open: "R1", .closed: "R2"]
            for (from, name) in rounds {
                for target in RoundStatus.allCases where target != from {
                    check(from, target, try accepts("UPDATE grants.allocation_round SET status = \(target.rawValue) WHERE name = \(name)"))
                }
            }
        }
    }
}
