import Foundation
import PGClient
import TestSupport
import Testing

@testable import Grants

/// The references Schema/0016 checks once per statement instead of by foreign keys: every writer is refused a row
/// whose parent is missing, with the foreign key's own error, and no parent can go away under a row that uses it.
@Suite("References checked per statement")
struct ReferenceTests {
    /// The database's error for a raw statement, or nil when it was accepted.
    func refusal(_ configuration: PGConfiguration, _ query: PGQuery) throws -> PGError? {
        let connection = try PGConnection(configuration: configuration)
        do {
            try connection.execute(query)
            return nil
        } catch let error as PGError {
            return error
        }
    }

    /// Rows whose parent is missing, for every reference 0016 checks: 0 in a sound database.
    static let orphans = """
        SELECT (SELECT count(*) FROM grants.application a WHERE NOT EXISTS (SELECT 1 FROM grants.organisation o WHERE o.id = a.applicant_id)
                   OR NOT EXISTS (SELECT 1 FROM grants.allocation_round r WHERE r.id = a.round_id AND r.programme_id = a.programme_id))
             + (SELECT count(*) FROM grants.application_partner x WHERE NOT EXISTS (SELECT 1 FROM grants.application a WHERE a.id = x.application_id)
                   OR NOT EXISTS (SELECT 1 FROM grants.organisation o WHERE o.id = x.organisation_id))
             + (SELECT count(*) FROM grants.application_theme x WHERE NOT EXISTS (SELECT 1 FROM grants.application a WHERE a.id = x.application_id)
                   OR NOT EXISTS (SELECT 1 FROM grants.theme t WHERE t.code = x.theme_code))
             + (SELECT count(*) FROM grants.approval x WHERE NOT EXISTS (SELECT 1 FROM grants.application a WHERE a.id = x.application_id))
             + (SELECT count(*) FROM grants.grant g WHERE NOT EXISTS (SELECT 1 FROM grants.application a WHERE a.id = g.application_id)
                   OR NOT EXISTS (SELECT 1 FROM grants.allocation_round r WHERE r.id = g.round_id AND r.programme_id = g.programme_id))
             + (SELECT count(*) FROM grants.disbursement d WHERE NOT EXISTS (SELECT 1 FROM grants.grant g WHERE g.id = d.grant_id)
                   OR (d.reverses_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM grants.disbursement o WHERE o.id = d.reverses_id)))
        """

    @Test func aMissingParentIsRefusedWithTheForeignKeysOwnError() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let connection = try PGConnection(configuration: configuration)
            let ids = try connection.query(
                """
                SELECT a.id AS application, g.id AS "grant", a.round_id, a.programme_id, a.applicant_id
                FROM grants.application a JOIN grants.grant g ON g.application_id = a.id
                """)[0]
            let applicationID: Int64 = try ids.decode(column: "application")
            let grantID: Int64 = try ids.decode(column: "grant")
            let roundID: Int64 = try ids.decode(column: "round_id")
            let programmeID: Int64 = try ids.decode(column: "programme_id")
            let applicantID: Int64 = try ids.decode(column: "applicant_id")
            let missing: Int64 = 987_654_321
            // Each statement writes good rows and one bad one, last: the check covers every row of a statement.
            let cases: [(constraint: String, table: String, sql: PGQuery)] = [
                (
                    "application_applicant_id_fkey", "application",
                    """
                    INSERT INTO grants.application (programme_id, round_id, reference, applicant_id, requested, currency, starts_on, ends_on,
                        submitted_by)
                    SELECT \(programmeID), \(roundID), 'X-' || n, CASE WHEN n = 500 THEN \(missing) ELSE \(applicantID) END, 100, 'SEK',
                           '2022-01-01', '2022-12-31', 'anna'
                    FROM generate_series(1, 500) n
                    """
                ),
                (
                    "application_round_id_programme_id_fkey", "application",
                    """
                    INSERT INTO grants.application (programme_id, round_id, reference, applicant_id, requested, currency, starts_on, ends_on,
                        submitted_by)
                    VALUES (\(programmeID), \(roundID), 'X-1', \(applicantID), 100, 'SEK', '2022-01-01', '2022-12-31', 'anna'),
                           (\(programmeID + 1), \(roundID), 'X-2', \(applicantID), 100, 'SEK', '2022-01-01', '2022-12-31', 'anna')
                    """
                ),
                (
                    "application_partner_application_id_fkey", "application_partner",
                    "INSERT INTO grants.application_partner (application_id, organisation_id, position) VALUES (\(missing), \(applicantID), 1)"
                ),
                (
                    "application_partner_organisation_id_fkey", "application_partner",
                    """
                    INSERT INTO grants.application_partner (application_id, organisation_id, position)
                    VALUES (\(applicationID), \(applicantID), 5), (\(applicationID), \(missing), 6)
                    """
                ),
                (
                    "application_theme_application_id_fkey", "application_theme",
                    "INSERT INTO grants.application_theme (application_id, theme_code, position) VALUES (\(missing), 'citizen-dialogue', 1)"
                ),
                (
                    "application_theme_theme_code_fkey", "application_theme",
                    "INSERT INTO grants.application_theme (application_id, theme_code, position) VALUES (\(applicationID), 'no-such-theme', 2)"
                ),
                (
                    "approval_application_id_fkey", "approval",
                    "INSERT INTO grants.approval (application_id, decision, awarded, decided_on, decided_by) VALUES (\(missing), 'approved', 1, '2021-12-01', 'anna')"
                ),
                (
                    "grant_application_id_fkey", "grant",
                    """
                    INSERT INTO grants.grant (application_id, programme_id, round_id, reference, original_amount, amount, currency, starts_on,
                        original_ends_on, ends_on)
                    VALUES (\(missing), \(programmeID), \(roundID), 'G-X', 100, 100, 'SEK', '2022-01-01', '2022-12-31', '2022-12-31')
                    """
                ),
                (
                    "disbursement_grant_id_fkey", "disbursement",
                    """
                    INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by)
                    VALUES (\(grantID), 100, 'SEK', '2022-01-31', 7, 'anna'), (\(missing), 100, 'SEK', '2022-01-31', 1, 'anna')
                    """
                ),
                (
                    "disbursement_reverses_id_fkey", "disbursement",
                    """
                    INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by, status, reverses_id, paid_on,
                        payment_reference)
                    VALUES (\(grantID), -100, 'SEK', '2022-01-31', 1, 'anna', 'reversal', \(missing), '2022-02-01', 'R-1')
                    """
                ),
            ]
            let before = try connection.query(
                "SELECT (SELECT count(*) FROM grants.application) + (SELECT count(*) FROM grants.disbursement) + (SELECT count(*) FROM grants.application_partner) AS n"
            )[0].decode(Int64.self, column: 0)
            for c in cases {
                let error = try refusal(configuration, c.sql)
                #expect(error?.sqlState == .foreignKeyViolation, "\(c.constraint): \(String(describing: error))")
                #expect(error?.constraint == c.constraint)
                #expect(error?.table == c.table)
                #expect(error?.message.contains("violates foreign key constraint \"\(c.constraint)\"") == true)
                #expect(error?.detail?.contains("is not present in table") == true)
            }
            let after = try connection.query(
                "SELECT (SELECT count(*) FROM grants.application) + (SELECT count(*) FROM grants.disbursement) + (SELECT count(*) FROM grants.application_partner) AS n"
            )[0].decode(Int64.self, column: 0)
            #expect(after == before, "nothing of a refused statement is written")
            // COPY is checked as INSERT is.
            do {
                _ = try connection.copyIn("COPY grants.application_theme (application_id, theme_code, position) FROM STDIN") { writer in
                    try writer.write("\(applicationID)\tyouth-participation\t2\n\(missing)\tcitizen-dialogue\t3\n")
                }
                Issue.record("COPY of a row without its application was accepted")
            } catch let error as PGError {
                #expect(error.sqlState == .foreignKeyViolation, "\(error)")
            }
            #expect(try connection.query("\(unsafeRaw: Self.orphans)")[0].decode(Int64.self, column: 0) == 0)
        }
    }

    @Test func parentsAreNeverDeletedAndKeepTheirKeys() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            try await service.disbursements.schedule("A", amount: sek("500"), dueOn: day("2022-01-31"), actor: "anna")
            // Run as the owner: no privilege stands in the way, only the rules.
            let refused: [PGQuery] = [
                "DELETE FROM grants.organisation",
                "DELETE FROM grants.organisation WHERE name = 'Kisumu County'",
                "UPDATE grants.organisation SET id = id + 1000",
                "TRUNCATE grants.organisation CASCADE",
                "DELETE FROM grants.theme",
                "UPDATE grants.theme SET code = 'renamed'",
                "TRUNCATE grants.theme CASCADE",
                "DELETE FROM grants.allocation_round",
                "UPDATE grants.allocation_round SET id = id + 1000",
                "TRUNCATE grants.allocation_round CASCADE",
                "DELETE FROM grants.application",
                "UPDATE grants.application SET id = id + 1000",
                "TRUNCATE grants.application CASCADE",
                "DELETE FROM grants.grant",
                "UPDATE grants.grant SET id = id + 1000",
                "UPDATE grants.grant SET id = DEFAULT",
                "UPDATE grants.application SET id = DEFAULT",
                "UPDATE grants.organisation SET id = DEFAULT",
                "UPDATE grants.allocation_round SET id = DEFAULT",
                "UPDATE grants.disbursement SET id = DEFAULT",
                // Rows keep their parents.
                "UPDATE grants.application SET programme_id = programme_id + 1",
                "UPDATE grants.application_partner SET organisation_id = (SELECT min(id) FROM grants.organisation)",
                "UPDATE grants.application_theme SET theme_code = 'youth-participation'",
                "UPDATE grants.disbursement SET grant_id = grant_id + 1",
            ]
            for sql in refused {
                let error = try refusal(configuration, sql)
                #expect(error != nil, "\(sql) was accepted")
                // A rule's GRxxx; 428C9 where an identity column refuses the new value before any trigger runs.
                #expect(error?.sqlState?.class == "GR" || error?.sqlState?.rawValue == "428C9", "\(sql): \(String(describing: error))")
            }
            let connection = try PGConnection(configuration: configuration)
            #expect(try connection.query("\(unsafeRaw: Self.orphans)")[0].decode(Int64.self, column: 0) == 0)
            #expect(try count(configuration, "grants.organisation") == 2)
            // What does not touch a key still changes as before.
            #expect(try refusal(configuration, "UPDATE grants.theme SET name_en = 'Dialogue with citizens'") == nil)
            #expect(try refusal(configuration, "UPDATE grants.organisation SET kind = kind") == nil)
        }
    }

    /// A parent another transaction has inserted but not committed cannot be referred to; once that transaction
    /// rolls back, nothing refers to what never existed. Meanwhile deleters are refused whatever the timing.
    @Test func concurrentWritersLeaveNoRowWithoutItsParent() async throws {
        try await TestGrants.withService(poolSize: 4) { service, configuration in
            try await seedRound(service, budget: "1 000 000")
            for i in 0..<8 { try await service.applications.submit(application("A-\(i)"), actor: "anna") }
            let connection = try PGConnection(configuration: configuration)
            let applicationID = try connection.query("SELECT min(id) FROM grants.application")[0].decode(Int64.self, column: 0)

            // An organisation inserted and not yet committed, referred to from another session: refused.
            let inserter = try PGConnection(configuration: configuration)
            try inserter.execute("BEGIN")
            let pending = try inserter.query(
                "INSERT INTO grants.organisation (name, country, kind) VALUES ('Zomba City Council', 'MW', 'municipality') RETURNING id"
            )[0].decode(Int64.self, column: 0)
            let early = try refusal(
                configuration,
                "INSERT INTO grants.application_partner (application_id, organisation_id, position) VALUES (\(applicationID), \(pending), 9)"
            )
            #expect(early?.sqlState == .foreignKeyViolation)
            try inserter.execute("ROLLBACK")

            // Approvals, tranches and partner links written while other sessions try to delete or re-key what they
            // refer to: every delete is refused, every write lands whole, nothing is left without its parent.
            let outcomes = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        try await service.approvals.approve("A-\(i)", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
                        try await service.disbursements.schedule("A-\(i)", amount: sek("500"), dueOn: day("2022-01-31"), actor: "anna")
                        return 0
                    }
                    group.addTask {
                        try await Blocking.run {
                            let hostile = try PGConnection(configuration: configuration)
                            var refusals = 0
                            for sql: PGQuery in [
                                "DELETE FROM grants.organisation WHERE name = 'Kisumu County'",
                                "UPDATE grants.application SET id = id + 100000 WHERE reference = \("A-\(i)")",
                                "DELETE FROM grants.allocation_round",
                                "UPDATE grants.grant SET id = id + 100000",
                            ] {
                                do { try hostile.execute(sql) } catch is PGError { refusals += 1 }
                            }
                            return refusals
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(outcomes.reduce(0, +) == 8 * 4, "every hostile statement refused")
            #expect(try count(configuration, "grants.grant") == 8)
            #expect(try count(configuration, "grants.disbursement") == 8)
            #expect(try connection.query("\(unsafeRaw: Self.orphans)")[0].decode(Int64.self, column: 0) == 0)
        }
    }
}
