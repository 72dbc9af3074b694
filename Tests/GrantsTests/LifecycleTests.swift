import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("Grant lifecycle")
struct LifecycleTests {
    @Test func submitApproveScheduleAttestPayReverse() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let submitted = try await service.applications.submit(application("KP-1", amount: "6 000"), actor: "anna")
            #expect(submitted.status == .submitted)
            #expect(submitted.partners.map(\.name) == ["Kisumu County"])
            let grant = try await service.approvals.approve("KP-1", amount: sek("5 000"), decidedOn: day("2021-12-01"), actor: "anna")
            #expect(grant.amount == sek("5 000"))
            #expect(grant.requested == sek("6 000"))
            // Approving again with the same decision is a retry, not a second grant.
            _ = try await service.approvals.approve("KP-1", amount: sek("5 000"), decidedOn: day("2021-12-01"), actor: "anna")
            #expect(try await service.rounds.get("R1").awarded == sek("5 000"))

            let first = try await service.disbursements.schedule("KP-1", amount: sek("3 000"), dueOn: day("2022-01-31"), actor: "anna")
            let second = try await service.disbursements.schedule("KP-1", amount: sek("2 000"), dueOn: day("2023-01-31"), actor: "anna")
            await #expect(throws: GrantsError.self) {
                try await service.disbursements.schedule("KP-1", amount: sek("0,01"), dueOn: day("2023-02-01"), actor: "anna")
            }
            // Four-eyes.
            let fourEyes = await #expect(throws: GrantsError.self) { try await service.disbursements.attest(first.id, actor: "anna") }
            guard fourEyes?.code == .fourEyes else {
                Issue.record("expected fourEyes, got \(String(describing: fourEyes))")
                return
            }
            // Paying before attesting is an invalid state change.
            let early = await #expect(throws: GrantsError.self) {
                try await service.disbursements.pay(first.id, paidOn: day("2022-02-01"), paymentReference: "BG 1", actor: "bertil")
            }
            guard early?.code == .invalidTransition, early?[.from] == "scheduled", early?[.to] == "paid" else {
                Issue.record("got \(String(describing: early))")
                return
            }
            try await service.disbursements.attest(first.id, actor: "bertil")
            let paid = try await service.disbursements.pay(
                first.id, paidOn: day("2022-02-01"), paymentReference: "BG 5050-1055", actor: "bertil")
            #expect(paid.status == .paid)
            // A retry of the same payment changes nothing; a different one is refused.
            _ = try await service.disbursements.pay(first.id, paidOn: day("2022-02-01"), paymentReference: "BG 5050-1055", actor: "bertil")
            await #expect(throws: GrantsError.self) {
                try await service.disbursements.pay(first.id, paidOn: day("2022-02-02"), paymentReference: "BG other", actor: "bertil")
            }
            await #expect(throws: GrantsError.self) { try await service.disbursements.cancel(first.id, on: .today, reason: "oops", actor: "anna") }
            try await service.disbursements.cancel(second.id, on: .today, reason: "Project shortened", actor: "anna")
            await #expect(throws: GrantsError.self) { try await service.disbursements.attest(second.id, actor: "bertil") }

            let reversal = try await service.disbursements.reverse(
                first.id, on: day("2022-03-01"), reason: "Paid to the wrong account", actor: "cecilia")
            #expect(reversal.status == .reversal)
            #expect(reversal.amount.minorUnits == -sek("3 000").minorUnits)
            #expect(reversal.reversesID == first.id)
            let again = try await service.disbursements.reverse(
                first.id, on: day("2022-03-01"), reason: "Paid to the wrong account", actor: "cecilia")
            #expect(again.id == reversal.id)
            let detail = try await service.grants.get("KP-1")
            #expect(detail.grant.paid.minorUnits == 0)
            #expect(detail.grant.committed.minorUnits == 0)
            #expect(detail.disbursements.count == 3)
            // The original paid row is untouched.
            #expect(try await service.disbursements.get(first.id).status == .paid)

            let events = try await service.audit.list().filter { $0.entityKind != "person" }
            #expect(events.contains { $0.action == "disbursement.paid" && $0.actor == "bertil" })
            #expect(events.contains { $0.action == "disbursement.reversed" && $0.actor == "cecilia" })
            #expect(try count(configuration, "grants.audit_event") == Int64(events.count))
        }
    }

    @Test func amendmentsAndClosure() async throws {
        try await TestGrants.withService { service, _ in
            try await seedRound(service, budget: "10 000")
            try await service.applications.submit(application("KP-1", amount: "4 000"), actor: "anna")
            try await service.applications.submit(application("KP-2", amount: "4 000"), actor: "anna")
            try await service.approvals.approve("KP-1", amount: sek("4 000"), decidedOn: day("2021-12-01"), actor: "anna")
            try await service.approvals.approve("KP-2", amount: sek("4 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let over = await #expect(throws: GrantsError.self) {
                try await service.grants.amend("KP-1", amountChange: sek("2 000,01"), reason: "More", on: .today, actor: "anna")
            }
            guard over?.code == .budgetExceeded, let excess = over?.amount else {
                Issue.record("got \(String(describing: over))")
                return
            }
            #expect(excess == sek("0,01"))
            let raised = try await service.grants.amend("KP-1", amountChange: sek("2 000"), reason: "Extra workshop", on: .today, actor: "anna")
            #expect(raised.amount == sek("6 000"))
            #expect(raised.originalAmount == sek("4 000"))
            #expect(try await service.rounds.get("R1").awarded == sek("10 000"))
            let d = try await service.disbursements.schedule("KP-1", amount: sek("5 000"), dueOn: day("2022-06-01"), actor: "anna")
            let below = await #expect(throws: GrantsError.self) {
                try await service.grants.amend(
                    "KP-1", amountChange: Money(minorUnits: -sek("1 000,01").minorUnits, currency: .sek), reason: "Less", on: .today, actor: "anna")
            }
            guard below?.code == .awardExceeded, below?.amount == sek("0,01") else {
                Issue.record("got \(String(describing: below))")
                return
            }
            let extended = try await service.grants.amend(
                "KP-1", newEndsOn: day("2024-06-30"), reason: "Delayed by elections", on: .today, actor: "anna")
            #expect(extended.endsOn == day("2024-06-30"))
            #expect(extended.originalEndsOn == day("2023-12-31"))
            await #expect(throws: GrantsError.self) { try await service.grants.close("KP-1", on: .today, actor: "anna") }
            try await service.disbursements.attest(d.id, actor: "bertil")
            try await service.disbursements.pay(d.id, paidOn: day("2022-06-02"), paymentReference: "P-1", actor: "bertil")
            let closed = try await service.grants.close("KP-1", on: .today, actor: "anna")
            #expect(closed.status == .closed)
            #expect(closed.reclaimed == sek("1 000"))
            let again = await #expect(throws: GrantsError.self) { try await service.grants.close("KP-1", on: .today, actor: "anna") }
            guard again?.code == .invalidTransition else {
                Issue.record("got \(String(describing: again))")
                return
            }
            await #expect(throws: GrantsError.self) {
                try await service.disbursements.schedule("KP-1", amount: sek("1"), dueOn: day("2022-07-01"), actor: "anna")
            }
            try await service.rounds.close("R1", actor: "anna")
            await #expect(throws: GrantsError.self) { try await service.rounds.close("R1", actor: "anna") }
            await #expect(throws: GrantsError.self) { try await service.applications.submit(application("KP-3"), actor: "anna") }
        }
    }

    @Test func invalidStateChangesAreTypedErrors() async throws {
        try await TestGrants.withService { service, _ in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.approvals.reject("A", decidedOn: day("2021-12-01"), reason: "Outside the call", actor: "anna")
            for attempt in [
                { try await service.approvals.approve("A", amount: sek("1"), decidedOn: day("2021-12-01"), actor: "anna") as Any },
                { try await service.applications.withdraw("A", actor: "anna") as Any },
                { try await service.approvals.reject("A", decidedOn: day("2021-12-02"), reason: "Other", actor: "anna") as Any },
            ] {
                let error = await #expect(throws: GrantsError.self) { _ = try await attempt() }
                guard error?.code == .invalidTransition, error?.key == "A", error?[.from] == "rejected" else {
                    Issue.record("got \(String(describing: error))")
                    continue
                }
            }
            let missing = await #expect(throws: GrantsError.self) { try await service.grants.get("nope") }
            guard missing?.code == .notFound else {
                Issue.record("got \(String(describing: missing))")
                return
            }
            let taken = await #expect(throws: GrantsError.self) {
                try await service.applications.submit(application("A", amount: "2 000"), actor: "anna")
            }
            guard taken?.code == .conflict else {
                Issue.record("got \(String(describing: taken))")
                return
            }
        }
    }
}
