import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// ESC, CR, LF, DEL and U+202E (a bidi override) in every text a person gives are refused on every path: the
/// library (before the database), and the database API itself, called by hand by a staff login. The CLI's side
/// is in GrantsAdminTests (`ControlCharacterCommandTests`).
@Suite("Control characters refused on every path")
struct ControlCharacterTests {
    /// The characters, as SQL expressions and as Swift text.
    static let controls: [(sql: String, text: String, code: String)] = [
        ("chr(27)", "\u{1B}", "U+001B"), ("chr(13)", "\r", "U+000D"), ("chr(10)", "\n", "U+000A"), ("chr(127)", "\u{7F}", "U+007F"),
        ("chr(8238)", "\u{202E}", "U+202E"),
    ]

    /// Each API function that takes a free text, called with `BAD` in it: (login, location refused, SQL).
    static let calls: [(login: String, location: String, sql: String)] = [
        ("test_staff", "name_sv", "SELECT grants_api.add_theme('t-1', BAD, 'Theme', NULL)"),
        ("test_staff", "name", "SELECT grants_api.add_organisation(BAD, 'KE', NULL, NULL, 'other')"),
        ("test_staff", "name", "SELECT grants_api.create_round('Kommunala partnerskap', BAD, 100000, 'SEK', NULL, NULL, NULL)"),
        ("test_staff", "programme", "SELECT grants_api.create_round(BAD, '2030:1', 100000, 'SEK', NULL, NULL, NULL)"),
        (
            "test_staff", "funder_name",
            "SELECT grants_api.set_programme_settings('Kommunala partnerskap', jsonb_build_object('funder_name', BAD))"
        ),
        ("test_staff", "reason", "SELECT grants_api.declare_conflict('david', 'Växjö kommun', BAD)"),
        ("test_staff", "name", "SELECT grants_api.add_contact('Växjö kommun', BAD, NULL, NULL, NULL)"),
        ("test_staff", "role", "SELECT grants_api.add_contact('Växjö kommun', 'Eva', NULL, NULL, BAD)"),
        ("test_staff", "reason", "SELECT grants_api.erase_contact(1, BAD)"),
        (
            "test_staff", "title",
            """
            SELECT grants_api.submit_application('2021:2', NULL, 'KP-NEW', BAD, 'Växjö kommun', ARRAY['Kisumu County'],
                ARRAY['citizen-dialogue'], 'project', 100000, 'SEK', '2022-01-01', '2023-12-31', NULL, NULL)
            """
        ),
        ("test_staff", "decision_ref", "SELECT grants_api.approve('SUBMITTED', NULL, 100000, 'SEK', '2021-12-01', BAD, false, NULL)"),
        ("test_staff", "reason", "SELECT grants_api.reject('SUBMITTED', NULL, '2021-12-01', BAD, NULL)"),
        ("test_staff", "payment_reference", "SELECT grants_api.pay((SELECT max(id) FROM grants.disbursement), current_date, BAD)"),
        ("test_staff", "reason", "SELECT grants_api.cancel((SELECT max(id) FROM grants.disbursement), current_date, BAD)"),
        ("test_staff", "reason", "SELECT grants_api.reverse((SELECT min(id) FROM grants.disbursement), current_date, BAD)"),
        ("test_staff", "reason", "SELECT grants_api.amend('PAID', NULL, NULL, NULL, '2023-12-31', BAD, current_date, NULL, NULL)"),
        ("test_staff", "write_off", "SELECT grants_api.close('PAID', NULL, NULL, BAD, NULL)"),
        ("test_staff", "reason", "SELECT grants_api.requirement_return((SELECT max(id) FROM grants.reporting_requirement), BAD)"),
        ("test_staff", "reason", "SELECT grants_api.requirement_waive((SELECT max(id) FROM grants.reporting_requirement), BAD)"),
        ("test_staff", "payment_reference", "SELECT grants_api.receive_repayment('PAID', NULL, 100, 'SEK', current_date, BAD, NULL)"),
        ("test_staff", "name_en[0]", "SELECT grants_api.record_themes(ARRAY['t-2'], ARRAY['Tema'], ARRAY[BAD], ARRAY[NULL], NULL)"),
        (
            "test_staff", "name",
            "SELECT grants_api.record_organisations(ARRAY[BAD], ARRAY['KE'], ARRAY[NULL], ARRAY[NULL], ARRAY['other'], NULL)"
        ),
        ("test_service", "name", "SELECT grants_api.person_add('zed', BAD, 'anna')"),
    ]

    /// The text rule's refusal at `location`, or the organisation name rule's (an organisation's name is also
    /// kept apart from look-alikes, by `grants.organisation_name` and `OrganisationName`, which say it their way).
    static func refuses(_ message: String?, at location: String, _ code: String) -> Bool {
        guard let message else { return false }
        return message.hasPrefix("\(location): holds a control character \(code)")
            || message.hasPrefix("\(location): holds an invisible or control character (\(code))")
    }

    @Test func theDatabaseAPIRefusesThemForAStaffLogin() async throws {
        try await TestGrants.withService { service, configuration in
            try await AttackTests().populate(service)
            try await service.contacts.add(NewContact(organisation: "Växjö kommun", name: "Eva"), actor: "anna")
            let before = try AttackTests().tableCounts(configuration)
            for login in ["test_staff", "test_service"] {
                var connectAs = configuration
                connectAs["user"] = login
                let raw = try PGConnection(configuration: connectAs)
                for call in Self.calls where call.login == login {
                    for control in Self.controls {
                        let sql = call.sql.replacingOccurrences(of: "BAD", with: "('Kisumu' || \(control.sql) || 'County')")
                        let error = #expect(throws: PGError.self, "\(sql)") { try raw.execute(unsafeScript: sql) }
                        #expect(error?.sqlState?.rawValue == "GR008", "\(sql): \(String(describing: error))")
                        #expect(
                            Self.refuses(error?.message, at: call.location, control.code), "\(sql): \(error?.message ?? "accepted")")
                    }
                }
            }
            #expect(try AttackTests().tableCounts(configuration) == before, "nothing written")
        }
    }

    @Test func theLibraryRefusesThemBeforeTheDatabase() async throws {
        try await TestGrants.withService { service, configuration in
            try await AttackTests().populate(service)
            let before = try AttackTests().tableCounts(configuration)
            let paid = try await service.disbursements.list().first { $0.status == .paid }
            for control in Self.controls {
                let bad = "Kisumu\(control.text)County"
                let calls: [(String, () async throws -> Void)] = [
                    ("name_sv", { _ = try await service.themes.add(Theme(code: "t-1", nameSv: bad, nameEn: "T"), actor: "anna") }),
                    ("name", { _ = try await service.organisations.add(NewOrganisation(name: bad, country: "KE"), actor: "anna") }),
                    (
                        "reason",
                        {
                            _ = try await service.conflicts.declare(
                                person: "david", organisation: "Växjö kommun", reason: bad, actor: "anna")
                        }
                    ),
                    ("name", { _ = try await service.contacts.add(NewContact(organisation: "Växjö kommun", name: bad), actor: "anna") }),
                    ("name", { _ = try await service.persons.add("zed", name: bad, actor: "anna") }),
                    (
                        "reason",
                        { _ = try await service.disbursements.reverse(paid?.id ?? 0, on: day("2022-03-01"), reason: bad, actor: "bertil") }
                    ),
                    (
                        "name",
                        {
                            _ = try await service.rounds.create(
                                NewRound(programme: "Kommunala partnerskap", name: bad, budget: sek("1 000")), actor: "anna")
                        }
                    ),
                ]
                for (location, call) in calls {
                    do {
                        try await call()
                        Issue.record("\(location) with \(control.code) was accepted")
                    } catch let caught as GrantsError where caught.code == .invalidInput {
                        let problems = caught.problems
                        #expect(Self.refuses(problems.first?.description, at: location, control.code), "\(problems)")
                    }
                }
            }
            #expect(try AttackTests().tableCounts(configuration) == before, "nothing written")
        }
    }
}
