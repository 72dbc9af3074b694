import Foundation
import PGClient
import TestSupport
import Testing

@testable import Grants

/// Reference data and declarations through the database's API (`Schema/api/reference.sql`): a staff member at a
/// psql prompt gets what the library gives, under the same rules; organisations have one identity (DESIGN §4).
@Suite("Reference data through grants_api")
struct ReferenceAPITests {
    /// What `query` run as `user` raises, in the library's terms (nil when it succeeds).
    func sqlError(_ configuration: PGConfiguration, user: String, _ query: PGQuery) throws -> GrantsError? {
        var configuration = configuration
        configuration["user"] = user
        let connection = try PGConnection(configuration: configuration)
        do {
            _ = try connection.query(query)
            return nil
        } catch {
            return DatabaseRules.translate(error)
        }
    }

    func rows(_ configuration: PGConfiguration, _ query: PGQuery) throws -> Int64 {
        try PGConnection(configuration: configuration).query(query)[0].decode(Int64.self, column: 0)
    }

    static let lookAlikes = [
        "Kisumu County ", "Kisumu  County", "Kisumu\u{00A0}County", "Kisumu\u{200B} County", "Kisumu \u{0421}ounty",
        " kisumu county", "Kisumu\u{2009}County", "Kisumu\u{3000}County", "KISUMU COUNTY", "Kisumu County\u{00AD}",
        "\u{FEFF}Kisumu County", "Kisumu \u{202E}County", "Kisumu Cοunty",
    ]

    /// Library, raw SQL and the CLI's path (the library's `add`) each give the one Kisumu County or refuse.
    @Test func lookAlikesAreTheSameOrganisationOrRefused() async throws {
        try await TestGrants.withService(user: "test_staff") { service, configuration in
            let kisumu = try await service.organisations.add(NewOrganisation(name: "Kisumu County", country: "KE", kind: .region), actor: "test_staff")
            for name in Self.lookAlikes {
                do {
                    let found = try await service.organisations.add(NewOrganisation(name: name, country: "KE", kind: .region), actor: "test_staff")
                    #expect(found.id == kisumu.id, "library: \(name.debugDescription) became another organisation")
                } catch let error as GrantsError {
                    #expect(error.category == .input, "library: \(name.debugDescription): \(error)")
                }
                var staff = configuration
                staff["user"] = "test_staff"
                let connection = try PGConnection(configuration: staff)
                do {
                    let id = try connection.query(
                        "SELECT id FROM grants_api.add_organisation(\(name)::text, 'KE', NULL, NULL, 'region', NULL)"
                    )[0].decode(Int64.self, column: 0)
                    #expect(id == kisumu.id, "SQL: \(name.debugDescription) became another organisation")
                } catch {
                    let error = DatabaseRules.translate(error)
                    #expect(error.category == .input, "SQL: \(name.debugDescription): \(String(describing: error))")
                }
            }
            #expect(try rows(configuration, "SELECT count(*) FROM grants.organisation WHERE country = 'KE'") == 1)
            // Not even the owner can store a look-alike past the table's rule.
            let raw = try sqlError(configuration, user: "postgres", "INSERT INTO grants.organisation (name, country) VALUES ('Kisumu \u{0421}ounty', 'KE')")
            #expect(raw?.category == .input)
            let spaced = try sqlError(configuration, user: "postgres", "INSERT INTO grants.organisation (name, country) VALUES ('kisumu county', 'KE')")
            #expect(spaced != nil)
            #expect(try rows(configuration, "SELECT count(*) FROM grants.organisation WHERE country = 'KE'") == 1)
        }
    }

    /// OrganisationName (Swift) and grants.organisation_name (SQL) agree: the same name, or both refuse.
    @Test func swiftAndSQLNormaliseAlike() async throws {
        let names = Self.lookAlikes + [
            "Växjö kommun", "Va\u{0308}xjo\u{0308} kommun", "ＫＩＳＵＭＵ", "Kisumu\tCounty", "Kisumu\nCounty", "", "   ", "\u{00A0}",
            "Κέρκυρα", "Москва", "Москва Kisumu", "東京都", "Ǆemal", "ﬁnance office", "A | B", "Kisumu\u{2060}County", "Kisumu\u{FE0F}",
            "Kisumu\u{E000}", "\u{1D400}BC", "Région Île-de-France", "Œuvre", "São Paulo", "İstanbul", "Straße", "Kisumu\u{2028}County",
            "Kisumu\u{180E}County", "x\u{034F}y", "\u{3164}", "Kisumu \u{2800}", String(repeating: "a", count: 1001),
            String(repeating: "a", count: 1000),
        ]
        try await TestGrants.withService { _, configuration in
            let connection = try PGConnection(configuration: configuration)
            for name in names {
                let swift = OrganisationName.normalise(name)
                var sql: Result<String, OrganisationName.Refusal>
                do {
                    sql = .success(try connection.query("SELECT grants.organisation_name(\(name)::text)")[0].decode(String.self, column: 0))
                } catch {
                    guard let problems = invalidProblems(DatabaseRules.translate(error)), let problem = problems.first else {
                        Issue.record("\(name.debugDescription): \(error)")
                        continue
                    }
                    #expect(problem.location == "name")
                    sql = .failure(OrganisationName.Refusal(message: problem.message))
                }
                #expect(swift == sql, "\(name.debugDescription)")
                if case .success(let value) = swift, case .success(let stored) = sql {
                    let lower = try connection.query("SELECT lower(\(stored)::text)")[0].decode(String.self, column: 0)
                    #expect(lower == (try OrganisationName(value)).key, "key of \(name.debugDescription)")
                }
            }
        }
    }

    /// Each operation by raw SQL as a staff login: refused as the library refuses, nothing written; naming
    /// another actor is GR005; a service login naming nobody registered is GR010.
    @Test func everyOperationKeepsTheRulesFromRawSQL() async throws {
        try await TestGrants.withService(user: "test_staff") { service, configuration in
            try await seedRound(service, actor: "test_staff")
            let events = try count(configuration, "grants.audit_event")
            let calls: [(String, PGQuery, PGQuery, PGQuery)] = [
                // name, refused input, a valid call naming another actor, the same valid call by the service naming nobody
                ("add_theme", "SELECT * FROM grants_api.add_theme('Bad Code', 'x', 'x', NULL, NULL)",
                 "SELECT * FROM grants_api.add_theme('youth', 'Unga', 'Youth', NULL, 'anna')",
                 "SELECT * FROM grants_api.add_theme('youth', 'Unga', 'Youth', NULL, 'strauss')"),
                ("add_organisation", "SELECT * FROM grants_api.add_organisation('Kisumu \u{0421}ounty', 'KE', NULL, NULL, 'region', NULL)",
                 "SELECT * FROM grants_api.add_organisation('Mombasa County', 'KE', NULL, NULL, 'region', 'anna')",
                 "SELECT * FROM grants_api.add_organisation('Mombasa County', 'KE', NULL, NULL, 'region', 'strauss')"),
                ("create_round", "SELECT * FROM grants_api.create_round('Kommunala partnerskap', 'R9', 0, 'SEK', NULL, NULL, NULL, NULL)",
                 "SELECT * FROM grants_api.create_round('Kommunala partnerskap', 'R9', 100, 'SEK', NULL, NULL, NULL, 'anna')",
                 "SELECT * FROM grants_api.create_round('Kommunala partnerskap', 'R9', 100, 'SEK', NULL, NULL, NULL, 'strauss')"),
                ("close_round", "SELECT * FROM grants_api.close_round('R1', 'No such programme', NULL)",
                 "SELECT * FROM grants_api.close_round('R1', NULL, 'anna')",
                 "SELECT * FROM grants_api.close_round('R1', NULL, 'strauss')"),
                ("set_programme_settings",
                 "SELECT * FROM grants_api.set_programme_settings('Kommunala partnerskap', '{\"iati_publisher_ref\": \"SE-0\", \"funder_ref\": \"SE-0\"}', NULL)",
                 "SELECT * FROM grants_api.set_programme_settings('Kommunala partnerskap', '{\"sie_series\": \"B\"}', 'anna')",
                 "SELECT * FROM grants_api.set_programme_settings('Kommunala partnerskap', '{\"sie_series\": \"B\"}', 'strauss')"),
                ("declare_conflict", "SELECT * FROM grants_api.declare_conflict('strauss', 'Kisumu County', 'Board', NULL)",
                 "SELECT * FROM grants_api.declare_conflict('bertil', 'Kisumu County', 'Board', 'anna')",
                 "SELECT * FROM grants_api.declare_conflict('bertil', 'Kisumu County', 'Board', 'strauss')"),
                ("add_contact", "SELECT * FROM grants_api.add_contact('Kisumu County', 'Achieng', 'not an address', NULL, NULL, NULL)",
                 "SELECT * FROM grants_api.add_contact('Kisumu County', 'Achieng', NULL, NULL, NULL, 'anna')",
                 "SELECT * FROM grants_api.add_contact('Kisumu County', 'Achieng', NULL, NULL, NULL, 'strauss')"),
                ("erase_contact", "SELECT * FROM grants_api.erase_contact(1, '', NULL)",
                 "SELECT * FROM grants_api.erase_contact(1, 'Asked', 'anna')",
                 "SELECT * FROM grants_api.erase_contact(1, 'Asked', 'strauss')"),
            ]
            for (name, refused, otherActor, nobody) in calls {
                let input = try sqlError(configuration, user: "test_staff", refused)
                #expect(input != nil && input?.category != .internal, "\(name): \(String(describing: input))")
                #expect(try sqlError(configuration, user: "test_staff", otherActor) == .actorMismatch(claimed: "anna", login: "test_staff"), "\(name)")
                #expect(try sqlError(configuration, user: "test_service", nobody) == .unknownPerson("strauss"), "\(name)")
            }
            #expect(try count(configuration, "grants.audit_event") == events)
            #expect(try rows(configuration, "SELECT count(*) FROM grants.allocation_round WHERE status = 'closed'") == 0)
            #expect(try rows(configuration, "SELECT count(*) FROM grants.conflict_of_interest") == 0)

            // The same refusals from the library, with the same location.
            let library = await libraryError {
                try await service.organisations.add(NewOrganisation(name: "Kisumu \u{0421}ounty", country: "KE"), actor: "test_staff")
            }
            let sql = try sqlError(
                configuration, user: "test_staff",
                "SELECT * FROM grants_api.add_organisation('Kisumu \u{0421}ounty', 'KE', NULL, NULL, 'other', NULL)")
            #expect(library == sql)
            #expect(library == .invalidInput([Problem("name", "mixes Cyrillic and Latin letters, as look-alike names do")]))
            let publisher = await libraryError {
                var settings = ProgrammeSettings()
                settings.iatiPublisherRef = "SE-0"
                settings.funderRef = "SE-0"
                try await service.programmes.set("Kommunala partnerskap", settings: settings, actor: "test_staff")
            }
            #expect(publisher?.category == .input)
            let unregistered = await libraryError {
                try await service.conflicts.declare(person: "strauss", organisation: "Kisumu County", reason: "Board", actor: "test_staff")
            }
            #expect(unregistered == .unknownPerson("strauss"))
            #expect(try count(configuration, "grants.audit_event") == events)
        }
    }

    /// Programme settings changed at a psql prompt carry who changed them and an audit event of what changed.
    @Test func programmeSettingsAreStampedAndAudited() async throws {
        try await TestGrants.withService(user: "test_staff") { service, configuration in
            var settings = ProgrammeSettings()
            settings.sieSeries = "A"
            _ = try await service.programmes.set("Kommunala partnerskap", settings: settings, actor: "test_staff")
            var staff2 = configuration
            staff2["user"] = "test_staff2"
            let connection = try PGConnection(configuration: staff2)
            _ = try connection.query(
                "SELECT * FROM grants_api.set_programme_settings('Kommunala partnerskap', '{\"sie_cost_account\": \"4010\"}', NULL)")
            let shown = try await service.programmes.show("Kommunala partnerskap")
            #expect(shown.settingsUpdatedBy == "test_staff2")
            #expect(shown.settings.sieSeries == "A" && shown.settings.sieCostAccount == "4010")
            let details = try PGConnection(configuration: configuration).query(
                """
                SELECT actor, details->>'sie_cost_account' AS change FROM grants.audit_event
                WHERE action = 'programme.settings_changed' ORDER BY id DESC LIMIT 1
                """)[0]
            #expect(try details.decode(String.self, column: "actor") == "test_staff2")
            #expect(try details.decode(String.self, column: "change") == "(not set) → 4010")
            // The same again changes nothing and records nothing.
            let events = try count(configuration, "grants.audit_event")
            _ = try connection.query(
                "SELECT * FROM grants_api.set_programme_settings('Kommunala partnerskap', '{\"sie_cost_account\": \"4010\"}', NULL)")
            #expect(try count(configuration, "grants.audit_event") == events)
        }
    }

    /// Retries stay retries through every path; something else under the same key lists the differences.
    @Test func retriesAndConflicts() async throws {
        try await TestGrants.withService(user: "test_staff") { service, configuration in
            try await seedRound(service, actor: "test_staff")
            let events = try count(configuration, "grants.audit_event")
            try await seedRound(service, actor: "test_staff")
            let contact = try await service.contacts.add(NewContact(organisation: "kisumu  county", name: "Achieng"), actor: "test_staff")
            #expect(try await service.contacts.add(NewContact(organisation: "Kisumu County", name: "Achieng"), actor: "test_staff") == contact)
            try await service.conflicts.declare(person: "Bertil ", organisation: "Kisumu\u{00A0}County", reason: "Board", actor: "test_staff")
            try await service.conflicts.declare(person: "bertil", organisation: "Kisumu County", reason: "Board", actor: "test_staff")
            #expect(try count(configuration, "grants.audit_event") == events + 2)
            let round = await libraryError {
                try await service.rounds.create(
                    NewRound(programme: "Kommunala partnerskap", name: "R1", budget: sek("20 000"), opensOn: day("2021-01-01")),
                    actor: "test_staff")
            }
            #expect(
                round
                    == .conflict(
                        entity: "round", key: "R1",
                        differences: [
                            Difference("budget", recorded: sek("10 000").swedish, given: sek("20 000").swedish),
                            Difference("opens_on", recorded: "none", given: "2021-01-01"),
                        ]))
            let erased = try await service.contacts.erase(contact.id, reason: "Asked", actor: "test_staff")
            #expect(try await service.contacts.erase(contact.id, reason: "Asked", actor: "test_staff") == erased)
            try await service.rounds.close("R1", actor: "test_staff")
            let again = await libraryError { try await service.rounds.close("R1", actor: "test_staff") }
            #expect(again == .invalidTransition(entity: "round", key: "R1", from: "closed", to: "closed"))
        }
    }
}
