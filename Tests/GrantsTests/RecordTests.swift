import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("Recording a round")
struct RecordTests {
    @Test func recordAgainAddAndRefuseChanges() async throws {
        try await TestGrants.withService { service, configuration in
            let manifest = sampleManifest(count: 3)
            let first = try await service.rounds.record(manifest, actor: "anna")
            #expect(first.changed && first.roundCreated)
            #expect(first.created == ["KP-1", "KP-2", "KP-3"])
            #expect(first.round.awarded == sek("1 500 000"))
            #expect(first.themesCreated.sorted() == ["citizen-dialogue", "youth-participation"])
            let organisations = try count(configuration, "grants.organisation")

            let again = try await service.rounds.record(manifest, actor: "anna")
            #expect(!again.changed)
            #expect(again.unchanged.count == 3)
            #expect(try count(configuration, "grants.organisation") == organisations)

            var more = manifest
            more.grants += sampleManifest(count: 2, prefix: "NEW").grants
            let added = try await service.rounds.record(more, actor: "anna")
            #expect(added.created == ["NEW-1", "NEW-2"])
            #expect(added.unchanged.count == 3)
            #expect(added.round.grants == 5)

            var changed = more
            changed.round.budget = sek("10 000 000")
            changed.grants[1].amount = sek("600 000")
            changed.grants[1].requested = sek("600 000")
            changed.grants[1].tranches = [Tranche(dueOn: day("2022-01-31"), amount: sek("600 000"))]
            changed.grants[2].partners[0].name = "Another County"
            changed.grants.append(sampleManifest(count: 1, prefix: "LATE").grants[0])
            let before = try snapshot(configuration)
            let error = await #expect(throws: GrantsError.self) { try await service.rounds.record(changed, actor: "anna") }
            guard let differences = conflictDifferences(error) else {
                Issue.record("got \(String(describing: error))")
                return
            }
            let places = differences.map(\.location)
            #expect(places.contains("round.budget"))
            #expect(places.contains { $0.hasPrefix("grants[1].amount") })
            #expect(places.contains { $0.hasPrefix("grants[1].tranches") })
            #expect(places.contains { $0.hasPrefix("grants[2].partners") })
            #expect(try snapshot(configuration) == before, "nothing written")
        }
    }

    /// A large round into fresh tables: the planner's statistics are refreshed right after it commits (as the
    /// staff role, through the SECURITY DEFINER function), so the first reads of it get sane plans.
    @Test func aLargeRecordRefreshesPlannerStatistics() async throws {
        try await TestGrants.withService(user: "test_staff") { service, configuration in
            let admin = try PGConnection(configuration: configuration)
            func estimatedGrants() throws -> Double {
                Double(
                    try admin.query("SELECT reltuples::int8 FROM pg_class WHERE oid = 'grants.grant'::regclass")[0].decode(
                        Int64.self, column: 0))
            }
            // A person's own login acts as itself.
            try await service.rounds.record(sampleManifest(round: "small", count: 3, amount: "1 000", prefix: "S"), actor: "test_staff")
            #expect(try estimatedGrants() < 3, "no ANALYZE for a small record")
            let large = sampleManifest(budget: "1 000 000 000", count: Rounds.statisticsThreshold, amount: "1 000")
            try await service.rounds.record(large, actor: "test_staff")
            #expect(try estimatedGrants() >= Double(Rounds.statisticsThreshold), "ANALYZE ran after the large record")
        }
    }

    @Test func dryRunWritesNothing() async throws {
        try await TestGrants.withService { service, configuration in
            let summary = try await service.rounds.record(sampleManifest(count: 4), actor: "anna", dryRun: true)
            #expect(summary.dryRun && summary.created.count == 4)
            #expect(summary.round.awarded == sek("2 000 000"))
            #expect(try count(configuration, "grants.grant") == 0)
            #expect(try count(configuration, "grants.allocation_round") == 0)
            #expect(try count(configuration, "grants.audit_event") == 0)
        }
    }

    @Test func unknownThemesAndBudgetAreRefusedWithLocations() async throws {
        try await TestGrants.withService { service, configuration in
            var unknown = sampleManifest(count: 2)
            unknown.themes = [dialogue]
            let error = await #expect(throws: GrantsError.self) { try await service.rounds.record(unknown, actor: "anna") }
            guard let problems = invalidProblems(error) else {
                Issue.record("got \(String(describing: error))")
                return
            }
            #expect(problems.map(\.location) == ["grants[0].themes", "grants[1].themes"])
            #expect(problems[0].message.contains("youth-participation"))

            let over = sampleManifest(budget: "1 000 000", count: 3)
            let budget = await #expect(throws: GrantsError.self) { try await service.rounds.record(over, actor: "anna") }
            guard let overProblems = invalidProblems(budget) else {
                Issue.record("got \(String(describing: budget))")
                return
            }
            #expect(overProblems.contains { $0.location == "grants" && $0.message.contains("500\u{00A0}000") })
            #expect(try count(configuration, "grants.grant") == 0)

            // Additions that pass the budget together with what is recorded are refused by amount.
            try await service.rounds.record(sampleManifest(budget: "1 000 000", count: 2), actor: "anna")
            var more = sampleManifest(budget: "1 000 000", count: 0)
            more.grants = sampleManifest(count: 1, amount: "0,01", prefix: "X").grants.map {
                var g = $0
                g.tranches = [Tranche(dueOn: g.startsOn, amount: g.amount)]
                return g
            }
            let excess = await #expect(throws: GrantsError.self) { try await service.rounds.record(more, actor: "anna") }
            guard excess?.code == .budgetExceeded, let by = excess?.amount else {
                Issue.record("got \(String(describing: excess))")
                return
            }
            #expect(by == sek("0,01"))
        }
    }

    func snapshot(_ configuration: PGConfiguration) throws -> [Int64] {
        try [
            "grants.programme", "grants.allocation_round", "grants.organisation", "grants.theme", "grants.application",
            "grants.grant", "grants.disbursement", "grants.audit_event",
        ].map { try count(configuration, $0) }
    }
}

@Suite("Manifest files")
struct ManifestFileTests {
    let yaml = """
        programme: Kommunala partnerskap
        round:
          name: "2021:2"
          budget: "10 641 000"
          decided_on: 2021-12-01
        themes:
          - {code: citizen-dialogue, name_sv: Medborgardialog, name_en: Citizen dialogue, dac_sector: "15150"}
        grants:
          - reference: KP-2021-2-01
            title: Medborgardialog i Växjö och Kisumu
            applicant: {name: Växjö kommun, org_number: 212000-0662, kind: municipality}
            partners:
              - {name: Kisumu County, country: KE, kind: region}
            themes: [citizen-dialogue]
            requested: "1 000 000"
            amount: "950 000"
            period: {start: 2022-01-01, end: 2023-12-31}
            tranches:
              - {due: 2022-01-31, amount: "475 000"}
              - {due: 2023-01-31, amount: "475 000"}
        """

    /// `yaml` as JSON.
    let json = """
        {"programme": "Kommunala partnerskap",
         "round": {"name": "2021:2", "budget": "10 641 000", "decided_on": "2021-12-01"},
         "themes": [{"code": "citizen-dialogue", "name_sv": "Medborgardialog", "name_en": "Citizen dialogue", "dac_sector": "15150"}],
        \t"grants": [{"reference": "KP-2021-2-01", "title": "Medborgardialog i V\\u00e4xj\\u00f6 och Kisumu",
         "applicant": {"name": "Växjö kommun", "org_number": "212000-0662", "kind": "municipality"},
         "partners": [{"name": "Kisumu County", "country": "KE", "kind": "region"}],
         "themes": ["citizen-dialogue"], "requested": "1 000 000", "amount": "950 000",
         "period": {"start": "2022-01-01", "end": "2023-12-31"},
         "tranches": [{"due": "2022-01-31", "amount": "475 000"}, {"due": "2023-01-31", "amount": "475 000"}]}]}
        """

    /// Recorded from JSON, the round is exactly what the YAML twin records: recording the YAML after it changes nothing.
    @Test func aJsonManifestRecordsWhatItsYamlTwinRecords() async throws {
        try await TestGrants.withService { service, _ in
            let first = try await service.rounds.record(try RoundManifest.parse(Data(json.utf8), fileName: "r.json"), actor: "anna")
            #expect(first.created == ["KP-2021-2-01"])
            let again = try await service.rounds.record(try RoundManifest.parse(Data(yaml.utf8), fileName: "r.yaml"), actor: "anna")
            #expect(!again.changed)
            #expect(again.unchanged == ["KP-2021-2-01"])
            let recorded = try await service.grants.get("KP-2021-2-01")
            #expect(recorded.grant.committed == sek("950 000"))
            #expect(recorded.disbursements.map(\.amount) == [sek("475 000"), sek("475 000")])
        }
    }

    @Test func yamlAndJsonGiveTheSameManifest() throws {
        let fromYAML = try RoundManifest.parse(Data(yaml.utf8), fileName: "r.yaml")
        #expect(fromYAML.grants.count == 1)
        #expect(fromYAML.grants[0].amount == sek("950 000"))
        #expect(fromYAML.grants[0].requested == sek("1 000 000"))
        #expect(fromYAML.grants[0].applicant.orgNumber?.value == "212000-0662")
        let fromJSON = try RoundManifest.parse(Data(json.utf8), fileName: "r.json")
        // The same manifest, from other lines of other files.
        func withoutLines(_ manifest: RoundManifest) -> RoundManifest {
            var manifest = manifest
            manifest.grants = manifest.grants.map { grant in
                var grant = grant
                grant.location = ManifestLocation(base: grant.location.base, style: grant.location.style)
                return grant
            }
            return manifest
        }
        #expect(withoutLines(fromJSON) == withoutLines(fromYAML))
    }

    func problems(_ text: String, file: String = "r.yaml") -> [Problem] {
        do {
            _ = try RoundManifest.parse(Data(text.utf8), fileName: file)
            return []
        } catch {
            guard let problems = invalidProblems(error) else { return [Problem("?", "\(error)")] }
            return problems
        }
    }

    @Test func everyProblemIsReportedWithItsPlace() {
        let broken =
            yaml
            .replacingOccurrences(of: "amount: \"950 000\"", with: "amount: \"950,000\"")
            .replacingOccurrences(of: "212000-0662", with: "212000-0663")
            .replacingOccurrences(of: "requested:", with: "requestd:")
            .replacingOccurrences(of: "end: 2023-12-31", with: "end: 2021-12-31")
        let found = problems(broken)
        let places = Set(found.map(\.location))
        #expect(places.contains("grants[0].amount"), "\(found)")
        #expect(places.contains("grants[0].applicant.org_number"), "\(found)")
        #expect(places.contains("grants[0].requestd"), "\(found)")
        #expect(found.count >= 3)
        let period = problems(yaml.replacingOccurrences(of: "end: 2023-12-31", with: "end: 2021-12-31"))
        #expect(period.contains { $0.location == "grants[0].period.end" }, "\(period)")
        #expect(period.contains { $0.location == "grants[0].tranches[0].due" }, "\(period)")
        let sums = problems(
            yaml.replacingOccurrences(of: "{due: 2023-01-31, amount: \"475 000\"}", with: "{due: 2023-01-31, amount: \"474 999\"}"))
        #expect(sums.contains { $0.location == "grants[0].tranches" }, "\(sums)")
        let twice = problems(yaml + "\n" + yaml.components(separatedBy: "grants:\n")[1])
        #expect(twice.contains { $0.location == "grants[1].reference" && $0.message.contains("twice") }, "\(twice)")
    }

    @Test func hostileFilesAreRefused() {
        let alias = problems("a: &x [1]\nb: *x")
        #expect(alias.first?.message.contains("aliases") == true, "\(alias)")
        let bomb = "a: &a [\"x\",\"x\"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: &d [*c,*c]\ne: [*d,*d]"
        #expect(problems(bomb).first?.message.contains("aliases") == true)
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(!problems(deep).isEmpty)
        #expect(!problems("programme: x\u{0}").isEmpty)
        var invalid = Data(yaml.utf8)
        invalid[10] = 0xFF
        let utf8Problem: (any Error)? = {
            do {
                _ = try RoundManifest.parse(invalid, fileName: "r.yaml")
                return nil
            } catch { return error }
        }()
        #expect(utf8Problem.map { "\($0)" }?.contains("UTF-8") == true)
        let huge = Data(count: ManifestLimits.maximumFileSize + 1)
        let sizeProblem: (any Error)? = {
            do {
                _ = try RoundManifest.parse(huge, fileName: "r.yaml")
                return nil
            } catch { return error }
        }()
        #expect(sizeProblem.map { "\($0)" }?.contains("64 MiB") == true)
        #expect(!problems("[1, 2").isEmpty)
        #expect(!problems("programme: [unterminated").isEmpty)
        let long = yaml.replacingOccurrences(of: "Medborgardialog i Växjö och Kisumu", with: String(repeating: "å", count: 1001))
        #expect(problems(long).contains { $0.location == "grants[0].title" })
    }

    @Test func csvGrantLists() throws {
        let round = CSVRoundParameters(
            programme: "Kommunala partnerskap", round: "2021:2", budget: sek("10 641 000"), decidedOn: day("2021-12-01"))
        let csv =
            "\u{FEFF}reference;title;applicant;applicant_org_number;partners;partner_countries;themes;phase;amount;start;end\r\n"
            + "KP-1;\"Dialog; \"\"Växjö\"\"\";Växjö kommun;212000-0662;Kisumu County|Homa Bay;KE;citizen-dialogue;project;950 000;2022-01-01;2023-12-31\r\n"
            + "KP-2;;Region Gotland;;Zomba|Lilongwe;MW|MW;citizen-dialogue|health;inception;\"1 000,50\";2022-01-01;2022-06-30\r\n"
        let manifest = try RoundManifest.parse(Data(csv.utf8), fileName: "grants.csv", csvRound: round)
        #expect(manifest.grants.count == 2)
        #expect(manifest.grants[0].title == "Dialog; \"Växjö\"")
        #expect(manifest.grants[0].partners.map(\.country) == ["KE", "KE"])
        #expect(manifest.grants[1].amount == sek("1 000,50"))
        #expect(manifest.grants[1].phase == .inception)
        #expect(manifest.grants[1].applicant.kind == .region)

        let bad =
            "reference,applicant,partners,partner_countries,themes,amount,start,end,colour\nKP-1,X,Y,KE,t,\"1,000\",2022-01-01,2021-01-01,red\n"
        do {
            _ = try RoundManifest.parse(Data(bad.utf8), fileName: "g.csv", csvRound: round)
            Issue.record("accepted")
        } catch {
            guard let problems = invalidProblems(error) else {
                Issue.record("\(error)")
                return
            }
            #expect(problems.contains { $0.location == "line 1, column 9" && $0.message.contains("colour") }, "\(problems)")
        }
        let wrongAmount =
            "reference,applicant,partners,partner_countries,themes,amount,start,end\nKP-1,X,Y,KE,t,\"1,000\",2022-01-01,2021-01-01\n"
        do {
            _ = try RoundManifest.parse(Data(wrongAmount.utf8), fileName: "g.csv", csvRound: round)
            Issue.record("accepted")
        } catch {
            guard let problems = invalidProblems(error) else {
                Issue.record("\(error)")
                return
            }
            #expect(problems.contains { $0.location == "line 2, column amount" }, "\(problems)")
        }
    }
}
