import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// Many grants-admin processes writing to one round at once, through the URL the test is given (pgbouncer in
/// transaction mode on the test command's second pass): never over budget, every write once.
@Suite("Many instances")
struct ManyInstancesTests {
    @Test func processesApprovingIntoOneRoundAtOnce() async throws {
        try await TestGrants.withService { service, configuration in
            let money = { (text: String) in try Money(parsing: text, currency: .sek) }
            try await service.themes.add(
                Theme(code: "citizen-dialogue", nameSv: "Medborgardialog", nameEn: "Citizen dialogue", dacSector: "15150"), actor: "anna")
            try await service.rounds.create(
                NewRound(programme: "Kommunala partnerskap", name: "R1", budget: try money("1 000 000")), actor: "anna")
            try await service.organisations.add(
                NewOrganisation(name: "Växjö kommun", country: "SE", orgNumber: try OrganisationNumber("212000-0662"), kind: .municipality),
                actor: "anna")
            try await service.organisations.add(NewOrganisation(name: "Kisumu County", country: "KE", kind: .region), actor: "anna")
            let applications = 12
            for i in 1...applications {
                try await service.applications.submit(
                    NewApplication(
                        round: "R1", reference: "KP-\(i)", title: "Dialog \(i)", applicant: "212000-0662", partners: ["Kisumu County"],
                        themes: ["citizen-dialogue"], requested: try money("100 000"), startsOn: try CalendarDate("2022-01-01"),
                        endsOn: try CalendarDate("2023-12-31")),
                    actor: "anna")
            }
            let cli = CLI(configuration: configuration)
            /// Every process at once, each approving one application for 100 000: the budget holds ten.
            func wave() async throws -> [Int32] {
                try await withThrowingTaskGroup(of: Int32.self) { group in
                    for i in 1...applications {
                        group.addTask {
                            try await Blocking.run {
                                try cli.run([
                                    "application", "approve", "KP-\(i)", "--amount", "100 000", "--decided-on", "2021-12-01", "--actor",
                                    "anna",
                                ]).status
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            let first = try await wave()
            #expect(first.filter { $0 == 0 }.count == 10, "\(first)")
            #expect(first.filter { $0 == 1 }.count == 2, "\(first)")
            // Every process again, as a client retrying after a lost reply would: nothing is applied twice.
            let again = try await wave()
            #expect(again.filter { $0 == 0 }.count == 10, "\(again)")
            let round = try await service.rounds.get("R1")
            #expect(round.awarded == (try money("1 000 000")))
            let counts = try await Blocking.run { try tableCounts(configuration) }
            #expect(counts["approval"] == 10)
            #expect(counts["grant"] == 10)
        }
    }
}
