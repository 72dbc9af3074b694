import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// Programme settings, and the exports against the official standards, reproducible bytes and the as-of state.
@Suite("Programme settings and export standards")
struct ExportStandardsTests {
    @Test func codeTablesMatchTheOfficialCodelists() throws {
        #expect(IATICodes.organisationType == (try Standards.codes("OrganisationType")))
        #expect(IATICodes.flowType == (try Standards.codes("FlowType")))
        #expect(IATICodes.financeType == (try Standards.codes("FinanceType")))
        #expect(IATICodes.aidType == (try Standards.codes("AidType")))
        #expect(IATICodes.collaborationType == (try Standards.codes("CollaborationType")))
        #expect(try Standards.codes("Sector").contains(publishingSettings.defaultSector ?? ""))
    }

    @Test func settingsAreCheckedStoredMergedAndAudited() async throws {
        try await TestGrants.withService { service, _ in
            var bad = ProgrammeSettings()
            bad.sieCostAccount = "69930"
            bad.flowType = "99"
            bad.aidType = "Z01"
            bad.giving360Prefix = "icld"
            bad.iatiPublisherRef = "SE-0"
            bad.funderRef = "SE-0"
            await #expect(throws: GrantsError.self) { try await service.programmes.set("P", settings: bad, actor: "anna") }
            do {
                try await service.programmes.set("P", settings: bad, actor: "anna")
            } catch let caught as GrantsError where caught.code == .invalidInput {
                let problems = caught.problems
                #expect(
                    Set(problems.map(\.location))
                        == ["sie_cost_account", "flow_type", "aid_type", "giving360_prefix", "iati_publisher_ref"])
            }
            #expect(try await service.programmes.list().isEmpty, "nothing written")
            // Set in two calls: the second keeps what the first set.
            var first = ProgrammeSettings()
            first.iatiPublisherRef = "SE-ON-4020000008"
            first.accrual = true
            first.sieLiabilityAccount = "2890"
            try await service.programmes.set("Kommunala partnerskap", settings: first, actor: "anna")
            var second = ProgrammeSettings()
            second.giving360Prefix = "360G-icld"
            let programme = try await service.programmes.set("Kommunala partnerskap", settings: second, actor: "bertil")
            #expect(programme.settings.iatiPublisherRef == "SE-ON-4020000008")
            #expect(programme.settings.giving360Prefix == "360G-icld")
            #expect(programme.settings.accrual == true)
            #expect(programme.settingsUpdatedBy == "bertil")
            #expect(try await service.programmes.show("Kommunala partnerskap") == programme)
            // The funder cannot become the publisher's identifier afterwards either.
            var funder = ProgrammeSettings()
            funder.funderRef = "SE-ON-4020000008"
            await #expect(throws: GrantsError.self) {
                try await service.programmes.set("Kommunala partnerskap", settings: funder, actor: "anna")
            }
            let events = try await service.audit.list(entity: "programme").filter { $0.action == "programme.settings_changed" }
            #expect(events.count == 2)
            #expect(events.last?.details.contains("360G-icld") == true)
            // Setting the same again records nothing.
            try await service.programmes.set("Kommunala partnerskap", settings: second, actor: "bertil")
            #expect(try await service.audit.list(entity: "programme").filter { $0.action == "programme.settings_changed" }.count == 2)
            await #expect(throws: GrantsError.notFound(entity: "programme", key: "Nope")) { try await service.programmes.show("Nope") }
        }
    }

    @Test func exportsRefuseWithoutTheSettingsTheyNeed() async throws {
        try await TestGrants.withService { service, _ in
            try await service.rounds.record(sampleManifest(count: 1), actor: "anna")
            for (format, needed) in [
                (
                    DisbursementFormat.iati,
                    ["iati_publisher_ref", "iati_publisher_name", "iati_publisher_type", "funder_ref", "funder_name"]
                ),
                (.giving360, ["giving360_prefix", "iati_publisher_ref", "iati_publisher_name"]), (.sie, ["iati_publisher_name"]),
            ] {
                do {
                    _ = try await export(service, format, options: ExportOptions(generatedAt: fixedOptions.generatedAt))
                    Issue.record("\(format) ran without settings")
                } catch let caught as GrantsError where caught.code == .invalidInput {
                    let problems = caught.problems
                    #expect(problems.map(\.location) == needed, "\(format)")
                    #expect(problems.allSatisfy { $0.message.contains("Kommunala partnerskap") })
                }
            }
            // Accrual needs the liability account.
            var accrual = ProgrammeSettings()
            accrual.accrual = true
            accrual.iatiPublisherName = "ICLD"
            await #expect(
                throws: GrantsError.invalidInput([
                    Problem("sie_liability_account", "is not set for programme Kommunala partnerskap, and the sie export needs it")
                ])
            ) {
                _ = try await export(service, .sie, options: ExportOptions(overrides: accrual, generatedAt: fixedOptions.generatedAt))
            }
            // The run's overrides stand in for settings the programme does not have.
            let iati = try await export(
                service, .iati, options: ExportOptions(overrides: publishingSettings, generatedAt: fixedOptions.generatedAt))
            #expect(String(decoding: iati, as: UTF8.self).contains("<iati-identifier>SE-ON-4020000008-KP-1</iati-identifier>"))
            // A period in which nothing happened to any grant publishes nothing: refused, not an empty file.
            await #expect(throws: GrantsError.self) {
                _ = try await export(
                    service, .iati, filter: ReportFilter(from: day("2031-01-01")),
                    options: ExportOptions(overrides: publishingSettings, generatedAt: fixedOptions.generatedAt))
            }
            // Two programmes with different settings are never published under one of them.
            try await service.rounds.record(sampleManifest(count: 1, prefix: "OT").renamed(programme: "Other"), actor: "anna")
            var other = ProgrammeSettings()
            other.giving360Prefix = "360G-other"
            try await service.programmes.set("Other", settings: other, actor: "anna")
            do {
                _ = try await export(service, .giving360)
                Issue.record("one identity for two programmes")
            } catch let caught as GrantsError where caught.code == .invalidInput {
                let problems = caught.problems
                #expect(problems.map(\.location) == ["programme"])
            }
        }
    }

    @Test func giving360ValidatesAgainstTheOfficialSchema() async throws {
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            let json = try await export(service, .giving360)
            let text = String(decoding: json, as: UTF8.self)
            // Region Gotland has no organisationsnummer here: an id from its country and name, never a database key.
            #expect(text.contains("\"id\": \"360G-icld-ORG-SE-REGION-GOTLAND\""), "\(text.prefix(2000))")
            #expect(text.contains("\"id\": \"SE-ON-2120000662\""))
            #expect(text.contains("\"fundingOrganization\": [{\"id\": \"SE-ON-4020000008\", \"name\": \"ICLD\"}]"))
            let package = Standards.file("360giving/360-giving-package-schema.json")
            let grant = Standards.file("360giving/360-giving-schema.json")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("360-\(UUID().uuidString).json")
            try json.write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let result = try Standards.python(Standards.giving360Validator, [package.path, grant.path, file.path])
            #expect(result.status == 0 && result.output.hasSuffix("valid\n"), "\(result.output)")
            // The validator does refuse: the same file without a grant's id.
            let broken = text.replacingOccurrences(of: "{\"id\": \"360G-icld-KP-1\", ", with: "{")
            try Data(broken.utf8).write(to: file)
            let refused = try Standards.python(Standards.giving360Validator, [package.path, grant.path, file.path])
            #expect(refused.status == 1, "\(refused.output)")
        }
    }

    @Test func organisationIDsWithoutANumberAreStable() {
        #expect(
            Giving360Writer.organisationID(prefix: "360G-icld", country: "KE", name: "Kisumu County") == "360G-icld-ORG-KE-KISUMU-COUNTY")
        #expect(
            Giving360Writer.organisationID(prefix: "360G-icld", country: "ZM", name: "@Lusaka — Čech ŝ €")
                == "360G-icld-ORG-ZM-LUSAKA-CECH-S")
        #expect(
            Giving360Writer.organisationID(prefix: "360G-icld", country: "KE", name: "kisumu  county")
                == Giving360Writer.organisationID(prefix: "360G-icld", country: "KE", name: "Kisumu County"))
    }

    @Test func xlsxReadBackEqualsTheCSV() async throws {
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            let xlsx = try await export(service, .xlsx)
            #expect(Array(xlsx.prefix(4)) == [0x50, 0x4B, 0x03, 0x04], "a zip container, not CSV renamed")
            let csv = try await export(service, .csv)
            let folder = FileManager.default.temporaryDirectory
            let book = folder.appendingPathComponent("x-\(UUID().uuidString).xlsx")
            let table = folder.appendingPathComponent("x-\(UUID().uuidString).csv")
            try xlsx.write(to: book)
            try csv.write(to: table)
            defer {
                try? FileManager.default.removeItem(at: book)
                try? FileManager.default.removeItem(at: table)
            }
            let result = try Standards.python(Standards.xlsxReader, [book.path, table.path])
            #expect(result.status == 0 && result.output.contains("equal 7 rows"), "\(result.output)")
        }
    }

    @Test func everyFormatGivesTheSameBytesTwice() async throws {
        let epoch = ExportOptions.defaultGenerationTime(environment: ["SOURCE_DATE_EPOCH": "1700000000"])
        #expect(epoch == Date(timeIntervalSince1970: 1_700_000_000))
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            for format in DisbursementFormat.allCases {
                let first = try await export(service, format, options: ExportOptions(generatedAt: epoch))
                let second = try await export(service, format, options: ExportOptions(generatedAt: epoch))
                #expect(first == second, "\(format)")
                #expect(!first.isEmpty)
            }
        }
    }

    @Test func accrualBooksDecisionsAmendmentsPaymentsAndClosings() async throws {
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            var settings = ProgrammeSettings()
            settings.accrual = true
            settings.sieLiabilityAccount = "2890"
            settings.sieSeries = "B"
            try await service.programmes.set("Kommunala partnerskap", settings: settings, actor: "anna")
            try await service.grants.amend(
                "KP-1", amountChange: try sek("10 000").negated, reason: "Smaller workshop", on: .today, actor: "anna")
            try await service.grants.amend("KP-2", amountChange: sek("20 000"), reason: "Extra visit", on: .today, actor: "anna")
            // KP-2: one tranche paid and reversed; the others are cancelled, then the grant is closed.
            for row in try await service.disbursements.list()
            where row.grantReference == "KP-2" && [.scheduled, .attested].contains(row.status) {
                try await service.disbursements.cancel(row.id, on: .today, reason: "Closing", actor: "anna")
            }
            try await service.grants.close("KP-2", on: .today, actor: "anna")
            let file = try SIEReader(try await export(service, .sie))
            #expect(file.checksumVerified)
            for voucher in file.vouchers { #expect(voucher.sum == 0, "balanced") }
            #expect(file.records.filter { $0.label == "#VER" }.allSatisfy { $0.fields.first == "B" })
            let lines = file.vouchers.flatMap(\.lines)
            func balance(_ account: String, _ grant: String) -> Int64 {
                lines.filter { $0.account == account && $0.objects == ["6", grant] }.map(\.amount).reduce(0, +)
            }
            // KP-2 closed: nothing owed remains on the liability; its cost is what reached the grantee (0 net).
            #expect(balance("2890", "KP-2") == 0)
            #expect(balance("6993", "KP-2") == 0)
            // KP-1 open: decided 500 000, amended −10 000, paid 250 000: 240 000 still owed.
            #expect(balance("2890", "KP-1") == -24_000_000)
            #expect(balance("6993", "KP-1") == 49_000_000)
            #expect(lines.filter { $0.account == "1930" }.map(\.amount).reduce(0, +) == -25_000_000, "one payment net")
            // IATI: the amendments and the closing are commitments of their own.
            let iati = String(decoding: try await export(service, .iati), as: UTF8.self)
            #expect(iati.contains("<value currency=\"SEK\" value-date=\"\(CalendarDate.today.iso)\">-10000.00</value>"))
            #expect(iati.contains("<activity-status code=\"4\"/>"))
            let schema = Standards.file("iati-2.03/iati-activities-schema.xsd")
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("iati-\(UUID().uuidString).xml")
            try Data(iati.utf8).write(to: path)
            defer { try? FileManager.default.removeItem(at: path) }
            let result = try runTool(["xmllint", "--nonet", "--noout", "--schema", schema.path, path.path])
            #expect(result.status == 0, "\(result.output)")
            try Standards.checkIATICodes(iati)
        }
    }

    @Test func asOfExportsStayTheSameWhateverIsRecordedLater() async throws {
        try await TestGrants.withService { service, configuration in
            let manifest = sampleManifest(count: 2)
            try await service.rounds.record(manifest, actor: "anna")
            var settings = publishingSettings
            settings.accrual = true
            settings.sieLiabilityAccount = "2890"
            try await service.programmes.set(manifest.programme, settings: settings, actor: "anna")
            let rows = try await service.disbursements.list()
            try await service.disbursements.attest(rows[0].id, actor: "bertil")
            try await service.disbursements.attest(rows[2].id, actor: "bertil")
            try await service.disbursements.pay(rows[0].id, paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
            try await service.grants.amend("KP-1", amountChange: sek("5 000"), reason: "Interpreter", on: day("2022-02-15"), actor: "anna")
            // All of that was recorded on 2022-02-15 (the test moves the clock of what is recorded so far).
            let admin = try PGConnection(configuration: configuration)
            try admin.execute(
                unsafeScript: """
                    SET session_replication_role = replica;
                    UPDATE grants.allocation_round SET created_at = '2022-02-15 09:00Z';
                    UPDATE grants.grant SET created_at = '2022-02-15 09:00Z';
                    UPDATE grants.approval SET recorded_at = '2022-02-15 09:00Z';
                    UPDATE grants.grant_amendment SET amended_at = '2022-02-15 10:00Z';
                    UPDATE grants.disbursement SET scheduled_at = '2022-02-15 09:00Z',
                        attested_at = CASE WHEN attested_at IS NOT NULL THEN timestamptz '2022-02-15 09:30Z' END,
                        paid_at = CASE WHEN paid_at IS NOT NULL THEN timestamptz '2022-02-15 09:45Z' END;
                    RESET session_replication_role;
                    """)
            let asOf = ReportFilter(asOf: day("2022-02-28"))
            var before: [DisbursementFormat: Data] = [:]
            for format in DisbursementFormat.allCases { before[format] = try await export(service, format, filter: asOf) }
            let roundBefore = try await service.reports.round("2021:2", asOf: day("2022-02-28"))
            // Later: another payment, a reversal, a cancellation, an amendment.
            try await service.disbursements.pay(rows[2].id, paidOn: day("2022-03-10"), paymentReference: "P-3", actor: "bertil")
            try await service.disbursements.reverse(rows[0].id, on: day("2022-03-11"), reason: "Wrong account", actor: "cecilia")
            try await service.disbursements.cancel(rows[1].id, on: .today, reason: "Shortened", actor: "anna")
            try await service.grants.amend("KP-2", amountChange: try sek("1 000").negated, reason: "Smaller", on: .today, actor: "anna")
            for format in DisbursementFormat.allCases {
                let after = try await export(service, format, filter: asOf)
                #expect(after == before[format], "\(format) changed with later events")
            }
            #expect(try await service.reports.round("2021:2", asOf: day("2022-02-28")) == roundBefore)
            #expect(roundBefore.disbursed == sek("250 000"))
            #expect(roundBefore.awarded == sek("1 005 000"))
            // As things stand now, they do show.
            let now = String(decoding: try await export(service, .csv), as: UTF8.self)
            #expect(now.contains(",reversal,") && now.contains(",cancelled,"))
            let then = String(decoding: before[.csv] ?? Data(), as: UTF8.self)
            #expect(!then.contains(",reversal,") && !then.contains(",cancelled,"))
            #expect(then.contains(",2022-02-01,paid,250000.00,SEK,P-1\r\n") && then.contains(",attested,"))
            // IATI's last-updated-datetime is when the grant last changed, not the export's time.
            let iati = String(decoding: before[.iati] ?? Data(), as: UTF8.self)
            #expect(iati.contains("last-updated-datetime=\"2022-02-15T10:00:00Z\""), "\(iati.prefix(600))")
        }
    }

    @Test func knownAtLeavesOutARepaymentRecordedAfterItAndAsOfTakesItByItsDate() async throws {
        try await TestGrants.withService { service, configuration in
            let manifest = sampleManifest(count: 2)
            try await service.rounds.record(manifest, actor: "anna")
            var settings = publishingSettings
            settings.accrual = true
            settings.sieLiabilityAccount = "2890"
            try await service.programmes.set(manifest.programme, settings: settings, actor: "anna")
            let rows = try await service.disbursements.list().filter { $0.grantReference == "KP-1" }
            try await service.disbursements.attest(rows[0].id, actor: "bertil")
            try await service.disbursements.pay(rows[0].id, paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
            try await service.disbursements.cancel(rows[1].id, on: .today, reason: "Ends early", actor: "anna")
            // KP-1: 250 000 paid, 200 000 spent: a claim of 50 000, of which 30 000 came back on 2022-02-12.
            try await service.grants.settle("KP-1", spent: sek("200 000"), on: day("2022-02-10"), actor: "anna")
            try await service.repayments.receive(
                "KP-1", amount: sek("30 000"), on: day("2022-02-12"), paymentReference: "BG 1", actor: "bertil")
            // All of that was recorded on 2022-02-15.
            let admin = try PGConnection(configuration: configuration)
            try admin.execute(
                unsafeScript: """
                    SET session_replication_role = replica;
                    UPDATE grants.allocation_round SET created_at = '2022-02-15 09:00Z';
                    UPDATE grants.grant SET created_at = '2022-02-15 09:00Z';
                    UPDATE grants.approval SET recorded_at = '2022-02-15 09:00Z';
                    UPDATE grants.disbursement SET scheduled_at = '2022-02-15 09:00Z',
                        attested_at = CASE WHEN attested_at IS NOT NULL THEN timestamptz '2022-02-15 09:30Z' END,
                        paid_at = CASE WHEN paid_at IS NOT NULL THEN timestamptz '2022-02-15 09:45Z' END,
                        cancelled_at = CASE WHEN cancelled_at IS NOT NULL THEN timestamptz '2022-02-15 09:50Z' END;
                    UPDATE grants.settlement SET recorded_at = '2022-02-15 10:30Z';
                    UPDATE grants.repayment SET recorded_at = '2022-02-15 11:00Z';
                    RESET session_replication_role;
                    """)
            let knownAt = try #require(ISO8601DateFormatter().date(from: "2022-02-28T23:59:59Z"))
            let asOf = ReportFilter(asOf: day("2022-02-28"), knownAt: knownAt)
            var before: [DisbursementFormat: Data] = [:]
            for format in DisbursementFormat.allCases { before[format] = try await export(service, format, filter: asOf) }
            let roundBefore = try await service.reports.round("2021:2", asOf: day("2022-02-28"), knownAt: knownAt)
            // Later, 20 000 more, received on 2022-02-20 (before the cut) but recorded after it: not in the report
            // as it was known then.
            try await service.repayments.receive(
                "KP-1", amount: sek("20 000"), on: day("2022-02-20"), paymentReference: "BG 2", actor: "bertil")
            for format in DisbursementFormat.allCases {
                let after = try await export(service, format, filter: asOf)
                #expect(after == before[format], "\(format) changed with a later repayment")
            }
            #expect(try await service.reports.round("2021:2", asOf: day("2022-02-28"), knownAt: knownAt) == roundBefore)
            #expect(roundBefore.disbursed == sek("220 000") && roundBefore.repaid == sek("30 000"))
            // The books at the end of that business date take it: it is dated 2022-02-20, whenever it was recorded.
            let books = try await service.reports.round("2021:2", asOf: day("2022-02-28"))
            #expect(books.repaid == sek("50 000") && books.claimedOpen == Money.zero(.sek))
            let dated = String(decoding: try await export(service, .csv, filter: ReportFilter(asOf: day("2022-02-28"))), as: UTF8.self)
            #expect(dated.contains(",2022-02-20,2022-02-20,repayment,-20000.00,SEK,BG 2\r\n"))
            #expect(roundBefore.claimedOpen == sek("20 000"))
            let then = String(decoding: before[.csv] ?? Data(), as: UTF8.self)
            #expect(then.contains(",2022-02-12,2022-02-12,repayment,-30000.00,SEK,BG 1\r\n"), "\(then)")
            #expect(!then.contains("BG 2"))
            let now = String(decoding: try await export(service, .csv), as: UTF8.self)
            #expect(now.contains(",2022-02-20,2022-02-20,repayment,-20000.00,SEK,BG 2\r\n"))
            // SIE as of then: the claim (50 000) is a receivable against cost on the settlement's day; the repayment
            // clears it against the bank on its own day.
            let sie = try SIEReader(before[.sie] ?? Data())
            for voucher in sie.vouchers { #expect(voucher.sum == 0, "balanced") }
            let repaid = sie.vouchers.filter { $0.lines.first?.account == "1930" }
            #expect(repaid.count == 1 && repaid.first?.lines.map(\.amount) == [3_000_000, -3_000_000])
            #expect(repaid.first?.lines.last?.account == "1689" && repaid.first?.lines.last?.objects == ["6", "KP-1"])
            let claim = sie.vouchers.filter { $0.lines.first?.account == "1689" }
            #expect(claim.count == 1 && claim.first?.lines.map(\.amount) == [5_000_000, -5_000_000])
            #expect(sie.records.contains { $0.label == "#VER" && $0.fields.contains("20220210") })
            #expect(sie.records.contains { $0.label == "#VER" && $0.fields.contains("Återbetalning KP-1 Kommun 1, ref BG 1") })
            #expect(sie.value("#GEN") == ["20220228"], "the known-at moment is the generation time")
            #expect(sie.records.contains { $0.label == "#VER" && $0.fields.contains("20220212") })
            // IATI and 360Giving as of then: a negative disbursement of 30 000; KP-1 last changed when it was recorded.
            let iati = String(decoding: before[.iati] ?? Data(), as: UTF8.self)
            #expect(iati.contains("<value currency=\"SEK\" value-date=\"2022-02-12\">-30000.00</value>"))
            #expect(iati.contains("last-updated-datetime=\"2022-02-15T11:00:00Z\""), "\(iati.prefix(600))")
            #expect(!iati.contains("-20000.00"))
            let giving = String(decoding: before[.giving360] ?? Data(), as: UTF8.self)
            #expect(giving.contains("\"amountDisbursed\": 220000.00"), "\(giving)")
            #expect(giving.contains("\"value\": -30000.00, \"description\": \"Repayment by the grantee\""))
        }
    }

    @Test func iatiLinksTheGrantAGrantContinuesAsASibling() async throws {
        try await TestGrants.withService { service, _ in
            try await service.rounds.record(sampleManifest(round: "2020:1", budget: "2 000 000", count: 2, prefix: "E"), actor: "anna")
            var later = sampleManifest(round: "2021:2", count: 2, prefix: "L")
            later.grants[0].continues = "E-1"
            try await service.rounds.record(later, actor: "anna")
            let xml = try await export(service, .iati)
            let iati = String(decoding: xml, as: UTF8.self)
            let activities = iati.components(separatedBy: "<iati-activity ").dropFirst()
            let continuing = try #require(activities.first { $0.contains("<iati-identifier>SE-ON-4020000008-L-1</iati-identifier>") })
            // The earlier phase, under the identifier the same publisher gave it, after the transactions.
            #expect(
                continuing.contains(
                    "    </transaction>\n    <related-activity ref=\"SE-ON-4020000008-E-1\" type=\"3\"/>\n  </iati-activity>"))
            #expect(iati.components(separatedBy: "<related-activity ").count == 2, "only L-1 continues a grant")
            #expect(iati.contains("<iati-identifier>SE-ON-4020000008-E-1</iati-identifier>"), "the linked activity is published too")
            // A round of its own links to the earlier phase all the same: identifiers never change.
            let round = String(decoding: try await export(service, .iati, filter: ReportFilter(round: "2021:2")), as: UTF8.self)
            #expect(round.contains("<related-activity ref=\"SE-ON-4020000008-E-1\" type=\"3\"/>"))
            try Standards.checkIATICodes(iati)
            let schema = Standards.file("iati-2.03/iati-activities-schema.xsd")
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("iati-\(UUID().uuidString).xml")
            try xml.write(to: path)
            defer { try? FileManager.default.removeItem(at: path) }
            let result = try runTool(["xmllint", "--nonet", "--noout", "--schema", schema.path, path.path])
            #expect(result.status == 0, "\(result.output)")
        }
    }
}

extension RoundManifest {
    /// The same manifest for another programme.
    func renamed(programme: String) -> RoundManifest {
        var copy = self
        copy.programme = programme
        copy.round.programme = programme
        return copy
    }
}
