import Foundation
import Grants
import PGClient
import Synchronization
import TestSeeds
import TestSupport
import Testing

/// Collects an export in memory (tests only; real exports stream to a file or stdout).
func export(
    _ service: GrantsService, _ format: DisbursementFormat, filter: ReportFilter = ReportFilter(), options: ExportOptions = fixedOptions
) async throws -> Data {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)").path
    let output = try ReportOutput.file(at: path)
    try await service.reports.disbursements(filter, format: format, options: options, to: output)
    try output.commit()
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try Data(contentsOf: URL(fileURLWithPath: path))
}

/// What a programme publishing IATI and 360Giving data sets (the publisher's number is the README's example, assigned to no one).
let publishingSettings: ProgrammeSettings = {
    var settings = ProgrammeSettings()
    settings.iatiPublisherRef = "SE-ON-4020000008"
    settings.iatiPublisherName = "ICLD"
    settings.iatiPublisherType = "22"
    settings.funderRef = "SE-0"
    settings.funderName = "Sida"
    settings.giving360Prefix = "360G-icld"
    settings.defaultSector = "15112"
    settings.flowType = "10"
    settings.financeType = "110"
    settings.aidType = "C01"
    settings.collaborationType = "1"
    return settings
}()

/// A fixed generation time, and the publishing settings as the run's overrides (tests that need the
/// programme's own settings, or their absence, pass options of their own).
let fixedOptions = ExportOptions(overrides: publishingSettings, generatedAt: Date(timeIntervalSince1970: 1_700_000_000))

/// A round with one paid, one reversed, one attested, one cancelled and one scheduled disbursement.
func recordPayments(_ service: GrantsService) async throws {
    var manifest = sampleManifest(count: 2)
    manifest.grants[0].applicant = NewOrganisation(
        name: "Växjö kommun", country: "SE", orgNumber: try OrganisationNumber("212000-0662"), kind: .municipality)
    manifest.grants[0].title = "=cmd|' /C calc'!A0 \"Dialog\", Växjö; Kisumu"
    manifest.grants[1].applicant = NewOrganisation(name: "Region Gotland", country: "SE", kind: .region)
    manifest.grants[1].partners = [NewOrganisation(name: "@Lusaka — Čech ŝ €", country: "ZM")]
    try await service.rounds.record(manifest, actor: "anna")
    try await service.programmes.set(manifest.programme, settings: publishingSettings, actor: "anna")
    let rows = try await service.disbursements.list()
    for d in rows { try await service.disbursements.attest(d.id, actor: "bertil") }
    try await service.disbursements.pay(rows[0].id, paidOn: day("2022-02-01"), paymentReference: "+46 BG 5050-1055", actor: "bertil")
    try await service.disbursements.pay(rows[1].id, paidOn: day("2022-02-02"), paymentReference: "P-2", actor: "bertil")
    try await service.disbursements.reverse(rows[1].id, on: day("2022-02-10"), reason: "Wrong account", actor: "cecilia")
    try await service.disbursements.cancel(rows[2].id, on: .today, reason: "Shortened", actor: "anna")
    try await service.disbursements.schedule("KP-2", amount: sek("1 000"), dueOn: day("2023-06-01"), actor: "anna")
}

@Suite("Finance exports")
struct ReportTests {
    @Test func csvHeaderAndRowsExactly() async throws {
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            let csv = String(decoding: try await export(service, .csv), as: UTF8.self)
            let lines = csv.components(separatedBy: "\r\n")
            #expect(
                lines[0]
                    == "disbursement_id,programme,round,grant_reference,recipient,recipient_org_number,partners,partner_countries,themes,due_on,paid_on,status,amount,currency,payment_reference"
            )
            #expect(lines.last == "", "ends with CRLF")
            #expect(lines.count == 1 + 6 + 1)
            #expect(
                lines[1]
                    == "1,Kommunala partnerskap,2021:2,KP-1,Växjö kommun,212000-0662,Partner County 1|Ward 0,KE|ZM,citizen-dialogue|youth-participation,2022-01-31,2022-02-01,paid,250000.00,SEK,+46 BG 5050-1055"
            )
            #expect(
                lines[2]
                    == "3,Kommunala partnerskap,2021:2,KP-2,Region Gotland,,@Lusaka — Čech ŝ €,ZM,citizen-dialogue|youth-participation,2022-01-31,2022-02-02,paid,250000.00,SEK,P-2"
            )
            #expect(
                lines[3]
                    == "5,Kommunala partnerskap,2021:2,KP-2,Region Gotland,,@Lusaka — Čech ŝ €,ZM,citizen-dialogue|youth-participation,2022-02-10,2022-02-10,reversal,-250000.00,SEK,P-2"
            )
            #expect(lines[4].hasSuffix(",2023-01-31,,cancelled,250000.00,SEK,"))
            #expect(lines[6].hasSuffix(",2023-06-01,,scheduled,1000.00,SEK,"))
            // The same data gives the same bytes.
            #expect(try await export(service, .csv) == Data(csv.utf8))
        }
    }

    @Test func excelVariantBytes() async throws {
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            let bytes = try await export(service, .csvExcel)
            #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
            let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
            let lines = text.components(separatedBy: "\r\n")
            #expect(lines[0].hasPrefix("disbursement_id;programme;round;"))
            #expect(lines[1].contains(";paid;250000,00;SEK;'+46 BG 5050-1055"), "\(lines[1])")
            #expect(lines[3].contains(";reversal;-250000,00;SEK;"))
            #expect(!text.contains("\u{2212}"))
        }
    }

    /// The CSV is written from the server's cells without making the rows (`DisbursementRow.CSVEncoder`); read
    /// back by Python's csv module, each cell of both variants must be the row the library decodes, with quotes,
    /// separators and formula leaders in names, partners and payment references. Fails if a cell is quoted,
    /// escaped, neutralised or placed differently from the decoded row.
    @Test func csvCellsAreTheDecodedRowsByAnIndependentReader() async throws {
        try await TestGrants.withService { service, _ in
            var manifest = sampleManifest(count: 3)
            manifest.grants[0].applicant = NewOrganisation(name: "Kommun \"Norra\", Syd; Väst", country: "SE", kind: .municipality)
            manifest.grants[0].partners = [
                NewOrganisation(name: "@Lusaka", country: "ZM"), NewOrganisation(name: "Ward, \"7\"; Öst", country: "KE"),
            ]
            manifest.grants[1].applicant = NewOrganisation(name: "=SUM(A1)", country: "SE", kind: .municipality)
            manifest.grants[1].partners = [
                NewOrganisation(name: "Plain ward", country: "KE"), NewOrganisation(name: "+Plus", country: "TZ"),
            ]
            manifest.grants[2].applicant = NewOrganisation(name: "-Minus kommun", country: "SE", kind: .municipality)
            manifest.grants[2].partners = [NewOrganisation(name: "-Ward 9", country: "UG")]
            try await service.rounds.record(manifest, actor: "anna")
            let listed = try await service.disbursements.list()
            for (d, reference) in zip(listed, ["\"quoted\"", "-neg;1", "a,b", "=1+1"]) {
                try await service.disbursements.attest(d.id, actor: "bertil")
                try await service.disbursements.pay(d.id, paidOn: day("2022-02-01"), paymentReference: reference, actor: "bertil")
            }
            try await service.disbursements.reverse(listed[0].id, on: day("2022-02-10"), reason: "Wrong account", actor: "cecilia")
            let collected = Mutex<[DisbursementRow]>([])
            try await service.reports.forEachDisbursement(ReportFilter()) { row in collected.withLock { $0.append(row) } }
            let rows = collected.withLock { $0 }
            #expect(rows.count == 7)

            let reader = """
                import csv, io, json, sys
                data = open(sys.argv[1], "rb").read().decode("utf-8-sig" if sys.argv[2] == ";" else "utf-8")
                print(json.dumps(list(csv.reader(io.StringIO(data, newline=""), delimiter=sys.argv[2], strict=True))))
                """
            for (format, excel) in [(DisbursementFormat.csv, false), (.csvExcel, true)] {
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("cells-\(UUID().uuidString).csv")
                defer { try? FileManager.default.removeItem(at: path) }
                try await export(service, format).write(to: path)
                let run = try Standards.python(reader, [path.path, excel ? ";" : ","])
                #expect(run.status == 0, "\(run.output)")
                let table = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [[String]])
                #expect(table.first == DisbursementRow.columns)
                func text(_ value: String) -> String {
                    guard excel, let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return value }
                    return "'" + value
                }
                let expected = rows.map { row in
                    [
                        row.disbursementID.map(String.init) ?? "", text(row.programme), text(row.round), text(row.grantReference),
                        text(row.recipient), text(row.recipientOrgNumber ?? ""), text(row.partners.joined(separator: "|")),
                        text(row.partnerCountries.joined(separator: "|")), text(row.themes.joined(separator: "|")), row.dueOn.iso,
                        row.paidOn?.iso ?? "", row.status.rawValue,
                        excel ? row.amount.plain.replacingOccurrences(of: ".", with: ",") : row.amount.plain,
                        row.amount.currency.rawValue, text(row.paymentReference ?? ""),
                    ]
                }
                #expect(Array(table.dropFirst()) == expected, "\(format)")
            }
        }
    }

    @Test func jsonRoundTripsAndMatchesTheCSV() async throws {
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            let json = try await export(service, .json)
            let rows = try #require(try JSONSerialization.jsonObject(with: json) as? [[String: Any]])
            #expect(rows.count == 6)
            #expect(Set(rows[0].keys) == Set(DisbursementRow.columns))
            #expect(rows[0]["amount"] as? String == "250000.00")
            #expect(rows[0]["payment_reference"] as? String == "+46 BG 5050-1055", "JSON carries values verbatim")
            #expect(rows[4]["paid_on"] is NSNull)
            #expect(rows[2]["status"] as? String == "reversal")
            let empty = try await export(service, .json, filter: ReportFilter(round: "2021:2", from: day("2030-01-01")))
            #expect(try JSONSerialization.jsonObject(with: empty) as? [Any] != nil)
        }
    }

    @Test func sieReparsedByAnIndependentReader() async throws {
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            let bytes = try await export(service, .sie)
            let file = try SIEReader(bytes)
            #expect(file.records.first?.label == "#FLAGGA")
            #expect(file.records.dropFirst().first?.label == "#KSUMMA")
            #expect(file.checksumVerified)
            #expect(file.value("#FORMAT") == ["PC8"])
            #expect(file.value("#SIETYP") == ["4"])
            #expect(file.value("#FNAMN") == ["ICLD"])
            #expect(file.records.contains { $0.label == "#KONTO" && $0.fields == ["6993", "Lämnade bidrag och gåvor"] })
            #expect(!file.text.contains("4980"), "4980 is a stock account, never a grant account")
            #expect(file.value("#ORGNR") == ["402000-0008"])
            #expect(file.vouchers.count == 3, "paid, paid, reversal")
            for voucher in file.vouchers { #expect(voucher.sum == 0, "balanced") }
            #expect(file.vouchers.map(\.lines.first?.amount) == [25_000_000, 25_000_000, -25_000_000])
            #expect(file.vouchers[0].lines[0].objects == ["6", "KP-1"])
            #expect(file.vouchers.map(\.lines.first?.account) == ["6993", "6993", "6993"])
            #expect(file.vouchers.map { $0.lines.last?.account } == ["1930", "1930", "1930"])
            #expect(
                file.records.contains {
                    $0.label == "#OBJEKT" && $0.fields == ["6", "KP-1", "=cmd|' /C calc'!A0 \"Dialog\", Växjö; Kisumu"]
                })
            // CP437 bytes: Växjö's ä and ö are 0x84 and 0x94; the € and Č are transliterated, nothing is UTF-8.
            #expect(bytes.contains(0x84) && bytes.contains(0x94))
            #expect(!bytes.contains(0xC3))
            #expect(file.text.contains("Region Gotland"))
            for forbidden in ["#IB", "#UB", "#RES", "#PSALDO", "#PBUDGET"] { #expect(!file.records.contains { $0.label == forbidden }) }
        }
    }

    @Test func iatiValidatesAgainstTheOfficialSchema() async throws {
        let schema = Standards.file("iati-2.03/iati-activities-schema.xsd")
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            let xml = try await export(service, .iati)
            let text = String(decoding: xml, as: UTF8.self)
            #expect(text.contains("<iati-identifier>SE-ON-4020000008-KP-1</iati-identifier>"))
            #expect(text.contains("<reporting-org ref=\"SE-ON-4020000008\" type=\"22\"><narrative>ICLD</narrative></reporting-org>"))
            #expect(text.contains("<participating-org role=\"1\" ref=\"SE-0\"><narrative>Sida</narrative></participating-org>"))
            #expect(!text.contains("reporting-org ref=\"SE-0\""), "never under the funder's identifier")
            #expect(text.contains("<narrative xml:lang=\"sv\">=cmd"), "the Swedish title says it is Swedish")
            #expect(text.contains("<default-flow-type code=\"10\"/>") && text.contains("<default-aid-type vocabulary=\"1\" code=\"C01\"/>"))
            #expect(text.contains("<budget type=\"1\" status=\"2\">"))
            try Standards.checkIATICodes(text)
            #expect(text.contains("<participating-org role=\"4\" ref=\"SE-ON-2120000662\" type=\"11\">"))
            #expect(text.contains("<recipient-country code=\"KE\" percentage=\"50.00\"/>"))
            #expect(text.contains("<transaction-type code=\"3\"/>"))
            #expect(text.contains("&quot;Dialog&quot;"))
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("iati-\(UUID().uuidString).xml")
            try xml.write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let result = try runTool(["xmllint", "--nonet", "--noout", "--schema", schema.path, file.path])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("validates"), "\(result.output)")
        }
    }

    @Test func giving360HasTheRequiredFields() async throws {
        try await TestGrants.withService { service, _ in
            try await recordPayments(service)
            let json = try await export(service, .giving360)
            let document = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            let grants = try #require(document["grants"] as? [[String: Any]])
            #expect(grants.count == 2)
            for grant in grants {
                for key in [
                    "id", "title", "description", "currency", "amountAwarded", "awardDate", "recipientOrganization", "fundingOrganization",
                ] {
                    #expect(grant[key] != nil, "\(key)")
                }
                #expect((grant["id"] as? String)?.hasPrefix("360G-") == true)
                let transactions = grant["disbursementTransaction"] as? [[String: Any]] ?? []
                let sum = transactions.compactMap { ($0["value"] as? NSNumber)?.decimalValue }.reduce(Decimal(0), +)
                #expect((grant["amountDisbursed"] as? NSNumber)?.decimalValue == sum)
            }
            #expect((grants[0]["recipientOrganization"] as? [[String: Any]])?.first?["id"] as? String == "SE-ON-2120000662")
        }
    }

    /// Forty grants with random payments, reversals, amendments, settlements, repayments and closings (some with
    /// a write-off), some tranches paid through the bank (a pain.001 batch booked by a camt.054 notification) and a
    /// repayment received as a credit quoting its claim's OCR reference: every format agrees with the round report
    /// to the öre, per grant and in total.
    @Test func roundTotalsReconcileWithTheExportsToTheOre() async throws {
        try await TestGrants.withService(poolSize: 4) { service, _ in
            var random = SeededGenerator(state: 42)
            var manifest = sampleManifest(budget: "100 000 000", count: 40)
            try await service.programmes.set(manifest.programme, settings: publishingSettings, actor: "anna")
            for i in manifest.grants.indices {
                let amount = Int64.random(in: 1_000_00...2_000_000_00, using: &random)
                manifest.grants[i].amount = Money(minorUnits: amount, currency: .sek)
                manifest.grants[i].requested = manifest.grants[i].amount
                manifest.grants[i].tranches = [
                    Tranche(dueOn: day("2022-03-01"), amount: Money(minorUnits: amount / 3, currency: .sek)),
                    Tranche(dueOn: day("2023-03-01"), amount: Money(minorUnits: amount - amount / 3, currency: .sek)),
                ]
            }
            try await service.rounds.record(manifest, actor: "anna")
            for d in try await service.disbursements.list() where Bool.random(using: &random) {
                try await service.disbursements.attest(d.id, actor: "bertil")
                try await service.disbursements.pay(d.id, paidOn: day("2022-04-01"), paymentReference: "P\(d.id)", actor: "bertil")
                if Int.random(in: 0..<4, using: &random) == 0 {
                    try await service.disbursements.reverse(d.id, on: day("2022-05-01"), reason: "r", actor: "cecilia")
                }
            }
            // Through the bank: every fifth grant's applicant has a verified account; that grant's tranches still
            // scheduled are attested, sent in one batch and paid by the bank's camt.054, on its booking date.
            var debtor = ProgrammeSettings()
            debtor.debtorName = "ICLD"
            debtor.debtorIBAN = "SE45 5000 0000 0583 9825 7466"
            debtor.debtorBIC = "ESSESESS"
            try await service.programmes.set(manifest.programme, settings: debtor, actor: "anna")
            let throughTheBank = Set(manifest.grants.enumerated().filter { $0.offset % 5 == 1 }.map(\.element.reference))
            for grant in manifest.grants where throughTheBank.contains(grant.reference) {
                try await service.payeeAccounts.set(grant.applicant.name, to: BankTests.bankgiro, reason: "Letter", actor: "anna")
                try await service.payeeAccounts.verify(grant.applicant.name, actor: "bertil")
            }
            let sent = try await service.disbursements.list().filter {
                $0.status == .scheduled && throughTheBank.contains($0.grantReference)
            }
            for d in sent { try await service.disbursements.attest(d.id, actor: "bertil") }
            let batch = try #require(
                try await service.paymentBatches.create(
                    dueBy: day("2023-12-31"), executionDate: BankTests.nextWeek, actor: "cecilia"
                ).batch)
            #expect(batch.items.map(\.disbursementID).sorted() == sent.map(\.id).sorted() && sent.count > 3, "\(sent.count)")
            let bankNotification = BankTests.notification(
                "NTF-PAID",
                batch.items.map {
                    BankTests.booked(
                        $0.amount, credit: false, on: day("2022-04-15"), reference: "BANK-\($0.disbursementID)",
                        endToEndID: $0.endToEndID)
                })
            try BankTests.validate(bankNotification, schema: "iso20022/camt.054.001.02.xsd")
            let paidByTheBank = try await service.bankMessages.import(bankNotification, actor: "cecilia")
            #expect(paidByTheBank.count == sent.count && paidByTheBank.allSatisfy { $0.outcome == "paid" }, "\(paidByTheBank)")
            // Amendments up; every third grant is cut down to what it paid, settled, repaid in part or whole (the
            // first claim in part through the bank, a credit quoting its OCR reference), and some of those closed
            // (what is not repaid written off).
            var repayments: [Int64] = []
            var repaidThroughTheBank: String?
            var closed: Set<String> = []
            var reclaimed: Int64 = 0
            let unpaid = try await service.disbursements.list().filter { [.scheduled, .attested].contains($0.status) }
            for (i, grant) in manifest.grants.enumerated() {
                let reference = grant.reference
                if Int.random(in: 0..<4, using: &random) == 0 {
                    let raise = Money(minorUnits: Int64.random(in: 1_00...50_000_00, using: &random), currency: .sek)
                    try await service.grants.amend(reference, amountChange: raise, reason: "More visits", on: .today, actor: "anna")
                }
                guard i % 3 == 0 else { continue }
                for d in unpaid where d.grantReference == reference {
                    try await service.disbursements.cancel(d.id, on: .today, reason: "Ends early", actor: "anna")
                }
                var detail = try await service.grants.get(reference).grant
                let slack = try detail.amount - detail.committed
                if slack.minorUnits > 1 {
                    let cut = Money(minorUnits: -Int64.random(in: 1...(slack.minorUnits / 2), using: &random), currency: .sek)
                    try await service.grants.amend(reference, amountChange: cut, reason: "Fewer visits", on: .today, actor: "anna")
                    detail = try await service.grants.get(reference).grant
                }
                let paid = detail.paid.minorUnits
                let spent = paid == 0 ? 0 : Int64.random(in: 0...paid, using: &random)
                let settlement = try await service.grants.settle(
                    reference, spent: Money(minorUnits: spent, currency: .sek), on: day("2023-06-01"), actor: "anna")
                var open = paid - spent
                if repaidThroughTheBank == nil && open > 1, let ocr = settlement.ocrReference {
                    let amount = open / 2
                    let credit = BankTests.notification(
                        "NTF-REPAID",
                        [
                            BankTests.booked(
                                Money(minorUnits: amount, currency: .sek), credit: true, on: day("2023-06-20"), reference: "BANK-R\(i)",
                                ocr: ocr)
                        ])
                    try BankTests.validate(credit, schema: "iso20022/camt.054.001.02.xsd")
                    #expect(try await service.bankMessages.import(credit, actor: "cecilia").map(\.outcome) == ["repayment"])
                    repayments.append(amount)
                    open -= amount
                    repaidThroughTheBank = reference
                }
                for (n, on) in ["2023-07-01", "2023-08-01"].enumerated() where open > 0 && Bool.random(using: &random) {
                    let amount = n == 1 || Bool.random(using: &random) ? open : Int64.random(in: 1...open, using: &random)
                    try await service.repayments.receive(
                        reference, amount: Money(minorUnits: amount, currency: .sek), on: day(on), paymentReference: "R\(i)-\(n)",
                        actor: "bertil")
                    repayments.append(amount)
                    open -= amount
                }
                if Bool.random(using: &random) {
                    let done = try await service.grants.close(
                        reference, on: .today, writeOff: open > 0 ? "The project account is closed" : nil, actor: "anna")
                    closed.insert(reference)
                    reclaimed += done.reclaimed?.minorUnits ?? 0
                }
            }
            #expect(repayments.count > 3 && closed.count > 3, "the seed exercises repayments and closings")
            #expect(repaidThroughTheBank != nil, "the seed exercises a repayment through the bank")
            let report = try await service.reports.round("2021:2")
            #expect(report.repaid.minorUnits == repayments.reduce(0, +))
            let filter = ReportFilter(round: "2021:2")
            // CSV: paid, reversal and repayment rows add up to what was disbursed, per grant too.
            let csvBytes = try await export(service, .csv, filter: filter)
            let csv = String(decoding: csvBytes, as: UTF8.self)
            var net: [String: Int64] = [:]
            var repaymentRows = 0
            for line in csv.components(separatedBy: "\r\n").dropFirst() where !line.isEmpty {
                let cells = line.components(separatedBy: ",")
                if ["paid", "reversal", "repayment"].contains(cells[11]) {
                    net[cells[3], default: 0] += try AmountParser.signed(cells[12])
                }
                if cells[11] == "repayment" { repaymentRows += 1 }
            }
            #expect(repaymentRows == repayments.count)
            #expect(net.values.reduce(0, +) == report.disbursed.minorUnits)
            // The bank's payments and its repayment are rows like any other: on the booking date, with the bank's reference.
            let rows = csv.components(separatedBy: "\r\n").dropFirst().map { $0.components(separatedBy: ",") }.filter { $0.count > 14 }
            let bankPaid = rows.filter { $0[11] == "paid" && $0[14].hasPrefix("BANK-") && $0[10] == "2022-04-15" }.map { $0[0] }
            #expect(bankPaid.sorted() == sent.map { String($0.id) }.sorted(), "\(bankPaid)")
            #expect(rows.filter { $0[11] == "repayment" && $0[14].hasPrefix("BANK-R") && $0[3] == repaidThroughTheBank }.count == 1)
            // xlsx: the same rows, repayments included, cell for cell.
            let folder = FileManager.default.temporaryDirectory
            let book = folder.appendingPathComponent("r-\(UUID().uuidString).xlsx")
            let table = folder.appendingPathComponent("r-\(UUID().uuidString).csv")
            try await export(service, .xlsx, filter: filter).write(to: book)
            try csvBytes.write(to: table)
            defer {
                try? FileManager.default.removeItem(at: book)
                try? FileManager.default.removeItem(at: table)
            }
            let rowCount = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count
            let read = try Standards.python(Standards.xlsxReader, [book.path, table.path])
            #expect(read.status == 0 && read.output.contains("equal \(rowCount) rows"), "\(read.output)")
            // SIE, cash basis: every voucher balances; the cost account on each grant's object is paid − repaid.
            let sie = try SIEReader(try await export(service, .sie, filter: filter))
            #expect(sie.checksumVerified)
            for voucher in sie.vouchers { #expect(voucher.sum == 0, "balanced") }
            let lines = sie.vouchers.flatMap(\.lines)
            func booked(_ lines: [SIEReader.Line], _ account: String, _ grant: String? = nil) -> Int64 {
                lines.filter { $0.account == account && (grant == nil || $0.objects == ["6", grant ?? ""]) }.map(\.amount).reduce(0, +)
            }
            #expect(booked(lines, "6993") == report.disbursed.minorUnits)
            #expect(booked(lines, "1930") == -report.disbursed.minorUnits)
            for grant in manifest.grants {
                #expect(booked(lines, "6993", grant.reference) == net[grant.reference] ?? 0, "\(grant.reference)")
            }
            // A repayment is the voucher the other way round: the bank debited first, the cost credited.
            let back = sie.vouchers.filter { $0.lines.first?.account == "1930" }
            #expect(back.count == repayments.count)
            #expect(back.allSatisfy { $0.lines.count == 2 && $0.lines[0].amount > 0 && $0.lines[1].account == "6993" })
            // SIE with accrual: cost + liability + receivable on each grant is paid − repaid; a closed grant owes
            // nothing more and is owed nothing more.
            var accrual = publishingSettings
            accrual.accrual = true
            accrual.sieLiabilityAccount = "2890"
            let accrued = try SIEReader(
                try await export(
                    service, .sie, filter: filter, options: ExportOptions(overrides: accrual, generatedAt: fixedOptions.generatedAt)))
            for voucher in accrued.vouchers { #expect(voucher.sum == 0, "balanced") }
            let accruedLines = accrued.vouchers.flatMap(\.lines)
            #expect(booked(accruedLines, "1930") == -report.disbursed.minorUnits)
            for grant in manifest.grants {
                let cost = booked(accruedLines, "6993", grant.reference)
                let liability = booked(accruedLines, "2890", grant.reference)
                let receivable = booked(accruedLines, "1689", grant.reference)
                #expect(cost + liability + receivable == net[grant.reference] ?? 0, "\(grant.reference)")
                if closed.contains(grant.reference) {
                    #expect(liability == 0 && receivable == 0 && cost == net[grant.reference] ?? 0, "\(grant.reference) closed")
                }
            }
            // 360Giving: awarded and disbursed per grant add up to the round's; each grant's amountDisbursed is
            // the sum of its transactions. Read from the text: JSONSerialization would turn decimals into binary
            // floating point.
            let givingBytes = try await export(service, .giving360, filter: filter)
            let giving = String(decoding: givingBytes, as: UTF8.self)
            func amounts(_ text: String, _ key: String) throws -> [Int64] {
                try text.matches(of: try Regex("\"\(key)\": (-?[0-9.]+)")).map {
                    try AmountParser.signed(String($0.output[1].substring ?? ""))
                }
            }
            #expect(giving.hasPrefix("{\n  \"grants\": ["))
            #expect(try amounts(giving, "amountAwarded").reduce(0, +) == report.awarded.minorUnits)
            #expect(try amounts(giving, "amountDisbursed").reduce(0, +) == report.disbursed.minorUnits)
            let objects = giving.components(separatedBy: "\n    {\"id\": ").dropFirst()
            #expect(objects.count == manifest.grants.count)
            for object in objects {
                let transactions = object.components(separatedBy: "\"disbursementTransaction\": ").last ?? ""
                #expect(try amounts(object, "amountDisbursed") == [try amounts(transactions, "value").reduce(0, +)])
            }
            #expect(giving.components(separatedBy: "\"description\": \"Repayment by the grantee\"").count - 1 == repayments.count)
            let package = Standards.file("360giving/360-giving-package-schema.json")
            let schema = Standards.file("360giving/360-giving-schema.json")
            let givingFile = folder.appendingPathComponent("r-\(UUID().uuidString).json")
            try givingBytes.write(to: givingFile)
            defer { try? FileManager.default.removeItem(at: givingFile) }
            let valid = try Standards.python(Standards.giving360Validator, [package.path, schema.path, givingFile.path])
            #expect(valid.status == 0 && valid.output.hasSuffix("valid\n"), "\(valid.output)")
            // IATI: disbursements (repayments and reversals negative) add up to what was disbursed; commitments to
            // the awards less what closing gave back; valid against the official XSD and codelists.
            let iatiBytes = try await export(service, .iati, filter: filter)
            let iati = String(decoding: iatiBytes, as: UTF8.self)
            func values(_ type: Int) -> [Int64] {
                iati.components(separatedBy: "<transaction-type code=\"\(type)\"/>").dropFirst().compactMap { chunk -> Int64? in
                    guard let value = chunk.components(separatedBy: "\">").dropFirst(1).first?.components(separatedBy: "</value>").first
                    else { return nil }
                    return try? AmountParser.signed(value)
                }
            }
            #expect(values(3).reduce(0, +) == report.disbursed.minorUnits)
            // Commitments: the awards less what was never paid out at closing and less what came back.
            #expect(values(2).reduce(0, +) == report.awarded.minorUnits - reclaimed - report.repaid.minorUnits)
            #expect(iati.components(separatedBy: "<narrative>Repayment by the grantee</narrative>").count - 1 == repayments.count)
            try Standards.checkIATICodes(iati)
            let iatiFile = folder.appendingPathComponent("r-\(UUID().uuidString).xml")
            try iatiBytes.write(to: iatiFile)
            defer { try? FileManager.default.removeItem(at: iatiFile) }
            let xsd = Standards.file("iati-2.03/iati-activities-schema.xsd")
            let checked = try runTool(["xmllint", "--nonet", "--noout", "--schema", xsd.path, iatiFile.path])
            #expect(checked.status == 0, "\(checked.output)")
            #expect(report.remaining.minorUnits == report.budget.minorUnits - report.awarded.minorUnits)
        }
    }
}

extension AmountParser {
    /// A plain decimal with an optional minus, as the exports write them (test helper).
    static func signed(_ text: String) throws -> Int64 {
        if text.hasPrefix("-") { return -(try parse(String(text.dropFirst()))) }
        if text == "0" || text == "0.00" { return 0 }
        return try parse(text)
    }
}
