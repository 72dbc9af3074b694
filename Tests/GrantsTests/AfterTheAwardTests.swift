import Foundation
import PGClient
import TestSupport
import Testing

@testable import Grants

/// DESIGN §10: reporting requirements that hold tranches back, settlement and repayments, closing, partnerships
/// and contacts; each rule the same error from the library's check and from the database's.
@Suite("After the award")
struct AfterTheAwardTests {
    /// What the database says to a raw statement run as `user` (the superuser when nil), in the library's terms.
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

    /// One approved grant `reference` of `amount` with two tranches of half each, numbered 1 and 2.
    func grantWithTwoTranches(_ service: GrantsService, _ reference: String = "A", amount: String = "1 000") async throws
        -> (Disbursement, Disbursement)
    {
        try await service.applications.submit(application(reference, amount: amount), actor: "anna")
        try await service.approvals.approve(reference, amount: sek(amount), decidedOn: day("2021-12-01"), actor: "anna")
        let half = Money(minorUnits: sek(amount).minorUnits / 2, currency: .sek)
        let first = try await service.disbursements.schedule(reference, amount: half, dueOn: day("2022-01-31"), actor: "anna")
        let second = try await service.disbursements.schedule(reference, amount: half, dueOn: day("2023-01-31"), actor: "anna")
        return (first, second)
    }

    @Test func tranchesAreNumberedAndACancelledNumberIsFreeAgain() async throws {
        try await TestGrants.withService { service, _ in
            try await seedRound(service)
            let (first, second) = try await grantWithTwoTranches(service)
            #expect(first.tranche == 1 && second.tranche == 2)
            let taken = await libraryError {
                try await service.disbursements.schedule("A", amount: sek("1"), dueOn: day("2023-02-01"), tranche: 2, actor: "anna")
            }
            guard taken?.code == .conflict, taken?.key == "A" else {
                Issue.record("got \(String(describing: taken))")
                return
            }
            try await service.disbursements.cancel(second.id, on: .today, reason: "Re-planned", actor: "anna")
            let again = try await service.disbursements.schedule(
                "A", amount: sek("400"), dueOn: day("2023-03-01"), tranche: 2, actor: "anna")
            #expect(again.tranche == 2)
            let next = try await service.disbursements.schedule("A", amount: sek("100"), dueOn: day("2023-06-01"), actor: "anna")
            #expect(next.tranche == 3)
        }
    }

    /// A tranche held by an unapproved report is refused at attest and at pay, by the library and by raw SQL as
    /// staff alike, and released by approval or waiver.
    @Test func aHeldTrancheIsRefusedUntilItsReportIsApprovedOrWaived() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (first, second) = try await grantWithTwoTranches(service)
            let interim = try await service.requirements.add("A", kind: .interim, dueOn: day("2022-12-31"), beforeTranche: 2, actor: "anna")
            // Adding the same requirement again is a retry.
            #expect(
                try await service.requirements.add("A", kind: .interim, dueOn: day("2022-12-31"), beforeTranche: 2, actor: "anna")
                    == interim)
            try await service.disbursements.attest(first.id, actor: "bertil")  // tranche 1 is not held

            let held = GrantsError.heldBack(tranche: 2, grant: "A", requirement: interim.id)
            #expect(await libraryError { try await service.disbursements.attest(second.id, actor: "bertil") } == held)
            let attestSQL: PGQuery =
                "UPDATE grants.disbursement SET status = 'attested', attested_by = 'test_staff', attested_at = now() WHERE id = \(second.id)"
            #expect(try databaseError(configuration, attestSQL) == held)
            #expect(held.category == .rule)

            try await service.requirements.receive(interim.id, on: day("2022-12-20"), actor: "anna")
            #expect(
                await libraryError { try await service.disbursements.attest(second.id, actor: "bertil") } == held, "received is not enough")
            try await service.requirements.returnForChanges(interim.id, reason: "Budget section missing", actor: "anna")
            try await service.requirements.receive(interim.id, on: day("2023-01-10"), actor: "anna")
            let approved = try await service.requirements.approve(interim.id, on: day("2023-01-12"), actor: "anna")
            #expect(approved.status == .approved)
            try await service.disbursements.attest(second.id, actor: "bertil")

            // A hold added after attesting stops the payment.
            let later = try await service.requirements.add("A", kind: .interim, dueOn: day("2023-01-20"), beforeTranche: 2, actor: "anna")
            let heldAtPay = GrantsError.heldBack(tranche: 2, grant: "A", requirement: later.id)
            #expect(
                await libraryError {
                    try await service.disbursements.pay(second.id, paidOn: day("2023-02-01"), paymentReference: "P-2", actor: "bertil")
                } == heldAtPay)
            let paySQL: PGQuery = """
                UPDATE grants.disbursement SET status = 'paid', paid_on = '2023-02-01', payment_reference = 'P-2', paid_by = 'test_staff'
                WHERE id = \(second.id)
                """
            #expect(try databaseError(configuration, paySQL) == heldAtPay)
            try await service.requirements.waive(later.id, reason: "Covered by the site visit", actor: "anna")
            let paid = try await service.disbursements.pay(second.id, paidOn: day("2023-02-01"), paymentReference: "P-2", actor: "bertil")
            #expect(paid.status == .paid)

            // Approved and waived are final, here and in the database.
            let final = await libraryError { try await service.requirements.returnForChanges(later.id, reason: "x", actor: "anna") }
            #expect(final == .invalidTransition(entity: "requirement", key: String(later.id), from: "waived", to: "returned"))
            let raw = try databaseError(
                configuration,
                "UPDATE grants.reporting_requirement SET status = 'returned', reason = 'x' WHERE id = \(later.id)")
            #expect(raw == final)
            let overdue = try await service.requirements.list(RequirementFilter(overdueAsOf: day("2030-01-01")))
            #expect(overdue.isEmpty)
        }
    }

    @Test func settleIsRetrySafeAndADifferentSettleIsAConflict() async throws {
        try await TestGrants.withService { service, _ in
            try await seedRound(service)
            let (first, second) = try await grantWithTwoTranches(service)
            let pending = await libraryError {
                try await service.grants.settle("A", spent: sek("100"), on: day("2024-01-15"), actor: "anna")
            }
            guard pending?.code == .invalidTransition, pending?.key == "A", pending?[.to] == "settled" else {
                Issue.record("got \(String(describing: pending))")
                return
            }
            try await service.disbursements.attest(first.id, actor: "bertil")
            try await service.disbursements.pay(first.id, paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
            try await service.disbursements.cancel(second.id, on: .today, reason: "Project ended early", actor: "anna")
            let settlement = try await service.grants.settle("A", spent: sek("320"), on: day("2024-01-15"), actor: "anna")
            #expect(settlement.paid == sek("500") && settlement.claimed == sek("180") && settlement.open == sek("180"))
            #expect(try await service.grants.settle("A", spent: sek("320"), on: day("2024-01-15"), actor: "anna") == settlement)
            let other = await libraryError { try await service.grants.settle("A", spent: sek("300"), on: day("2024-01-16"), actor: "anna") }
            #expect(
                other
                    == .conflict(
                        entity: "settlement", key: "A",
                        differences: [
                            Difference("spent", recorded: sek("320").swedish, given: sek("300").swedish),
                            Difference("settled_on", recorded: "2024-01-15", given: "2024-01-16"),
                        ]))
            // The settled grant takes no new tranche, from the library or the database.
            let late = await libraryError {
                try await service.disbursements.schedule("A", amount: sek("1"), dueOn: day("2023-06-01"), actor: "anna")
            }
            #expect(late == .invalidTransition(entity: "grant", key: "A", from: "settled", to: "scheduled"))
            #expect(try await service.grants.get("A").settlement == settlement)
            #expect(try await service.audit.list(entity: "grant").filter { $0.action == "grant.settled" }.count == 1)
        }
    }

    /// Sixteen receivers race on one claim of 400: exactly what fits is booked, never more.
    @Test func concurrentRepaymentsNeverExceedTheClaim() async throws {
        try await TestGrants.withService(poolSize: 16) { service, configuration in
            try await seedRound(service)
            let (first, second) = try await grantWithTwoTranches(service)
            for d in [first, second] {
                try await service.disbursements.attest(d.id, actor: "bertil")
                try await service.disbursements.pay(d.id, paidOn: day("2022-02-01"), paymentReference: "P-\(d.id)", actor: "bertil")
            }
            try await service.grants.settle("A", spent: sek("600"), on: day("2024-01-15"), actor: "anna")
            let outcomes = await withTaskGroup(of: GrantsError?.self) { group in
                for i in 0..<16 {
                    group.addTask {
                        await libraryError {
                            try await service.repayments.receive(
                                "A", amount: sek("50"), on: day("2024-02-01"), paymentReference: "R-\(i)", actor: "cecilia")
                        }
                    }
                }
                var all: [GrantsError?] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.filter { $0 == nil }.count == 8)
            for refusal in outcomes.compactMap({ $0 }) {
                #expect(refusal == .repaymentExceedsClaim(grant: "A", excess: sek("50")))
            }
            let claim = try #require(try await service.repayments.claims().first)
            #expect(claim.settlement.repaid == sek("400") && claim.settlement.open.minorUnits == 0)
            #expect(claim.repayments.count == 8)
            // The same rule from raw SQL, as the owner: the trigger behind the API (staff write no table).
            let raw = try databaseError(
                configuration,
                """
                INSERT INTO grants.repayment (grant_id, amount, currency, received_on, payment_reference, received_by)
                SELECT id, 1, 'SEK', '2024-02-02', 'R-raw', 'test_staff' FROM grants.grant WHERE reference = 'A'
                """)
            #expect(raw == .repaymentExceedsClaim(grant: "A", excess: sek("0,01")))
            // Repayments never change: staff may not even try, and the trigger holds the owner too.
            let staff = try databaseError(configuration, user: "test_staff", "UPDATE grants.repayment SET amount = 1")
            if staff?.code == .notPermitted {} else { Issue.record("got \(String(describing: staff))") }
            let owner = try databaseError(configuration, "DELETE FROM grants.repayment")
            if owner?.code == .appendOnly, owner?.entity == "repayment" {} else { Issue.record("got \(String(describing: owner))") }
            let report = try await service.reports.round("R1")
            #expect(report.repaid == sek("400") && report.claimedOpen.minorUnits == 0)
            #expect(report.disbursed == sek("600"), "paid net of repayments")
        }
    }

    @Test func closeNeedsTheFinalReportAndNoOpenClaimUnlessWrittenOff() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (first, second) = try await grantWithTwoTranches(service)
            let final = try await service.requirements.add("A", kind: .final, dueOn: day("2024-03-31"), actor: "anna")
            for d in [first, second] {
                try await service.disbursements.attest(d.id, actor: "bertil")
                try await service.disbursements.pay(d.id, paidOn: day("2022-02-01"), paymentReference: "P-\(d.id)", actor: "bertil")
            }
            let closeSQL: PGQuery =
                "UPDATE grants.grant SET status = 'closed', closed_on = '2024-05-01', closed_by = 'test_staff', reclaimed = 0 WHERE reference = 'A'"
            let pending = GrantsError.reportPending(grant: "A", requirement: final.id)
            #expect(await libraryError { try await service.grants.close("A", on: .today, actor: "anna") } == pending)
            #expect(try databaseError(configuration, closeSQL) == pending)
            try await service.requirements.receive(final.id, on: day("2024-03-30"), actor: "anna")
            try await service.requirements.approve(final.id, on: day("2024-04-10"), actor: "anna")

            try await service.grants.settle("A", spent: sek("900"), on: day("2024-04-15"), actor: "anna")
            try await service.repayments.receive("A", amount: sek("60"), on: day("2024-04-20"), paymentReference: "R-1", actor: "bertil")
            let open = GrantsError.claimOpen(grant: "A", open: sek("40"))
            #expect(await libraryError { try await service.grants.close("A", on: .today, actor: "anna") } == open)
            #expect(try databaseError(configuration, closeSQL) == open)
            let closed = try await service.grants.close("A", on: .today, writeOff: "The municipality's project account is closed", actor: "anna")
            #expect(closed.status == .closed && closed.reclaimed == Money.zero(.sek))
            let settlement = try #require(try await service.grants.settlement("A"))
            #expect(settlement.writtenOff == sek("40") && settlement.open.minorUnits == 0)
            #expect(settlement.writeOffReason == "The municipality's project account is closed")
            // Closing leaves the round's awarded total as decided.
            #expect(try await service.rounds.get("R1").awarded == sek("1 000"))
            let report = try await service.reports.round("R1")
            #expect(report.repaid == sek("60") && report.claimedOpen.minorUnits == 0 && report.disbursed == sek("940"))
        }
    }

    @Test func continuesWithAnotherApplicantIsRefused() async throws {
        try await TestGrants.withService { service, configuration in
            var earlier = sampleManifest(round: "2020:1", budget: "2 000 000", count: 2, prefix: "E")
            earlier.grants[0].phase = .inception
            try await service.rounds.record(earlier, actor: "anna")
            var later = sampleManifest(round: "2021:2", count: 2, prefix: "L")
            later.grants[0].continues = "E-1"
            later.grants[1].continues = "E-1"  // E-1 went to Kommun 1; L-2's applicant is Kommun 2
            let refused = await libraryError { try await service.rounds.record(later, actor: "anna") }
            guard let problems = invalidProblems(refused) else {
                Issue.record("got \(String(describing: refused))")
                return
            }
            #expect(problems.map(\.location) == ["grants[1].continues"])
            later.grants[1].continues = "E-2"
            try await service.rounds.record(later, actor: "anna")
            #expect(try await service.rounds.record(later, actor: "anna").changed == false, "the same manifest again changes nothing")
            let chain = try await service.partnerships.show("E-1")
            #expect(chain.grants.map(\.reference) == ["E-1", "L-1"])
            #expect(chain.grants.map(\.continues) == [nil, "E-1"])
            #expect(chain.awarded == sek("1 000 000"))

            // One application at a time: the place is `continues`.
            try await service.rounds.create(
                NewRound(programme: "Kommunala partnerskap", name: "2022:1", budget: sek("1 000 000")), actor: "anna")
            var new = NewApplication(
                round: "2022:1", reference: "N-1", applicant: "Kommun 2", partners: ["Partner County 2"], themes: [dialogue.code],
                requested: sek("1 000"), startsOn: day("2023-01-01"), endsOn: day("2023-12-31"), continues: "L-1")
            let submit = await libraryError { try await service.applications.submit(new, actor: "anna") }
            guard let submitProblems = invalidProblems(submit) else {
                Issue.record("got \(String(describing: submit))")
                return
            }
            #expect(submitProblems.map(\.location) == ["continues"])
            // The database refuses the same link from raw SQL.
            let raw = try databaseError(
                configuration,
                """
                INSERT INTO grants.application (programme_id, round_id, reference, applicant_id, requested, currency, starts_on, ends_on,
                    submitted_by, continues_grant_id)
                SELECT r.programme_id, r.id, 'N-raw', (SELECT id FROM grants.organisation WHERE name = 'Kommun 2'), 100, 'SEK',
                       '2023-01-01', '2023-12-31', 'test_staff', (SELECT id FROM grants.grant WHERE reference = 'L-1')
                FROM grants.allocation_round r WHERE r.name = '2022:1'
                """)
            guard let rawProblems = invalidProblems(raw) else {
                Issue.record("got \(String(describing: raw))")
                return
            }
            #expect(rawProblems.map(\.location) == ["continues"])
            new.continues = "L-2"
            let submitted = try await service.applications.submit(new, actor: "anna")
            #expect(submitted.continues == "L-2")
        }
    }

    @Test func csvExportShowsARepaymentAndStillReconciles() async throws {
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            // KP-1: 250 000 paid, the other tranche cancelled; settled with 200 000 spent, 30 000 repaid.
            try await service.grants.settle("KP-1", spent: sek("200 000"), on: day("2023-02-01"), actor: "anna")
            let entry = try await service.repayments.receive(
                "KP-1", amount: sek("30 000"), on: day("2023-03-01"), paymentReference: "BG 2023-77", actor: "bertil")
            let csv = String(decoding: try await export(service, .csv), as: UTF8.self)
            let lines = csv.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }
            let repayment = try #require(lines.first { $0.contains(",repayment,") })
            #expect(repayment.hasPrefix("\(entry.id),Kommunala partnerskap,2021:2,KP-1,Växjö kommun,212000-0662,"))
            #expect(repayment.hasSuffix(",2023-03-01,2023-03-01,repayment,-30000.00,SEK,BG 2023-77"), "\(repayment)")
            let ids = lines.compactMap { Int64($0.prefix { $0 != "," }) }
            #expect(Set(ids).count == ids.count, "one id space")
            var net: Int64 = 0
            for line in lines {
                let cells = line.components(separatedBy: ",")
                if ["paid", "reversal", "repayment"].contains(cells[cells.count - 4]) {
                    net += try AmountParser.signed(cells[cells.count - 3])
                }
            }
            let report = try await service.reports.round("2021:2")
            #expect(net == report.disbursed.minorUnits)
            #expect(report.repaid == sek("30 000") && report.claimedOpen == sek("20 000"))
            let json = try await export(service, .json, filter: ReportFilter(status: .repayment))
            let rows = try #require(try JSONSerialization.jsonObject(with: json) as? [[String: Any]])
            #expect(rows.count == 1 && rows[0]["amount"] as? String == "-30000.00" && rows[0]["status"] as? String == "repayment")
        }
    }

    /// After erasure, a dump of the whole database holds none of the person's values.
    @Test func anErasedContactLeavesNothingInADump() async throws {
        try await TestGrants.withService(direct: true) { service, configuration in
            try await seedRound(service)
            let name = "Zlatana Qvarnström-\(UUID().uuidString.prefix(6))"
            let email = "zq.\(UUID().uuidString.prefix(6).lowercased())@example.se"
            let phone = "+46 70 \(Int.random(in: 100_000...999_999))"
            let contact = try await service.contacts.add(
                NewContact(organisation: "212000-0662", name: name, email: email, phone: phone, role: "Project lead"), actor: "anna")
            #expect(
                try await service.contacts.add(
                    NewContact(organisation: "212000-0662", name: name, email: email, phone: phone, role: "Project lead"), actor: "anna")
                    == contact)
            var query: [String] = []
            for key in ["host", "port", "user"] { if let value = configuration[key] { query.append("\(key)=\(value)") } }
            let url = "postgresql:///\(configuration["dbname"] ?? "postgres")?" + query.joined(separator: "&")
            let before = try runTool(["pg_dump", "--no-owner", url])
            #expect(before.status == 0, "\(before.output.prefix(300))")
            #expect(before.output.contains(name) && before.output.contains(email) && before.output.contains(phone))

            let erased = try await service.contacts.erase(contact.id, reason: "Left the municipality; asked to be erased", actor: "anna")
            #expect(erased.erased && erased.name == nil && erased.email == nil && erased.phone == nil && erased.role == "Project lead")
            #expect(try await service.contacts.erase(contact.id, reason: "again", actor: "anna") == erased)
            let after = try runTool(["pg_dump", "--no-owner", url])
            #expect(after.status == 0)
            for value in [name, email, phone] { #expect(!after.output.contains(value), "\(value) is still in the dump") }
            #expect(try await service.contacts.list(organisation: "Växjö kommun").map(\.id) == [contact.id], "the tombstone stays")
            let audit = try await service.audit.list(entity: "contact")
            #expect(audit.map(\.action) == ["contact.added", "contact.erased"])
            // A tombstone never changes.
            let raw = try databaseError(configuration, "UPDATE grants.contact SET name = 'x' WHERE id = \(contact.id)")
            #expect(raw == .appendOnly(entity: "contact", key: String(contact.id)))
        }
    }
}
