import Foundation
import PGClient
import TestSupport
import Testing

@testable import Grants

/// Closed periods (Schema/rules/periods.sql, Schema/api/periods.sql) and the business dates of amendments,
/// cancellations and closings: a closed period takes no event dated inside it through the library, the API or a
/// raw write of any login, the owner's included; only finance closes and reopens; a close and a payment racing it
/// never leave a payment inside the closed period.
@Suite("Closed periods")
struct PeriodTests {
    static let programme = "Kommunala partnerskap"

    /// The error a raw statement fails with.
    func sqlError(_ configuration: PGConfiguration, _ query: PGQuery) throws -> PGError {
        do {
            try PGConnection(configuration: configuration).execute(query)
        } catch let error as PGError {
            return error
        }
        throw PGError(kind: .decoding, message: "no error")
    }

    /// `body` with a service on the finance login `test_finance` (a person's own login: it acts as itself).
    func asFinance<T>(_ configuration: PGConfiguration, _ body: (GrantsService) async throws -> T) async throws -> T {
        var finance = configuration
        finance["user"] = "test_finance"
        let service = GrantsService(configuration: GrantsConfiguration(database: finance, poolSize: 2))
        do {
            let result = try await body(service)
            await service.close()
            return result
        } catch {
            await service.close()
            throw error
        }
    }

    /// Today in UTC: the day a refusal says a period was closed on (its closed_at, a moment, as a UTC day).
    static var utcToday: CalendarDate {
        day(String(ISO8601DateFormatter().string(from: Date()).prefix(10)))
    }

    /// The refusal of an event dated `on` inside the period `period`, closed by test_finance today.
    func closed(_ event: String, _ on: String, period: String = "2022", firstOpen: String = "2023-01-01") -> GrantsError {
        .periodClosed(
            programme: Self.programme, period: period, event: event, on: day(on), closedBy: "test_finance",
            closedOn: Self.utcToday, firstOpen: day(firstOpen))
    }

    /// Grant `reference` decided on 2021-12-01 with two tranches of half, both attested, the first paid on
    /// 2022-02-01.
    func grant(_ service: GrantsService, _ reference: String, amount: String = "1 000") async throws -> (Disbursement, Disbursement) {
        try await service.applications.submit(application(reference, amount: amount), actor: "anna")
        try await service.approvals.approve(reference, amount: sek(amount), decidedOn: day("2021-12-01"), actor: "anna")
        let half = Money(minorUnits: sek(amount).minorUnits / 2, currency: .sek)
        let first = try await service.disbursements.schedule(reference, amount: half, dueOn: day("2022-01-31"), actor: "anna")
        let second = try await service.disbursements.schedule(reference, amount: half, dueOn: day("2023-01-31"), actor: "anna")
        try await service.disbursements.attest(first.id, actor: "bertil")
        try await service.disbursements.attest(second.id, actor: "bertil")
        let paid = try await service.disbursements.pay(
            first.id, paidOn: day("2022-02-01"), paymentReference: "P-\(reference)", actor: "bertil")
        return (paid, second)
    }

    /// Every kind of event dated inside a closed year is refused through the library, naming the period, who
    /// closed it and the first open day; the same event dated in the first open period goes through, and a late
    /// correction names what it corrects.
    @Test func aClosedYearRefusesEveryEventDatedInsideIt() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (first, second) = try await grant(service, "A")
            try await service.applications.submit(application("B"), actor: "anna")
            let period = try await asFinance(configuration) { try await $0.periods.close("2022", actor: "test_finance") }
            #expect(period.status == .closed && period.startsOn == day("2022-01-01") && period.endsOn == day("2022-12-31"))

            let decision = await libraryError {
                try await service.approvals.approve("B", amount: sek("1 000"), decidedOn: day("2022-06-01"), actor: "anna")
            }
            #expect(decision == closed("decision", "2022-06-01"))
            let payment = await libraryError {
                try await service.disbursements.pay(second.id, paidOn: day("2022-12-30"), paymentReference: "P-2", actor: "bertil")
            }
            #expect(payment == closed("payment", "2022-12-30"))
            #expect(
                payment?.description
                    == "payment dated 2022-12-30 is in period 2022 of Kommunala partnerskap, closed by test_finance on "
                    + "\(Self.utcToday): date it in the first open period (2023-01-01 or later) and name the event it corrects")
            let reversal = await libraryError {
                try await service.disbursements.reverse(first.id, on: day("2022-03-01"), reason: "Wrong account", actor: "bertil")
            }
            #expect(reversal == closed("reversal", "2022-03-01"))
            let amendment = await libraryError {
                try await service.grants.amend("A", newEndsOn: day("2024-03-31"), reason: "Later", on: day("2022-05-01"), actor: "anna")
            }
            #expect(amendment == closed("amendment", "2022-05-01"))
            let cancellation = await libraryError {
                try await service.disbursements.cancel(second.id, on: day("2022-12-31"), reason: "Ended", actor: "anna")
            }
            #expect(cancellation == closed("cancellation", "2022-12-31"))

            // Dated in the first open period, they go through; a correction names the event it corrects.
            let cancelled = try await service.disbursements.cancel(second.id, on: day("2023-01-05"), reason: "Ended", actor: "anna")
            #expect(cancelled.cancelledOn == day("2023-01-05"))
            let corrected = try await service.grants.amend(
                "A", amountChange: sek("100").negated, reason: "Award recorded 100 kr too high", on: day("2023-01-05"),
                corrects: .decision, actor: "anna")
            #expect(corrected.amount == sek("900"))
            let detail = try await service.grants.get("A")
            #expect(detail.amendments.map(\.amendedOn) == [day("2023-01-05")])
            #expect(detail.amendments.map(\.corrects) == [.decision])
            let again = try await service.grants.amend(
                "A", newEndsOn: day("2024-06-30"), reason: "Corrects the last amendment", on: day("2023-01-06"),
                corrects: .amendment(detail.amendments[0].id), actor: "anna")
            #expect(again.endsOn == day("2024-06-30"))
            #expect(try await service.grants.get("A").amendments.last?.corrects == .amendment(detail.amendments[0].id))
            let elsewhere = await libraryError {
                try await service.grants.amend(
                    "A", newEndsOn: day("2024-07-31"), reason: "r", on: day("2023-01-06"), corrects: .amendment(999_999), actor: "anna")
            }
            #expect(elsewhere == .invalidInput([Problem("corrects", "amendment 999999 is not an amendment of grant A")]))

            // Settlement, repayment and closing with a write-off.
            let settlement = await libraryError {
                try await service.grants.settle("A", spent: sek("300"), on: day("2022-12-15"), actor: "anna")
            }
            #expect(settlement == closed("settlement", "2022-12-15"))
            #expect(try await service.grants.settle("A", spent: sek("300"), on: day("2023-02-01"), actor: "anna").claimed == sek("200"))
            let repayment = await libraryError {
                try await service.repayments.receive(
                    "A", amount: sek("100"), on: day("2022-12-20"), paymentReference: "R-1", actor: "bertil")
            }
            #expect(repayment == closed("repayment", "2022-12-20"))
            try await service.repayments.receive("A", amount: sek("100"), on: day("2023-02-10"), paymentReference: "R-1", actor: "bertil")
            let closing = await libraryError {
                try await service.grants.close("A", on: day("2022-12-31"), writeOff: "Not worth collecting", actor: "anna")
            }
            #expect(closing == closed("closing", "2022-12-31"))
            let done = try await service.grants.close("A", on: day("2023-03-01"), writeOff: "Not worth collecting", actor: "anna")
            #expect(done.closedOn == day("2023-03-01"))
            let decided = try await service.approvals.approve("B", amount: sek("1 000"), decidedOn: day("2023-01-10"), actor: "anna")
            #expect(decided.decidedOn == day("2023-01-10"))
        }
    }

    /// A round's record decides its grants in one statement: one decided inside a closed period refuses the whole
    /// record, nothing written.
    @Test func aRoundRecordedWithADecisionInsideAClosedPeriodIsRefused() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            _ = try await asFinance(configuration) { try await $0.periods.close("2021", actor: "test_finance") }
            let refused = await libraryError { try await service.rounds.record(sampleManifest(round: "R2"), actor: "anna") }
            #expect(refused == closed("decision", "2021-12-01", period: "2021", firstOpen: "2022-01-01"))
            #expect(try count(configuration, "grants.approval") == 0)
        }
    }

    /// A closed month: the days around it are open; a closed year and its next month push the first open day on.
    /// A month inside a closed year is reopened with the year, not alone.
    @Test func monthsAndYearsAndTheFirstOpenDay() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (_, second) = try await grant(service, "A")
            try await asFinance(configuration) { finance in
                try await finance.periods.close("2022-03", actor: "test_finance")
                let march = await libraryError {
                    try await service.disbursements.pay(second.id, paidOn: day("2022-03-31"), paymentReference: "P", actor: "bertil")
                }
                #expect(march == closed("payment", "2022-03-31", period: "2022-03", firstOpen: "2022-04-01"))
                try await finance.periods.close("2022", programme: Self.programme, actor: "test_finance")
                try await finance.periods.close("2023-01", actor: "test_finance")
                let year = await libraryError {
                    try await service.disbursements.pay(second.id, paidOn: day("2022-03-31"), paymentReference: "P", actor: "bertil")
                }
                #expect(year == closed("payment", "2022-03-31", firstOpen: "2023-02-01"))
                let inside = await libraryError { try await finance.periods.open("2022-03", reason: "r", actor: "test_finance") }
                #expect(
                    inside
                        == .invalidTransition(entity: "period", key: "2022-03", from: "closed (inside the closed period 2022)", to: "open"))
                let never = await libraryError { try await finance.periods.open("2021", reason: "r", actor: "test_finance") }
                #expect(never == .invalidTransition(entity: "period", key: "2021", from: "open", to: "open"))
                let future = await libraryError { try await finance.periods.close("9999", actor: "test_finance") }
                #expect(future == .invalidInput([Problem("period", "9999 has not begun (today is \(CalendarDate.today))")]))
                #expect(await libraryError { try await finance.periods.close("2022-13", actor: "test_finance") } != nil)
                #expect(try await finance.periods.list().map(\.period) == ["2022", "2022-03", "2023-01"])
            }
            let paid = try await service.disbursements.pay(second.id, paidOn: day("2023-02-01"), paymentReference: "P", actor: "bertil")
            #expect(paid.paidOn == day("2023-02-01"))
        }
    }

    /// Reopening is an audited act with a reason; an event dated inside then goes through, and closing again is
    /// allowed and audited, the period keeping who reopened it and why.
    @Test func reopenPayAndCloseAgainIsAudited() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (_, second) = try await grant(service, "A")
            try await asFinance(configuration) { finance in
                try await finance.periods.close("2022", actor: "test_finance")
                let refused = await libraryError {
                    try await service.disbursements.pay(second.id, paidOn: day("2022-12-30"), paymentReference: "P-2", actor: "bertil")
                }
                #expect(refused == closed("payment", "2022-12-30"))
                let noReason = await libraryError { try await finance.periods.open("2022", reason: " ", actor: "test_finance") }
                #expect(noReason == .invalidInput([Problem("reason", "must not be empty")]))
                let opened = try await finance.periods.open(
                    "2022", reason: "The bank booked the 2022-12-30 payment late", actor: "test_finance")
                #expect(opened.status == .open && opened.reopenedBy == "test_finance")
                let paid = try await service.disbursements.pay(
                    second.id, paidOn: day("2022-12-30"), paymentReference: "P-2", actor: "bertil")
                #expect(paid.status == .paid)
                let reclosed = try await finance.periods.close("2022", actor: "test_finance")
                #expect(reclosed.status == .closed && reclosed.reopenReason == "The bank booked the 2022-12-30 payment late")
                let late = await libraryError {
                    try await service.grants.amend("A", newEndsOn: day("2024-01-31"), reason: "r", on: day("2022-12-30"), actor: "anna")
                }
                #expect(late == closed("amendment", "2022-12-30"))
            }
            let events = try await service.audit.list(entity: "period")
            #expect(events.map(\.action) == ["period.closed", "period.opened", "period.closed"])
            #expect(events.allSatisfy { $0.actor == "test_finance" })
            #expect(events[1].details.contains("The bank booked the 2022-12-30 payment late"))
            #expect(events[0].details.contains(#""events": 1"#), "the payment of 2022-02-01: \(events[0].details)")
            #expect(events[2].details.contains(#""events": 2"#), "and the one let in while it was open: \(events[2].details)")
        }
    }

    /// Only finance (and the owner) closes and reopens: staff and a service login get no EXECUTE; every role
    /// reads the list; nobody but the owner writes the table; staff through the API and the owner by hand are
    /// refused an event dated inside a closed period, and finance pays nothing at all.
    @Test func theBoundaryHoldsForEveryLogin() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (_, second) = try await grant(service, "A")
            for user in ["test_staff", "test_service"] {
                #expect(try sqlState(configuration, user: user, "SELECT * FROM grants_api.close_period(NULL, '2022', 'anna')") == "42501")
                #expect(
                    try sqlState(configuration, user: user, "SELECT * FROM grants_api.open_period(NULL, '2022', 'r', 'anna')") == "42501")
                #expect(try sqlState(configuration, user: user, "SELECT * FROM grants_api.periods(NULL)") == nil)
            }
            var staff = configuration
            staff["user"] = "test_staff"
            let staffService = GrantsService(configuration: GrantsConfiguration(database: staff, poolSize: 1))
            let refused = await libraryError { try await staffService.periods.close("2022", actor: "test_staff") }
            await staffService.close()
            guard refused?.code == .notPermitted else {
                Issue.record("staff closed a period: \(String(describing: refused))")
                return
            }
            #expect(try sqlState(configuration, user: "test_finance", "SELECT * FROM grants_api.close_period(NULL, '2022')") == nil)
            #expect(try sqlState(configuration, user: "test_finance", "SELECT * FROM grants_api.periods(\(Self.programme))") == nil)
            for user in ["test_staff", "test_finance", "test_service"] {
                #expect(try sqlState(configuration, user: user, "UPDATE grants.book_period SET status = 'open'") == "42501", "\(user)")
                let insert: PGQuery = """
                    INSERT INTO grants.grant_amendment (grant_id, amount_change, reason, amended_by, amended_on)
                    SELECT id, -1, 'r', 'anna', '2022-05-01' FROM grants.grant
                    """
                #expect(try sqlState(configuration, user: user, insert) == "42501", "\(user)")
            }
            #expect(
                try sqlState(configuration, user: "test_finance", "SELECT * FROM grants_api.pay(\(second.id), '2022-06-01', 'P')")
                    == "42501")
            #expect(
                try sqlState(configuration, user: "test_staff2", "SELECT * FROM grants_api.pay(\(second.id), '2022-06-01', 'P')")
                    == "GR120")
            #expect(
                try sqlState(configuration, user: "test_staff", "SELECT * FROM grants_api.cancel(\(second.id), '2022-06-01', 'r')")
                    == "GR120")
            #expect(
                try sqlState(
                    configuration, user: "test_staff",
                    "SELECT * FROM grants_api.amend('A', NULL, NULL, NULL, '2024-06-30', 'r', '2022-06-01', NULL, NULL)")
                    == "GR120")
            let owner: [PGQuery] = [
                """
                UPDATE grants.disbursement SET status = 'paid', paid_on = '2022-06-01', payment_reference = 'P', paid_by = 'bertil'
                 WHERE id = \(second.id)
                """,
                """
                UPDATE grants.disbursement SET status = 'cancelled', cancelled_on = '2022-06-01', cancelled_by = 'anna', reason = 'r'
                 WHERE id = \(second.id)
                """,
                """
                INSERT INTO grants.grant_amendment (grant_id, new_ends_on, reason, amended_by, amended_on)
                SELECT id, '2024-06-30', 'r', 'anna', '2022-05-01' FROM grants.grant
                """,
                """
                INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, status, reverses_id, scheduled_by,
                                                 paid_on, payment_reference, paid_by, reason)
                SELECT grant_id, -amount, currency, '2022-03-01', tranche, 'reversal', id, 'bertil', '2022-03-01',
                       payment_reference, 'bertil', 'r'
                  FROM grants.disbursement WHERE status = 'paid'
                """,
            ]
            for query in owner {
                #expect(try sqlState(configuration, query) == "GR120", "\(query)")
            }
            #expect(try await service.disbursements.get(second.id).status == .attested)
            // A period is never deleted: it is reopened.
            #expect(try sqlState(configuration, "DELETE FROM grants.book_period") == "GR001")
            #expect(try sqlState(configuration, "TRUNCATE grants.book_period") == "GR001")
        }
    }

    /// The business date is required by the API (NULL refused) and by the table for new rows; it is checked like
    /// other dates (not in the future, not before the decision); a row recorded before business dates were kept
    /// still reads, as its recording day.
    @Test func businessDatesAreRequiredCheckedAndOldRowsStillRead() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (_, second) = try await grant(service, "A")
            let calls: [PGQuery] = [
                "SELECT * FROM grants_api.amend('A', NULL, -100, 'SEK', NULL, 'r', NULL, NULL, 'anna')",
                "SELECT * FROM grants_api.cancel(\(second.id), NULL, 'r', 'anna')",
                "SELECT * FROM grants_api.close('A', NULL, NULL, NULL, 'anna')",
                "SELECT * FROM grants_api.amend('A', NULL, -100, 'SEK', NULL, 'r', current_date + 30, NULL, 'anna')",
                "SELECT * FROM grants_api.cancel(\(second.id), '2021-11-30', 'r', 'anna')",
                "SELECT * FROM grants_api.amend('A', NULL, -100, 'SEK', NULL, 'r', current_date, 'amendment x', 'anna')",
            ]
            for call in calls { #expect(try sqlState(configuration, call) == "GR008", "\(call)") }
            let translated = DatabaseRules.translate(
                try sqlError(configuration, "SELECT * FROM grants_api.cancel(\(second.id), NULL, 'r', 'anna')"))
            #expect(
                translated
                    == .invalidInput([Problem("cancelled_on", "is required: the business date the event belongs to")]))
            let future = await libraryError {
                try await service.grants.amend("A", amountChange: sek("1").negated, reason: "r", on: day("2999-01-01"), actor: "anna")
            }
            #expect(future == .invalidInput([Problem("amended_on", "2999-01-01 is in the future (today is \(CalendarDate.today))")]))
            let early = await libraryError {
                try await service.disbursements.cancel(second.id, on: day("2021-11-30"), reason: "r", actor: "anna")
            }
            #expect(early == .invalidInput([Problem("cancelled_on", "2021-11-30 is before the grant was decided on 2021-12-01")]))
            let earlyClose = await libraryError { try await service.grants.close("A", on: day("2021-01-01"), actor: "anna") }
            #expect(earlyClose == .invalidInput([Problem("closed_on", "2021-01-01 is before the grant was decided on 2021-12-01")]))
            // New rows carry their date, whoever writes them.
            let undated: PGQuery = """
                INSERT INTO grants.grant_amendment (grant_id, new_ends_on, reason, amended_by)
                SELECT id, '2024-06-30', 'r', 'anna' FROM grants.grant
                """
            #expect(try sqlState(configuration, undated) == "23514")
            #expect(
                try sqlState(
                    configuration,
                    "UPDATE grants.disbursement SET status = 'cancelled', cancelled_by = 'anna', reason = 'r' WHERE id = \(second.id)")
                    == "23514")
            // A row recorded before 0025 (written here past the constraint, as the old schema took it) reads as its
            // recording day through grants.business_date, and nothing is invented on the row.
            let connection = try PGConnection(configuration: configuration)
            try connection.execute(
                unsafeScript: """
                    BEGIN;
                    ALTER TABLE grants.grant_amendment DROP CONSTRAINT amendment_is_dated;
                    INSERT INTO grants.grant_amendment (grant_id, new_ends_on, reason, amended_by)
                        SELECT id, '2024-06-30', 'recorded before business dates', 'anna' FROM grants.grant WHERE reference = 'A';
                    ALTER TABLE grants.grant_amendment ADD CONSTRAINT amendment_is_dated CHECK (amended_on IS NOT NULL) NOT VALID;
                    COMMIT;
                    """)
            let recordedDay = try connection.query("SELECT (now() AT TIME ZONE 'UTC')::date")[0].decode(CalendarDate.self, column: 0)
            let old = try await service.grants.get("A").amendments
            #expect(old.map(\.reason) == ["recorded before business dates"])
            #expect(old.map(\.amendedOn) == [recordedDay])
            #expect(try connection.query("SELECT amended_on IS NULL FROM grants.grant_amendment")[0].decode(Bool.self, column: 0))
        }
    }

    /// A close racing payments dated inside it, many times: every payment either committed before the close
    /// (which then counted it) or was refused, so no period holds more events now than when it closed. Checked by
    /// a query after, not by timing.
    @Test func aCloseRacingPaymentsNeverLetsAPaymentInAfterIt() async throws {
        try await TestGrants.withService(poolSize: 8) { service, configuration in
            try await seedRound(service, budget: "1 000 000")
            let months = (1...12).map { String(format: "2022-%02d", $0) } + (1...12).map { String(format: "2021-%02d", $0) }
            var pending: [(month: String, id: Int64)] = []
            for (i, month) in months.enumerated() {
                let reference = "RACE-\(i)"
                try await service.applications.submit(application(reference), actor: "anna")
                try await service.approvals.approve(reference, amount: sek("1 000"), decidedOn: day("2020-12-01"), actor: "anna")
                let d = try await service.disbursements.schedule(reference, amount: sek("1 000"), dueOn: day("2022-01-31"), actor: "anna")
                try await service.disbursements.attest(d.id, actor: "bertil")
                pending.append((month, d.id))
            }
            let racing = pending
            let outcomes = try await asFinance(configuration) { finance in
                try await withThrowingTaskGroup(of: String.self) { group in
                    for (month, id) in racing {
                        group.addTask {
                            do {
                                try await service.disbursements.pay(
                                    id, paidOn: day("\(month)-15"), paymentReference: "P-\(id)", actor: "bertil")
                                return "paid"
                            } catch let caught as GrantsError where caught.code == .periodClosed {
                                return "refused"
                            }
                        }
                        group.addTask {
                            try await finance.periods.close(month, actor: "test_finance")
                            return "closed"
                        }
                    }
                    var all: [String] = []
                    for try await outcome in group { all.append(outcome) }
                    return all
                }
            }
            #expect(outcomes.filter { $0 == "closed" }.count == months.count)
            #expect(outcomes.filter { $0 != "closed" }.count == months.count, "every payment paid, or refused by its period")
            // What each period held when it closed (its audit event) is what it holds now.
            let connection = try PGConnection(configuration: configuration)
            let late = try connection.query(
                """
                SELECT b.period FROM grants.book_period b
                  JOIN grants.audit_event e ON e.entity_kind = 'period' AND e.entity_key = b.period AND e.action = 'period.closed'
                 WHERE (e.details ->> 'events')::bigint <> grants.events_in_period(b.programme_id, b.starts_on, b.ends_on)
                """)
            #expect(late.count == 0, "a payment got into a closed period after its close")
            let paidInside = try connection.query(
                """
                SELECT count(*) FROM grants.disbursement d JOIN grants.book_period b ON d.paid_on BETWEEN b.starts_on AND b.ends_on
                 WHERE d.status = 'paid'
                """)[0].decode(Int64.self, column: 0)
            #expect(paidInside == Int64(outcomes.filter { $0 == "paid" }.count), "each payment that went through was counted by its close")
        }
    }

    /// The lock protocol with each side held open, both ways round: a payment whose transaction is still open when
    /// the close starts is waited for and counted by the close; a close still open when a payment starts makes the
    /// payment wait and then refuses it. Whatever the timing, the count the close recorded is the count after.
    @Test func aCloseAndAPaymentHeldOpenWaitForEachOther() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let (_, second) = try await grant(service, "A")
            try await service.applications.submit(application("B"), actor: "anna")
            try await service.approvals.approve("B", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let third = try await service.disbursements.schedule("B", amount: sek("1 000"), dueOn: day("2022-01-31"), actor: "anna")
            try await service.disbursements.attest(third.id, actor: "bertil")
            var staff = configuration
            staff["user"] = "test_staff2"
            var financeLogin = configuration
            financeLogin["user"] = "test_finance"

            // A payment dated in March, not yet committed, then the close of March.
            let payer = try PGConnection(configuration: staff)
            try payer.execute("BEGIN")
            try payer.execute("SELECT * FROM grants_api.pay(\(second.id), '2022-03-15', 'P-2')")
            let close = Task { try await asFinance(configuration) { try await $0.periods.close("2022-03", actor: "test_finance") } }
            try await Task.sleep(for: .milliseconds(300))
            try payer.execute("COMMIT")
            _ = try await close.value

            // A close of April, not yet committed, then a payment dated in April.
            let closer = try PGConnection(configuration: financeLogin)
            try closer.execute("BEGIN")
            try closer.execute("SELECT * FROM grants_api.close_period(NULL, '2022-04')")
            let pay = Task {
                await libraryError {
                    try await service.disbursements.pay(third.id, paidOn: day("2022-04-15"), paymentReference: "P-3", actor: "bertil")
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            try closer.execute("COMMIT")
            #expect(await pay.value == closed("payment", "2022-04-15", period: "2022-04", firstOpen: "2022-05-01"))

            let connection = try PGConnection(configuration: configuration)
            let counts = try connection.query(
                """
                SELECT b.period, (e.details ->> 'events')::bigint, grants.events_in_period(b.programme_id, b.starts_on, b.ends_on)
                  FROM grants.book_period b
                  JOIN grants.audit_event e ON e.entity_kind = 'period' AND e.entity_key = b.period AND e.action = 'period.closed'
                 ORDER BY 1
                """
            ).map {
                [
                    try $0.decode(String.self, column: 0), String(try $0.decode(Int64.self, column: 1)),
                    String(try $0.decode(Int64.self, column: 2)),
                ]
            }
            #expect(counts == [["2022-03", "1", "1"], ["2022-04", "0", "0"]])
            #expect(try await service.disbursements.get(second.id).status == .paid)
        }
    }
}
