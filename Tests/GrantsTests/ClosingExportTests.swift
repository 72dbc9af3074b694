import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// The open-data exports when there is nothing to publish, the identifiers they publish under, the funder's
/// participating-org, and how a grant's closing reads in IATI and 360Giving.
@Suite("Open data: identities, empty exports and closings")
struct ClosingExportTests {
    static func validateIATI(_ xml: Data) throws -> (status: Int32, output: String) {
        let schema = Standards.file("iati-2.03/iati-activities-schema.xsd")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("iati-\(UUID().uuidString).xml")
        try xml.write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        return try runTool(["xmllint", "--nonet", "--noout", "--schema", schema.path, path.path])
    }

    static func validate360(_ json: Data) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("360-\(UUID().uuidString).json")
        try json.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try Standards.python(
            Standards.giving360Validator,
            [
                Standards.file("360giving/360-giving-package-schema.json").path, Standards.file("360giving/360-giving-schema.json").path,
                file.path,
            ])
    }

    @Test func anEmptyExportIsAValidFileOrRefusedNamingTheFilter() async throws {
        try await TestGrants.withService { service, _ in
            try await service.rounds.record(sampleManifest(count: 1), actor: "anna")
            try await service.rounds.create(
                NewRound(programme: "Kommunala partnerskap", name: "2030:1", budget: sek("1 000")), actor: "anna")
            let empty = ReportFilter(round: "2030:1")
            // IATI and 360Giving cannot be empty: exit 65 (invalid input), nothing written.
            for format in [DisbursementFormat.iati, .giving360] {
                await #expect(
                    throws: GrantsError.invalidInput([
                        Problem(
                            "filter",
                            "nothing to export: no grants in round 2030:1, and "
                                + (format == .iati
                                    ? "an IATI file holds at least one activity" : "a 360Giving package holds at least one grant"))
                    ])
                ) { _ = try await export(service, format, filter: empty) }
            }
            await #expect(throws: GrantsError.self) {
                _ = try await export(service, .iati, filter: ReportFilter(programme: "Kommunala partnerskap", asOf: day("2020-01-01")))
            }
            // The others are valid files of their format when empty.
            #expect(
                String(decoding: try await export(service, .csv, filter: empty), as: UTF8.self).components(separatedBy: "\r\n") == [
                    DisbursementRow.columns.joined(separator: ","), "",
                ])
            let json = try await export(service, .json, filter: empty)
            #expect((try JSONSerialization.jsonObject(with: json) as? [Any])?.isEmpty == true)
            let sie = try SIEReader(try await export(service, .sie, filter: empty))
            #expect(sie.checksumVerified && sie.vouchers.isEmpty)
            #expect(Array(try await export(service, .xlsx, filter: empty).prefix(2)) == [0x50, 0x4B])
            // A non-empty export still validates.
            #expect(try Self.validateIATI(try await export(service, .iati)).status == 0)
            #expect(try Self.validate360(try await export(service, .giving360)).status == 0)
        }
    }

    @Test func seOnIdentifiersCarryAValidOrganisationsnummer() throws {
        #expect(try OrganisationNumber(organisationID: "SE-ON-4020000008")?.value == "402000-0008")
        #expect(try OrganisationNumber(organisationID: "SE-0") == nil)
        #expect(throws: GrantsError.self) { _ = try OrganisationNumber(organisationID: "SE-ON-2021004358") }
        #expect(throws: GrantsError.self) { _ = try OrganisationNumber(organisationID: "SE-ON-212000014") }
        #expect(throws: GrantsError.self) { _ = try OrganisationNumber(organisationID: "SE-ON-5501011234") }  // digits 3-4 < 20
        for (ref, valid) in [
            ("SE-ON-4020000008", true), ("SE-ON-2021004359", true), ("SE-ON-2021004358", false), ("SE-ON-20210043590", false),
            ("SE-ON-212000-0142", false), ("SE-0", true), ("XM-DAC-41114", true),
        ] {
            var settings = ProgrammeSettings()
            settings.iatiPublisherRef = ref
            #expect(settings.problems().isEmpty == valid, "\(ref)")
            var funder = ProgrammeSettings()
            funder.funderRef = ref
            #expect(funder.problems().isEmpty == valid, "\(ref)")
        }
    }

    @Test func theDatabaseRefusesAnInvalidSeOnIdentifierFromAStaffLogin() async throws {
        try await TestGrants.withService(user: "test_staff") { service, configuration in
            await #expect(throws: GrantsError.self) {
                var settings = ProgrammeSettings()
                settings.iatiPublisherRef = "SE-ON-2021004358"
                try await service.programmes.set("Kommunala partnerskap", settings: settings, actor: "test_staff")
            }
            // At a psql prompt, as a staff login, past the Swift check.
            var login = configuration
            login["user"] = "test_staff2"
            let staff = try PGConnection(configuration: login)
            for (field, value) in [
                ("iati_publisher_ref", "SE-ON-2021004358"), ("funder_ref", "SE-ON-1234567890"), ("iati_publisher_ref", "SE-ON-21200001420"),
                ("funder_type", "99"), ("iati_publisher_type", "12"),
            ] {
                do {
                    _ = try staff.query(
                        "SELECT * FROM grants_api.set_programme_settings('Kommunala partnerskap', \(#"{"\#(field)": "\#(value)"}"#)::jsonb, NULL)"
                    )
                    Issue.record("\(field) \(value) was accepted")
                } catch {
                    #expect("\(error)".contains(value), "\(error)")
                }
            }
            _ = try staff.query(
                "SELECT * FROM grants_api.set_programme_settings('Kommunala partnerskap', \(#"{"iati_publisher_ref": "SE-ON-4020000008", "funder_type": "10", "iati_publisher_type": "22"}"#)::jsonb, NULL)"
            )
            #expect(try await service.programmes.show("Kommunala partnerskap").settings.iatiPublisherRef == "SE-ON-4020000008")
            // Every code of the Swift codelist passes the database's.
            for code in IATICodes.organisationType.sorted() {
                _ = try staff.query(
                    "SELECT * FROM grants_api.set_programme_settings('Kommunala partnerskap', jsonb_build_object('funder_type', \(code)::text), NULL)"
                )
            }
        }
    }

    @Test func theFundersParticipatingOrgCarriesItsTypeAndActivity() async throws {
        try await TestGrants.withService { service, _ in
            try await service.rounds.record(sampleManifest(count: 1), actor: "anna")
            var settings = publishingSettings
            settings.funderType = "10"
            settings.funderActivityID = "SE-0-SE-6-EXAMPLE-1"
            let xml = try await export(service, .iati, options: ExportOptions(overrides: settings, generatedAt: fixedOptions.generatedAt))
            #expect(
                String(decoding: xml, as: UTF8.self).contains(
                    "<participating-org role=\"1\" ref=\"SE-0\" type=\"10\" activity-id=\"SE-0-SE-6-EXAMPLE-1\"><narrative>Sida</narrative>"
                ))
            let result = try Self.validateIATI(xml)
            #expect(result.status == 0, "\(result.output)")
            for bad in ["SE-0 SE-6", "SE-0/1", "SE-0-a&b", "SE-0-a|b", "SE-0-a?b", "sida-1"] {
                var funder = ProgrammeSettings()
                funder.funderActivityID = bad
                #expect(funder.problems().map(\.location) == ["funder_activity_id"], "\(bad)")
            }
            var type = ProgrammeSettings()
            type.funderType = "12"
            #expect(type.problems().map(\.location) == ["funder_type"])
        }
    }

    /// KP-1: 500 000 decided, +20 000 amended, 260 000 paid (one tranche of 250 000 and one of 10 000), 10 000 of
    /// it reversed, the rest cancelled; settled with 200 000 spent (a claim of 50 000), 30 000 repaid, closed with
    /// 20 000 written off: 270 000 never paid out.
    @Test func aClosedGrantReadsTheSameInIATIAnd360Giving() async throws {
        try await TestGrants.withService { service, _ in
            try await service.rounds.record(sampleManifest(count: 2), actor: "anna")
            try await service.programmes.set("Kommunala partnerskap", settings: publishingSettings, actor: "anna")
            try await service.grants.amend("KP-1", amountChange: sek("20 000"), reason: "Interpreter", on: .today, actor: "anna")
            let rows = try await service.disbursements.list().filter { $0.grantReference == "KP-1" }
            try await service.disbursements.attest(rows[0].id, actor: "bertil")
            try await service.disbursements.pay(rows[0].id, paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
            try await service.disbursements.cancel(rows[1].id, on: .today, reason: "Ends early", actor: "anna")
            let extra = try await service.disbursements.schedule("KP-1", amount: sek("10 000"), dueOn: day("2022-03-01"), actor: "anna")
            try await service.disbursements.attest(extra.id, actor: "bertil")
            try await service.disbursements.pay(extra.id, paidOn: day("2022-03-02"), paymentReference: "P-2", actor: "bertil")
            try await service.disbursements.reverse(extra.id, on: day("2022-03-05"), reason: "Twice", actor: "cecilia")
            try await service.grants.settle("KP-1", spent: sek("200 000"), on: day("2022-06-01"), actor: "anna")
            try await service.repayments.receive(
                "KP-1", amount: sek("30 000"), on: day("2022-06-10"), paymentReference: "BG 1", actor: "bertil")
            let closed = try await service.grants.close("KP-1", on: day("2022-06-30"), writeOff: "Not worth collecting", actor: "anna")
            #expect(closed.reclaimed == sek("270 000"))
            let report = try await service.reports.round("2021:2")
            let xml = try await export(service, .iati)
            let result = try Self.validateIATI(xml)
            #expect(result.status == 0, "\(result.output)")
            let iati = String(decoding: xml, as: UTF8.self)
            try Standards.checkIATICodes(iati)
            let activity = try #require(iati.components(separatedBy: "<iati-activity ").first { $0.contains("-KP-1</iati-identifier>") })
            func sum(_ type: Int) throws -> Int64 {
                let pattern = try Regex(
                    "<transaction-type code=\"\(type)\"/>\\s*<transaction-date iso-date=\"[0-9-]+\"/>\\s*<value [^>]*>(-?[0-9.]+)</value>")
                return try activity.matches(of: pattern).map { try AmountParser.signed(String($0.output[1].substring ?? "")) }.reduce(0, +)
            }
            // Commitments after closing: 520 000 − 30 000 repaid − 270 000 never paid out = 220 000 = disbursed.
            #expect(try sum(2) == 22_000_000)
            #expect(try sum(3) == 22_000_000)
            #expect(report.disbursed.minorUnits == 22_000_000, "KP-2 paid nothing")
            #expect(activity.contains("<activity-status code=\"4\"/>"))
            #expect(activity.contains("<activity-date type=\"2\" iso-date=\"2022-01-01\"/>"))
            #expect(activity.contains("<activity-date type=\"4\" iso-date=\"2022-06-30\"/>"))
            // The original budgets stay; revised ones carry the final commitment, valued on the day of the last change.
            let revised = activity.matches(
                of: try Regex("<budget type=\"2\" status=\"2\">[^$]*?<value [^>]*>([0-9.]+)</value>"))
            #expect(try revised.map { try AmountParser.signed(String($0.output[1].substring ?? "")) }.reduce(0, +) == 22_000_000)
            let original = activity.matches(of: try Regex("<budget type=\"1\" status=\"2\">[^$]*?<value [^>]*>([0-9.]+)</value>"))
            #expect(try original.map { try AmountParser.signed(String($0.output[1].substring ?? "")) }.reduce(0, +) == 50_000_000)
            #expect(
                activity.contains(
                    "Closed on 2022-06-30: 270000.00 SEK of the award was never paid out and was released; of the 50000.00 SEK claimed back, 30000.00 SEK was repaid and 20000.00 SEK written off."
                ))
            #expect(
                activity.contains("<participating-org role=\"1\" ref=\"SE-0\"><narrative>Sida</narrative>"),
                "no type or activity without the settings")
            // KP-2, open and unchanged, has original budgets only and no actual dates.
            let open = try #require(iati.components(separatedBy: "<iati-activity ").first { $0.contains("-KP-2</iati-identifier>") })
            #expect(!open.contains("<budget type=\"2\"") && !open.contains("<activity-date type=\"4\""))
            // 360Giving: awarded after the amendment, disbursed net, actual dates, the same story.
            let json = try await export(service, .giving360)
            let valid = try Self.validate360(json)
            #expect(valid.status == 0, "\(valid.output)")
            let package = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            let grant = try #require((package["grants"] as? [[String: Any]])?.first { ($0["id"] as? String)?.hasSuffix("-KP-1") == true })
            #expect((grant["amountAwarded"] as? NSNumber)?.decimalValue == Decimal(520_000))
            #expect((grant["amountDisbursed"] as? NSNumber)?.decimalValue == Decimal(220_000))
            let actual = try #require((grant["actualDates"] as? [[String: Any]])?.first)
            #expect(actual["startDate"] as? String == "2022-01-01" && actual["endDate"] as? String == "2022-06-30")
            #expect((grant["description"] as? String)?.hasSuffix("30000.00 SEK was repaid and 20000.00 SEK written off.") == true)
        }
    }
}
