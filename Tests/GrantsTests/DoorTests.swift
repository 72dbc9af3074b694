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
        } catch GrantsError.invalidInput(let problems) {
            return problems
        } catch {
            Issue.record("got \(error)")
        }
        return []
    }

    func tomorrow() throws -> CalendarDate { try CalendarDate(daysSinceEpoch: CalendarDate.today.daysSinceEpoch + 1) }

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
}
