import Foundation
import Grants
import TestSeeds
import TestSupport
import Testing

/// The rules as plain Swift: what the database must agree with after every operation.
struct Model {
    struct GrantState {
        var amount: Int64
        var committed: Int64 = 0
        var paid: Int64 = 0
    }
    struct DisbursementState {
        var grant: String
        var amount: Int64
        var status: DisbursementStatus
        var scheduledBy: String
        var attestedBy: String? = nil
        var reversed = false
    }
    var budget: Int64
    var awarded: Int64 = 0
    var grants: [String: GrantState] = [:]
    var disbursements: [Int64: DisbursementState] = [:]
}

@Suite("Property: random operations against a model")
struct PropertyTests {
    static var seeds: [UInt64] {
        if let text = ProcessInfo.processInfo.environment["GRANTS_PROPERTY_SEED"], let seed = UInt64(text) { return [seed] }
        return [1, 20_211_201, 0xC0FFEE]
    }

    @Test(arguments: seeds)
    func randomSequencesMatchTheModel(seed: UInt64) async throws {
        let steps = Int(ProcessInfo.processInfo.environment["GRANTS_PROPERTY_STEPS"] ?? "") ?? 150
        try await TestGrants.withService { service, _ in
            var random = SeededGenerator(state: seed)
            try await seedRound(service, budget: "20 000")
            var model = Model(budget: sek("20 000").minorUnits)
            let actors = ["anna", "bertil", "cecilia"]
            var nextReference = 0
            for step in 0..<steps {
                let context = "seed \(seed) step \(step)"
                let actor = actors.randomElement(using: &random)!
                switch Int.random(in: 0..<100, using: &random) {
                case 0..<20:
                    nextReference += 1
                    let reference = "P-\(nextReference)"
                    let amount = Int64.random(in: 1...600_000, using: &random)
                    try await service.applications.submit(application(reference, amount: "9 999"), actor: actor)
                    let fits = model.awarded + amount <= model.budget
                    do {
                        try await service.approvals.approve(
                            reference, amount: Money(minorUnits: amount, currency: .sek), decidedOn: day("2021-12-01"), actor: actor)
                        #expect(fits, "\(context): approval past the budget was accepted")
                        model.awarded += amount
                        model.grants[reference] = .init(amount: amount)
                    } catch let caught as GrantsError where caught.code == .budgetExceeded {
                        #expect(!fits, "\(context): approval within the budget was refused")
                    }
                case 20..<45:
                    guard let reference = model.grants.keys.sorted().randomElement(using: &random) else { continue }
                    let amount = Int64.random(in: 1...300_000, using: &random)
                    let grant = model.grants[reference]!
                    let fits = grant.committed + amount <= grant.amount
                    do {
                        let d = try await service.disbursements.schedule(
                            reference, amount: Money(minorUnits: amount, currency: .sek), dueOn: day("2022-06-01"), actor: actor)
                        #expect(fits, "\(context): schedule past the award was accepted")
                        model.grants[reference]!.committed += amount
                        model.disbursements[d.id] = .init(grant: reference, amount: amount, status: .scheduled, scheduledBy: actor)
                    } catch let caught as GrantsError where caught.code == .awardExceeded {
                        #expect(!fits, "\(context): schedule within the award was refused")
                    }
                case 45..<60:
                    guard let id = model.disbursements.keys.sorted().randomElement(using: &random) else { continue }
                    let d = model.disbursements[id]!
                    do {
                        try await service.disbursements.attest(id, actor: actor)
                        // Attesting again by the same attester is a retry.
                        let retry = d.status == .attested && d.attestedBy == actor
                        #expect((d.status == .scheduled && d.scheduledBy != actor) || retry, "\(context): attest allowed")
                        model.disbursements[id]!.status = .attested
                        model.disbursements[id]!.attestedBy = actor
                    } catch let caught as GrantsError where caught.code == .fourEyes {
                        #expect(d.status == .scheduled && d.scheduledBy == actor, "\(context)")
                    } catch let caught as GrantsError where caught.code == .invalidTransition {
                        #expect(d.status != .scheduled && !(d.status == .attested && d.attestedBy == actor), "\(context)")
                    }
                case 60..<75:
                    guard let id = model.disbursements.keys.sorted().randomElement(using: &random) else { continue }
                    let d = model.disbursements[id]!
                    do {
                        try await service.disbursements.pay(id, paidOn: day("2022-06-02"), paymentReference: "PAY-\(id)", actor: actor)
                        #expect(d.status == .attested || d.status == .paid, "\(context): pay allowed from \(d.status)")
                        if d.status == .attested {
                            model.disbursements[id]!.status = .paid
                            model.grants[d.grant]!.paid += d.amount
                        }
                    } catch let caught as GrantsError where caught.code == .invalidTransition {
                        #expect(d.status != .attested, "\(context)")
                    }
                case 75..<85:
                    guard let id = model.disbursements.keys.sorted().randomElement(using: &random) else { continue }
                    let d = model.disbursements[id]!
                    do {
                        try await service.disbursements.cancel(id, on: .today, reason: "step \(step)", actor: actor)
                        #expect(d.status == .scheduled || d.status == .attested, "\(context): cancel allowed from \(d.status)")
                        model.disbursements[id]!.status = .cancelled
                        model.grants[d.grant]!.committed -= d.amount
                    } catch let caught as GrantsError where caught.code == .invalidTransition {
                        #expect(d.status == .paid || d.status == .cancelled, "\(context)")
                    }
                case 85..<92:
                    guard let id = model.disbursements.keys.sorted().randomElement(using: &random) else { continue }
                    let d = model.disbursements[id]!
                    do {
                        let reversal = try await service.disbursements.reverse(
                            id, on: day("2022-07-01"), reason: "correction", actor: actor)
                        #expect(d.status == .paid, "\(context): reverse allowed from \(d.status)")
                        if !d.reversed {
                            model.disbursements[id]!.reversed = true
                            model.grants[d.grant]!.committed -= d.amount
                            model.grants[d.grant]!.paid -= d.amount
                            #expect(reversal.amount.minorUnits == -d.amount)
                        }
                    } catch let caught as GrantsError where caught.code == .invalidTransition {
                        #expect(d.status != .paid, "\(context)")
                    }
                default:
                    guard let reference = model.grants.keys.sorted().randomElement(using: &random) else { continue }
                    let change = Int64.random(in: -200_000...200_000, using: &random)
                    guard change != 0 else { continue }
                    let grant = model.grants[reference]!
                    do {
                        try await service.grants.amend(
                            reference, amountChange: Money(minorUnits: change, currency: .sek), reason: "step \(step)", on: .today, actor: actor)
                        #expect(
                            change < 0 ? grant.amount + change >= grant.committed : model.awarded + change <= model.budget,
                            "\(context): amend allowed")
                        model.grants[reference]!.amount += change
                        model.awarded += change
                    } catch let caught as GrantsError where caught.code == .budgetExceeded {
                        #expect(change > 0 && model.awarded + change > model.budget, "\(context)")
                    } catch let caught as GrantsError where caught.code == .awardExceeded {
                        #expect(change < 0 && grant.amount + change < grant.committed, "\(context)")
                    }
                }
            }
            // Totals and statuses agree with the model.
            let round = try await service.rounds.get("R1")
            #expect(round.awarded.minorUnits == model.awarded, "seed \(seed)")
            #expect(try !round.budget.isLess(than: round.awarded))
            for grant in try await service.grants.list() {
                let expected = model.grants[grant.reference]
                #expect(grant.amount.minorUnits == expected?.amount, "seed \(seed) \(grant.reference)")
                #expect(grant.committed.minorUnits == expected?.committed, "seed \(seed) \(grant.reference)")
                #expect(grant.paid.minorUnits == expected?.paid, "seed \(seed) \(grant.reference)")
                #expect(try !grant.amount.isLess(than: grant.committed))
            }
            for d in try await service.disbursements.list() where d.status != .reversal {
                #expect(d.status == model.disbursements[d.id]?.status, "seed \(seed) disbursement \(d.id)")
            }
        }
    }
}
