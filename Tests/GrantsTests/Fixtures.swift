import Foundation
import Grants
import PGClient

func sek(_ text: String) -> Money {
    // Test literals are valid by construction; a typo should fail loudly.
    do { return try Money(parsing: text, currency: .sek) } catch { preconditionFailure("bad amount literal \(text): \(error)") }
}

func day(_ text: String) -> CalendarDate {
    do { return try CalendarDate(text) } catch { preconditionFailure("bad date literal \(text)") }
}

let dialogue = Theme(code: "citizen-dialogue", nameSv: "Medborgardialog", nameEn: "Citizen dialogue", dacSector: "15150")
let youth = Theme(
    code: "youth-participation", nameSv: "Barn och ungas delaktighet", nameEn: "Children and young people's participation",
    dacSector: "15150")

/// A manifest of `count` grants that share the round's budget.
func sampleManifest(
    round: String = "2021:2", budget: String = "10 641 000", count: Int = 3, amount: String = "500 000", prefix: String = "KP"
) -> RoundManifest {
    let grants = (0..<count).map { i in
        ManifestGrant(
            reference: "\(prefix)-\(i + 1)", title: "Partnerskap \(i + 1) för Växjö–Kisumu",
            applicant: NewOrganisation(name: "Kommun \(i + 1)", country: "SE", kind: .municipality),
            partners: [
                NewOrganisation(name: "Partner County \(i + 1)", country: "KE", kind: .region),
                NewOrganisation(name: "Ward \(i % 3)", country: "ZM"),
            ],
            themes: [dialogue.code, youth.code], amount: sek(amount), startsOn: day("2022-01-01"), endsOn: day("2023-12-31"),
            tranches: [
                Tranche(dueOn: day("2022-01-31"), amount: Money(minorUnits: sek(amount).minorUnits / 2, currency: .sek)),
                Tranche(
                    dueOn: day("2023-01-31"), amount: Money(minorUnits: sek(amount).minorUnits - sek(amount).minorUnits / 2, currency: .sek)
                ),
            ],
            location: ManifestLocation(base: "grants[\(i)]", style: .path))
    }
    return RoundManifest(
        programme: "Kommunala partnerskap",
        round: NewRound(programme: "Kommunala partnerskap", name: round, budget: sek(budget), decidedOn: day("2021-12-01")),
        themes: [dialogue, youth], grants: grants)
}

/// Sets up one open round with themes and a Swedish applicant and a partner abroad.
func seedRound(_ service: GrantsService, budget: String = "10 000", actor: String = "anna") async throws {
    try await service.themes.add(dialogue, actor: actor)
    try await service.rounds.create(NewRound(programme: "Kommunala partnerskap", name: "R1", budget: sek(budget)), actor: actor)
    try await service.organisations.add(
        NewOrganisation(name: "Växjö kommun", country: "SE", orgNumber: try OrganisationNumber("212000-0662"), kind: .municipality),
        actor: actor)
    try await service.organisations.add(NewOrganisation(name: "Kisumu County", country: "KE", kind: .region), actor: actor)
}

func application(_ reference: String, amount: String = "1 000") -> NewApplication {
    NewApplication(
        round: "R1", reference: reference, title: "Dialog \(reference)", applicant: "212000-0662", partners: ["Kisumu County"],
        themes: [dialogue.code], requested: sek(amount), startsOn: day("2022-01-01"), endsOn: day("2023-12-31"))
}

func count(_ configuration: PGConfiguration, _ table: String) throws -> Int64 {
    let connection = try PGConnection(configuration: configuration)
    // The test template registers the people the tests act as (TestGrants.people); those registrations are
    // not a test's own audit events.
    let own = table == "grants.audit_event" ? " WHERE entity_kind <> 'person'" : ""
    return try connection.query("SELECT count(*) FROM \(unsafeRaw: table)\(unsafeRaw: own)")[0].decode(Int64.self, column: 0)
}
