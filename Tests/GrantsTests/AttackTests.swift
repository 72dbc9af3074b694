import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// The attacks a staff member with her own login at a `psql` prompt tried before the database was the
/// boundary, each its own test case: every one is refused, and nothing changes. (Attacks on the rules through
/// the API itself — holds, settlement races, conflicts of interest, look-alike names — are in MoneyAPITests,
/// DecisionsAPITests, ReferenceAPITests and BoundaryTests.)
@Suite("Attacks by a staff login at a SQL prompt")
struct AttackTests {
    struct Attack: CustomTestStringConvertible, Sendable {
        let name: String
        let sql: String
        var testDescription: String { name }
    }

    static let attacks: [Attack] = [
        Attack(
            name: "a grant for an application nobody approved",
            sql: """
                INSERT INTO grants.grant (application_id, programme_id, round_id, reference, original_amount, amount, currency,
                    starts_on, original_ends_on, ends_on)
                SELECT id, programme_id, round_id, 'KP-X', 100000, 100000, currency, starts_on, ends_on, ends_on
                  FROM grants.application WHERE reference = 'SUBMITTED'
                """),
        Attack(
            name: "closing a grant with scheduled tranches, anonymously",
            sql: "UPDATE grants.grant SET status = 'closed', reclaimed = 1, closed_on = current_date WHERE reference = 'PAID'"),
        Attack(name: "writing a claim off anonymously", sql: "UPDATE grants.settlement SET written_off = 1, write_off_reason = 'x'"),
        Attack(
            name: "approving a report under someone else's name",
            sql: "UPDATE grants.reporting_requirement SET status = 'approved', approved_on = current_date"),
        Attack(name: "changing the SIE accounts without a trace", sql: "UPDATE grants.programme_settings SET sie_bank_account = '1910'"),
        Attack(name: "attesting with no attester", sql: "UPDATE grants.disbursement SET status = 'attested' WHERE status = 'scheduled'"),
        Attack(
            name: "adding a partner to an approved grant",
            sql: """
                INSERT INTO grants.application_partner (application_id, organisation_id, position)
                SELECT a.id, o.id, 9 FROM grants.application a, grants.organisation o
                 WHERE a.reference = 'PAID' AND o.country = 'KE' LIMIT 1
                """),
        Attack(
            name: "adding a theme to an approved grant",
            sql: "INSERT INTO grants.application_theme (application_id, theme_code, position) SELECT id, 'youth', 9 FROM grants.application WHERE reference = 'PAID'"),
        Attack(
            name: "a repayment with an id of one's choosing",
            sql: """
                INSERT INTO grants.repayment (id, grant_id, amount, currency, received_on, payment_reference, received_by)
                SELECT 999999, grant_id, 1, currency, current_date, 'x', 'test_staff' FROM grants.settlement
                """),
        Attack(name: "raising an award by hand", sql: "UPDATE grants.grant SET amount = amount * 2"),
        Attack(name: "a round's budget by hand", sql: "UPDATE grants.allocation_round SET budget = budget * 10"),
        Attack(
            name: "an audit event in someone else's name",
            sql: "INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key) VALUES ('bertil', 'grant.closed', 'grant', 'PAID')"),
        Attack(name: "deleting a conflict of interest", sql: "DELETE FROM grants.conflict_of_interest"),
        Attack(name: "registering oneself a colleague", sql: "INSERT INTO grants.person (login, name) VALUES ('mallory', 'Mallory')"),
        Attack(name: "emptying the approvals", sql: "TRUNCATE grants.approval CASCADE"),
        Attack(name: "the register's bookkeeping function", sql: "SELECT grants.check_round_budgets('{}')"),
        Attack(name: "a rule function called directly", sql: "SELECT grants.acting_person('bertil')"),
        Attack(name: "another service's privileges by SET ROLE", sql: "SET ROLE grants_service"),
    ]

    /// A round with a submitted application, a grant with a paid and a scheduled tranche, a settlement, a
    /// pending report and a conflict declared; every table has something to attack.
    func populate(_ service: GrantsService) async throws {
        try await seedRound(service, budget: "100 000")
        try await service.applications.submit(application("SUBMITTED", amount: "1 000"), actor: "anna")
        try await service.applications.submit(application("PAID", amount: "2 000"), actor: "anna")
        try await service.approvals.approve("PAID", amount: sek("2 000"), decidedOn: day("2021-12-01"), actor: "anna")
        let first = try await service.disbursements.schedule("PAID", amount: sek("1 000"), dueOn: day("2022-01-31"), actor: "anna")
        try await service.disbursements.attest(first.id, actor: "bertil")
        try await service.disbursements.pay(first.id, paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
        try await service.disbursements.schedule("PAID", amount: sek("500"), dueOn: day("2022-06-30"), actor: "anna")
        try await service.requirements.add("PAID", kind: .interim, dueOn: day("2022-05-31"), beforeTranche: 2, actor: "anna")
        try await service.conflicts.declare(person: "cecilia", organisation: "Växjö kommun", reason: "board", actor: "anna")
    }

    @Test(arguments: attacks)
    func isRefusedAndChangesNothing(_ attack: Attack) async throws {
        try await TestGrants.withService { service, configuration in
            try await populate(service)
            let before = try tableCounts(configuration)
            let snapshot = try state(configuration)
            var staff = configuration
            staff["user"] = "test_staff"
            let raw = try PGConnection(configuration: staff)
            let error = #expect(throws: PGError.self, "\(attack.name)") { try raw.execute(unsafeScript: attack.sql) }
            #expect(error?.sqlState == .insufficientPrivilege, "\(attack.name): \(String(describing: error))")
            #expect(try tableCounts(configuration) == before, "\(attack.name)")
            #expect(try state(configuration) == snapshot, "\(attack.name)")
        }
    }

    /// Row counts of every table of records.
    func tableCounts(_ configuration: PGConfiguration) throws -> [String: Int64] {
        let connection = try PGConnection(configuration: configuration)
        var counts: [String: Int64] = [:]
        for table in try connection.query(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'grants' AND c.relkind = 'r'"
        ).map({ try $0.decode(String.self, column: 0) }) {
            counts[table] = try connection.query("SELECT count(*) FROM grants.\(identifier: table)")[0].decode(Int64.self, column: 0)
        }
        return counts
    }

    /// What an attack would change: statuses, amounts, budgets, settings, actors.
    func state(_ configuration: PGConfiguration) throws -> String {
        let connection = try PGConnection(configuration: configuration)
        return try connection.query(
            """
            SELECT concat_ws('|',
                (SELECT string_agg(concat_ws(',', reference, status, amount, reclaimed, closed_by), ';' ORDER BY id) FROM grants.grant),
                (SELECT string_agg(concat_ws(',', id, status, attested_by), ';' ORDER BY id) FROM grants.disbursement),
                (SELECT string_agg(concat_ws(',', id, status, changed_by), ';' ORDER BY id) FROM grants.reporting_requirement),
                (SELECT string_agg(concat_ws(',', name, budget), ';' ORDER BY id) FROM grants.allocation_round),
                (SELECT string_agg(concat_ws(',', sie_bank_account, updated_by), ';') FROM grants.programme_settings))
            """)[0].decode(String.self, column: 0)
    }
}
