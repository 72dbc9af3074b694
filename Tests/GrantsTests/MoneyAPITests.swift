import Foundation
import PGClient
import TestSupport
import Testing

@testable import Grants

/// The money after the award through grants_api (Schema/api/disbursements.sql, requirements.sql,
/// settlements.sql) and its rules for every writer (Schema/rules/holds.sql, settlement.sql): a report holds its
/// tranche and every later one, nothing is paid after a settlement (also racing it), a repayment's id is the
/// database's, and a person with a conflict of interest does none of it.
@Suite("Money API")
struct MoneyAPITests {
    func scalar(_ configuration: PGConfiguration, _ query: PGQuery) throws -> Int64 {
        try PGConnection(configuration: configuration).query(query)[0].decode(Int64.self, column: 0)
    }

    /// One approved grant `reference` of `amount` with two tranches of half each, the first one paid.
    func grantWithFirstTranchePaid(_ service: GrantsService, _ reference: String = "A", amount: String = "1 000") async throws
        -> (Disbursement, Disbursement)
    {
        try await service.applications.submit(application(reference, amount: amount), actor: "anna")
        try await service.approvals.approve(reference, amount: sek(amount), decidedOn: day("2021-12-01"), actor: "anna")
        let half = Money(minorUnits: sek(amount).minorUnits / 2, currency: .sek)
        let first = try await service.disbursements.schedule(reference, amount: half, dueOn: day("2022-01-31"), actor: "anna")
        let second = try await service.disbursements.schedule(reference, amount: half, dueOn: day("2023-01-31"), actor: "anna")
        try await service.disbursements.attest(first.id, actor: "bertil")
        let paid = try await service.disbursements.pay(first.id, paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
        return (paid, second)
    }

    /// The dodge, through the library alone: a requirement before tranche 2; tranche 2 cancelled; the money
    /// scheduled again as tranche 3 (or as the next number): still held, until the report is approved.
    @Test func aHoldIsNotDodgedByCancellingAndRenumbering() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (_, second) = try await grantWithFirstTranchePaid(service)
            let interim = try await service.requirements.add("A", kind: .interim, dueOn: day("2022-12-31"), beforeTranche: 2, actor: "anna")
            try await service.disbursements.cancel(second.id, on: .today, reason: "Re-planned", actor: "anna")
            let third = try await service.disbursements.schedule(
                "A", amount: sek("500"), dueOn: day("2023-02-01"), tranche: 3, actor: "anna")
            #expect(third.tranche == 3)
            let refused = await libraryError { try await service.disbursements.attest(third.id, actor: "bertil") }
            #expect(refused == .heldBack(tranche: 3, grant: "A", requirement: interim.id))
            // The database says the same to any writer (GR110), the owner's raw UPDATE included.
            #expect(
                try sqlState(
                    configuration, "UPDATE grants.disbursement SET status = 'attested', attested_by = 'bertil' WHERE id = \(third.id)")
                    == "GR110")
            #expect(try await service.disbursements.get(third.id).status == .scheduled)
            try await service.requirements.receive(interim.id, on: day("2022-12-20"), actor: "anna")
            try await service.requirements.approve(interim.id, on: day("2023-01-05"), actor: "anna")
            #expect(try await service.disbursements.attest(third.id, actor: "bertil").status == .attested)
        }
    }

    /// A report pending before tranche 1 holds tranche 2 too: the later tranche cannot be attested or paid first.
    @Test func aLaterTrancheWaitsForAnEarlierTranchesReport() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let inception = try await service.requirements.add(
                "A", kind: .interim, dueOn: day("2022-01-15"), beforeTranche: 1, actor: "anna")
            _ = try await service.disbursements.schedule("A", amount: sek("500"), dueOn: day("2022-01-31"), actor: "anna")
            let second = try await service.disbursements.schedule("A", amount: sek("500"), dueOn: day("2023-01-31"), actor: "anna")
            #expect(second.tranche == 2)
            let refused = await libraryError { try await service.disbursements.attest(second.id, actor: "bertil") }
            #expect(refused == .heldBack(tranche: 2, grant: "A", requirement: inception.id))
            #expect(
                try sqlState(
                    configuration, "UPDATE grants.disbursement SET status = 'attested', attested_by = 'bertil' WHERE id = \(second.id)")
                    == "GR110")
            // Attested while nothing held it, a tranche is still held at payment.
            try await service.requirements.waive(inception.id, reason: "Inception report not needed", actor: "anna")
            try await service.disbursements.attest(second.id, actor: "bertil")
            let late = try await service.requirements.add("A", kind: .interim, dueOn: day("2022-06-30"), beforeTranche: 1, actor: "anna")
            let unpaid = await libraryError {
                try await service.disbursements.pay(second.id, paidOn: day("2022-02-01"), paymentReference: "P-2", actor: "bertil")
            }
            #expect(unpaid == .heldBack(tranche: 2, grant: "A", requirement: late.id))
        }
    }

    /// A disbursement is never inserted attested or paid, so the hold needs no insert path.
    @Test func aDisbursementIsNeverInsertedAttestedOrPaid() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (paid, _) = try await grantWithFirstTranchePaid(service)
            let grant = try await service.grants.get("A").grant.id
            for status in ["attested", "paid"] {
                #expect(
                    try sqlState(
                        configuration,
                        """
                        INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, status, scheduled_by, attested_by,
                            paid_on, payment_reference, paid_by)
                        VALUES (\(grant), 1, 'SEK', '2022-06-01', 7, \(status), 'anna', 'bertil', '2022-06-01', 'x', 'bertil')
                        """) == "GR002")
            }
            #expect(paid.status == .paid)
        }
    }

    /// One task settles while another schedules, attests and pays a tranche of the same grant, by raw SQL (no
    /// lock of its own) or through the library; many trials. Never is a tranche paid after the settlement: the
    /// grant's paid total is always the settlement's paid figure.
    @Test func nothingIsPaidAfterASettlementThatRacedIt() async throws {
        try await TestGrants.withService(poolSize: 4) { service, configuration in
            try await seedRound(service, budget: "1 000 000")
            let trials = 24
            for trial in 0..<trials {
                let reference = "RACE-\(trial)"
                let (_, second) = try await grantWithFirstTranchePaid(service, reference, amount: "1 000")
                try await service.disbursements.cancel(second.id, on: .today, reason: "Re-planned", actor: "anna")
                let grant = try await service.grants.get(reference).grant.id
                let raw = trial % 2 == 0
                let delay = UInt64((trial * 7) % 30) * 1_000_000
                async let writer: Void = {
                    if raw {
                        try await Blocking.run {
                            let connection = try PGConnection(configuration: configuration)
                            do {
                                try connection.execute(
                                    unsafeScript: """
                                        BEGIN;
                                        INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by)
                                        VALUES (\(grant), 50000, 'SEK', '2023-06-01', 3, 'anna');
                                        SELECT pg_sleep(0.03);
                                        COMMIT;
                                        """)
                                try connection.execute(
                                    """
                                    UPDATE grants.disbursement SET status = 'attested', attested_by = 'bertil', attested_at = now()
                                    WHERE grant_id = \(grant) AND tranche = 3 AND status = 'scheduled'
                                    """)
                                try connection.execute(
                                    """
                                    UPDATE grants.disbursement SET status = 'paid', paid_on = '2023-06-02', payment_reference = 'late',
                                        paid_by = 'bertil'
                                    WHERE grant_id = \(grant) AND tranche = 3 AND status = 'attested'
                                    """)
                            } catch let error as PGError where ["GR002", "25P02"].contains(error.sqlState?.rawValue ?? "") {
                                try? connection.execute(unsafeScript: "ROLLBACK")
                            }
                        }
                    } else {
                        do {
                            let late = try await service.disbursements.schedule(
                                reference, amount: sek("500"), dueOn: day("2023-06-01"), tranche: 3, actor: "anna")
                            try await service.disbursements.attest(late.id, actor: "bertil")
                            try await service.disbursements.pay(
                                late.id, paidOn: day("2023-06-02"), paymentReference: "late", actor: "bertil")
                        } catch let caught as GrantsError where caught.code == .invalidTransition && caught[.from] == "settled" {}
                    }
                }()
                async let settler: Settlement? = {
                    try await Task.sleep(nanoseconds: delay)
                    do {
                        return try await service.grants.settle(reference, spent: sek("100"), on: day("2024-01-15"), actor: "cecilia")
                    } catch let caught as GrantsError where caught.code == .invalidTransition && caught[.to] == "settled" {
                        return nil
                    }
                }()
                let (_, settlement) = try await (writer, settler)
                let paidTotal = try await service.grants.get(reference).grant.paid
                if let settlement {
                    #expect(
                        paidTotal == settlement.paid,
                        "trial \(trial): paid \(paidTotal.swedish) after a settlement of \(settlement.paid.swedish)")
                    // Nothing left to attest or pay either: the tranche racing it was paid before it, or never written.
                    let unpaid = try scalar(
                        configuration,
                        "SELECT count(*) FROM grants.disbursement WHERE grant_id = \(grant) AND status IN ('scheduled', 'attested')")
                    #expect(unpaid == 0, "trial \(trial)")
                }
            }
            // Whatever the interleaving, every settled grant's paid total is its settlement's.
            #expect(
                try scalar(
                    configuration,
                    "SELECT count(*) FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id WHERE g.paid_total <> s.paid") == 0)
        }
    }

    /// A repayment's id is the database's: one given is refused, for the owner too.
    @Test func aRepaymentsIdCannotBeChosen() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (_, second) = try await grantWithFirstTranchePaid(service)
            try await service.disbursements.cancel(second.id, on: .today, reason: "Ended", actor: "anna")
            try await service.grants.settle("A", spent: sek("300"), on: day("2024-01-15"), actor: "anna")
            let grant = try await service.grants.get("A").grant.id
            let ahead = try scalar(configuration, "SELECT max(id) + 5 FROM grants.disbursement")
            #expect(
                try sqlState(
                    configuration,
                    """
                    INSERT INTO grants.repayment (id, grant_id, amount, currency, received_on, payment_reference, received_by)
                    VALUES (\(ahead), \(grant), 100, 'SEK', '2024-02-01', 'chosen', 'bertil')
                    """) == "23505")
            let entry = try await service.repayments.receive(
                "A", amount: sek("50"), on: day("2024-02-01"), paymentReference: "R-1", actor: "bertil")
            // Issued by the sequence the disbursements take theirs from, so no later disbursement is issued it.
            #expect(try scalar(configuration, "SELECT count(*) FROM grants.disbursement WHERE id = \(entry.id)") == 0)
            #expect(
                try scalar(configuration, "SELECT pg_sequence_last_value(pg_get_serial_sequence('grants.disbursement', 'id')::regclass)")
                    >= entry.id)
        }
    }

    /// A person with a declared conflict of interest does no act of the money after the award: schedule, attest,
    /// pay, cancel, reverse, settle. Nothing is written.
    @Test func aConflictedPersonIsRefusedEveryActOnTheMoney() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (paid, second) = try await grantWithFirstTranchePaid(service)
            try await service.conflicts.declare(person: "cecilia", organisation: "Kisumu County", reason: "Former employee", actor: "anna")
            let events = try count(configuration, "grants.audit_event")
            let refused: GrantsError = .conflictOfInterest(person: "cecilia", organisation: "Kisumu County")
            let acts: [(String, () async throws -> Void)] = [
                (
                    "schedule",
                    { _ = try await service.disbursements.schedule("A", amount: sek("1"), dueOn: day("2023-02-01"), actor: "cecilia") }
                ),
                ("attest", { _ = try await service.disbursements.attest(second.id, actor: "cecilia") }),
                (
                    "pay",
                    {
                        _ = try await service.disbursements.pay(
                            second.id, paidOn: day("2023-02-01"), paymentReference: "x", actor: "cecilia")
                    }
                ),
                ("cancel", { _ = try await service.disbursements.cancel(second.id, on: .today, reason: "No", actor: "cecilia") }),
                (
                    "reverse",
                    { _ = try await service.disbursements.reverse(paid.id, on: day("2022-03-01"), reason: "No", actor: "cecilia") }
                ),
                ("settle", { _ = try await service.grants.settle("A", spent: sek("1"), on: day("2024-01-15"), actor: "cecilia") }),
            ]
            for (name, act) in acts {
                let error = await libraryError(act)
                #expect(error == refused, "\(name): \(String(describing: error))")
            }
            #expect(try count(configuration, "grants.audit_event") == events)
            #expect(try await service.disbursements.get(second.id).status == .scheduled)
            #expect(try await service.grants.settlement("A") == nil)
        }
    }

    /// Raw SQL on a person's own login calls the same functions under the same rules: what the library refuses is
    /// refused with the same SQLSTATE and nothing is written; naming another actor is GR005; a service login
    /// naming nobody is GR010.
    @Test func theAPIRefusesRawCallsAsTheLibraryDoes() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (paid, second) = try await grantWithFirstTranchePaid(service)
            let interim = try await service.requirements.add("A", kind: .interim, dueOn: day("2022-12-31"), beforeTranche: 2, actor: "anna")
            let events = try count(configuration, "grants.audit_event")
            let calls: [(PGQuery, String)] = [
                ("SELECT * FROM grants_api.attest(\(second.id), 'anna')", "GR005"),
                ("SELECT * FROM grants_api.attest(\(second.id))", "GR110"),
                ("SELECT * FROM grants_api.pay(\(second.id), '2023-02-01', 'P-2')", "GR002"),
                ("SELECT * FROM grants_api.pay(\(second.id), '2999-01-01', 'P-2')", "GR008"),
                ("SELECT * FROM grants_api.cancel(\(second.id), current_date, '  ')", "GR008"),
                ("SELECT * FROM grants_api.cancel(999999, current_date, 'why')", "GR007"),
                ("SELECT * FROM grants_api.reverse(\(paid.id), '2022-01-01', 'early')", "GR008"),
                ("SELECT * FROM grants_api.reverse(\(second.id), '2022-03-01', 'unpaid')", "GR002"),
                ("SELECT * FROM grants_api.schedule('A', NULL, 100000, 'SEK', '1000', '2023-02-01', 2, NULL, NULL)", "GR009"),
                ("SELECT * FROM grants_api.schedule('A', NULL, 100000, 'SEK', '1000', '2030-02-01', NULL, NULL, NULL)", "GR008"),
                ("SELECT * FROM grants_api.schedule('A', NULL, 100000, 'SEK', '1000', '2023-02-01', NULL, NULL, NULL, 'bertil')", "GR005"),
                ("SELECT * FROM grants_api.settle('A', NULL, 10000, 'SEK', '2024-01-15')", "GR002"),
                ("SELECT * FROM grants_api.receive_repayment('A', NULL, 100, 'SEK', '2024-01-20', 'R')", "GR007"),
                ("SELECT * FROM grants_api.requirement_approve(\(interim.id), '2023-01-01')", "GR002"),
                ("SELECT * FROM grants_api.requirement_receive(\(interim.id), '2999-01-01')", "GR008"),
                ("SELECT * FROM grants_api.requirement_add('A', NULL, 'interim', '2022-12-31', 3)", "GR009"),
                ("SELECT * FROM grants_api.requirement_waive(\(interim.id), 'x', 'anna')", "GR005"),
            ]
            for (call, expected) in calls {
                #expect(try sqlState(configuration, user: "test_staff", call) == expected, "\(call.sql)")
            }
            // A service login states the actor, and only a registered one.
            #expect(
                try sqlState(configuration, user: "test_service", "SELECT * FROM grants_api.attest(\(second.id), 'nobody')") == "GR010")
            #expect(
                try sqlState(configuration, user: "test_service", "SELECT * FROM grants_api.settle('A', NULL, 0, 'SEK', '2024-01-15')")
                    == "GR010")
            #expect(try count(configuration, "grants.audit_event") == events)
            // And what it allows, it does as the login's own person.
            #expect(
                try sqlState(configuration, user: "test_staff", "SELECT * FROM grants_api.requirement_receive(\(interim.id), '2022-12-20')")
                    == nil)
            #expect(
                try await service.audit.list(entity: "requirement").filter { $0.action == "requirement.received" }.map(\.actor)
                    == ["test_staff"])
            #expect(try await service.requirements.get(interim.id).status == .received)
        }
    }
}
