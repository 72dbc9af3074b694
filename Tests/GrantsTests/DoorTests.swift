import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// The library's own checks at the door: every refusal is an input error with its domain path, and nothing
/// is written.
@Suite("Values checked at the door")
struct DoorTests {
    /// The problems of an `invalidInput`, or a recorded issue for anything else.
    func problems(_ body: () async throws -> Void) async -> [Problem] {
        do {
            try await body()
            Issue.record("accepted")
        } catch let caught as GrantsError where caught.code == .invalidInput {
            let problems = caught.problems
            return problems
        } catch {
            Issue.record("got \(error)")
        }
        return []
    }

    func tomorrow() throws -> CalendarDate { try CalendarDate(daysSinceEpoch: CalendarDate.today.daysSinceEpoch + 1) }

    @Test func decisionsCannotBeDatedInTheFuture() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.applications.submit(application("B"), actor: "anna")
            let before = try count(configuration, "grants.approval")
            for date in [day("2999-05-20"), try tomorrow()] {
                let approve = await problems {
                    try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: date, actor: "anna")
                }
                #expect(approve.map(\.location) == ["decided_on"], "\(approve)")
                let reject = await problems {
                    try await service.approvals.reject("B", decidedOn: date, reason: "Outside the call", actor: "anna")
                }
                #expect(reject.map(\.location) == ["decided_on"], "\(reject)")
            }
            #expect(try count(configuration, "grants.approval") == before)
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: .today, actor: "anna")
        }
    }

    @Test func anAwardAboveTheRequestNeedsToBeMeant() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A", amount: "1 000"), actor: "anna")
            let above = await problems {
                try await service.approvals.approve("A", amount: sek("1 000,01"), decidedOn: day("2021-12-01"), actor: "anna")
            }
            #expect(above.map(\.location) == ["above_requested"], "\(above)")
            #expect(above.first?.message.contains("\(sek("1 000").swedish) requested") == true, "\(above)")
            #expect(try count(configuration, "grants.grant") == 0)
            let grant = try await service.approvals.approve(
                "A", amount: sek("1 500"), decidedOn: day("2021-12-01"), aboveRequested: true, actor: "anna")
            #expect(grant.amount == sek("1 500") && grant.requested == sek("1 000"))
        }
    }

    @Test func paymentsFallBetweenTheDecisionAndToday() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2022-03-01"), actor: "anna")
            let d = try await service.disbursements.schedule("A", amount: sek("1 000"), dueOn: day("2022-03-31"), actor: "anna")
            try await service.disbursements.attest(d.id, actor: "bertil")
            let early = await problems {
                try await service.disbursements.pay(d.id, paidOn: day("2022-02-28"), paymentReference: "P", actor: "bertil")
            }
            #expect(early.map(\.location) == ["paid_on"], "\(early)")
            let late = await problems {
                try await service.disbursements.pay(d.id, paidOn: try tomorrow(), paymentReference: "P", actor: "bertil")
            }
            #expect(late.map(\.location) == ["paid_on"], "\(late)")
            #expect(try await service.disbursements.get(d.id).status == .attested)
            try await service.disbursements.pay(d.id, paidOn: day("2022-03-01"), paymentReference: "P", actor: "bertil")
            let reversal = await problems {
                try await service.disbursements.reverse(d.id, on: try tomorrow(), reason: "Wrong account", actor: "cecilia")
            }
            #expect(reversal.map(\.location) == ["reversed_on"], "\(reversal)")
            #expect(try count(configuration, "grants.disbursement") == 1)
        }
    }

    @Test func aTrancheIsDueInsideTheGrantsPeriod() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            for due in [day("2021-12-31"), day("2024-01-01")] {
                let outside = await problems {
                    try await service.disbursements.schedule("A", amount: sek("100"), dueOn: due, actor: "anna")
                }
                #expect(outside.map(\.location) == ["due_on"], "\(outside)")
            }
            #expect(try count(configuration, "grants.disbursement") == 0)
            try await service.disbursements.schedule("A", amount: sek("100"), dueOn: day("2022-01-01"), actor: "anna")
            try await service.disbursements.schedule("A", amount: sek("100"), dueOn: day("2023-12-31"), actor: "anna")
            // An extended period takes later tranches.
            try await service.grants.amend("A", newEndsOn: day("2024-06-30"), reason: "Delayed", on: .today, actor: "anna")
            try await service.disbursements.schedule("A", amount: sek("100"), dueOn: day("2024-01-01"), actor: "anna")
        }
    }

    @Test func theExportSeparatorAndUnknownCodesAreRefused() async throws {
        try await TestGrants.withService { service, configuration throws in
            let name = await problems {
                try await service.organisations.add(NewOrganisation(name: "Kisumu | Homa Bay", country: "KE"), actor: "anna")
            }
            #expect(name.map(\.location) == ["name"], "\(name)")
            for code in ["XX", "QQ", "AN"] {
                let country = await problems {
                    try await service.organisations.add(NewOrganisation(name: "Somewhere", country: code), actor: "anna")
                }
                #expect(country.map(\.location) == ["country"], "\(country)")
            }
            let sector = await problems {
                try await service.themes.add(Theme(code: "t", nameSv: "a", nameEn: "b", dacSector: "99999"), actor: "anna")
            }
            #expect(sector.map(\.location) == ["dac_sector"], "\(sector)")
            #expect(try count(configuration, "grants.organisation") == 0)
            #expect(try count(configuration, "grants.theme") == 0)
        }
    }

    @Test func aSecondReversalWithOtherValuesIsAConflict() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await service.applications.submit(application("A"), actor: "anna")
            try await service.approvals.approve("A", amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
            let d = try await service.disbursements.schedule("A", amount: sek("1 000"), dueOn: day("2022-01-31"), actor: "anna")
            try await service.disbursements.attest(d.id, actor: "bertil")
            try await service.disbursements.pay(d.id, paidOn: day("2022-02-01"), paymentReference: "P", actor: "bertil")
            let first = try await service.disbursements.reverse(d.id, on: day("2022-02-10"), reason: "Wrong account", actor: "cecilia")
            let retry = try await service.disbursements.reverse(d.id, on: day("2022-02-10"), reason: "Wrong account", actor: "cecilia")
            #expect(retry == first)
            let events = try count(configuration, "grants.audit_event")
            do {
                try await service.disbursements.reverse(d.id, on: day("2022-02-11"), reason: "Other", actor: "cecilia")
                Issue.record("a different second reversal was accepted")
            } catch let caught as GrantsError where caught.code == .conflict {
                let (key, differences) = (caught.key, caught.differences)
                #expect(key == String(d.id))
                #expect(differences.map(\.location) == ["reversed_on", "reason"], "\(differences)")
                #expect(differences.first?.recorded == "2022-02-10" && differences.first?.given == "2022-02-11")
            }
            #expect(try count(configuration, "grants.disbursement") == 2)
            #expect(try count(configuration, "grants.audit_event") == events)
        }
    }

    @Test func aFilterNamingNothingRecordedIsRefused() async throws {
        try await TestGrants.withService { service, _ in
            try await service.rounds.record(sampleManifest(), actor: "anna")
            let output = ReportOutput.sink { _ in Issue.record("a byte was written") }
            let round = await problems {
                try await service.reports.disbursements(ReportFilter(round: "NOPE"), format: .csv, to: output)
            }
            #expect(round.map(\.location) == ["round"] && round.first?.message.contains("NOPE") == true, "\(round)")
            let programme = await problems {
                try await service.reports.disbursements(ReportFilter(programme: "Nope"), format: .json, to: output)
            }
            #expect(programme.map(\.location) == ["programme"], "\(programme)")
            // A round of another programme is not in this one.
            let elsewhere = await problems {
                _ = try await service.grants.list(round: "2021:2", programme: "Another")
            }
            #expect(elsewhere.map(\.location) == ["programme"], "\(elsewhere)")
            for body in [
                { _ = try await service.grants.list(round: "NOPE") },
                { _ = try await service.applications.list(round: "NOPE") },
                { _ = try await service.disbursements.list(DisbursementFilter(round: "NOPE")) },
                { _ = try await service.reports.forEachDisbursement(ReportFilter(round: "NOPE")) { _ in } },
            ] as [() async throws -> Void] {
                #expect(await problems(body).map(\.location) == ["round"])
            }
            #expect(await problems { _ = try await service.rounds.list(programme: "NOPE") }.map(\.location) == ["programme"])
            // What exists still lists, also when it is empty.
            #expect(try await service.grants.list(round: "2021:2").count == 3)
            #expect(try await service.disbursements.list(DisbursementFilter(round: "2021:2", status: .paid)).isEmpty)
        }
    }

    @Test func aDatabaseNotOnThisSchemaIsUnavailableWithWhatToDo() async throws {
        func cause(_ service: GrantsService) async -> String {
            do {
                try await service.checkSchema()
                Issue.record("the schema was taken as this version's")
            } catch {
                #expect(error.code == .schemaMismatch && error.category == .unavailable, "\(error)")
                return error.message
            }
            return ""
        }
        try await TestServer.withDatabase { configuration in
            let service = GrantsService(configuration: GrantsConfiguration(database: configuration, poolSize: 1))
            #expect(await cause(service).contains("migrate"))
            do throws(GrantsError) {
                _ = try await service.rounds.list()
                Issue.record("read an unmigrated database")
            } catch {
                #expect(error.code == .schemaMismatch && error.message.contains("migrate"), "\(error)")
                #expect(!error.message.contains("grants-admin"), "the library says what to do in its own words: \(error)")
            }
            try await service.migrate()
            try await service.checkSchema()
            let connection = try PGConnection(configuration: configuration)
            let last = try #require(GrantsService.migrations.last).version
            try connection.execute("DELETE FROM grants.schema_migrations WHERE version = \(last)")
            #expect(await cause(service).contains("migrate it"))
            try connection.execute(
                "INSERT INTO grants.schema_migrations (version, name, checksum) VALUES (\(last), 'x', 'x'), (9999, 'future', 'x')")
            let newer = await cause(service)
            #expect(newer.contains("newer") && newer.contains("9999") && newer.contains("upgrade"), "\(newer)")
            await service.close()
        }
    }
}
