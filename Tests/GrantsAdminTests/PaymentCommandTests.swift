import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("grants-admin payments")
struct PaymentCommandTests {
    /// Four-eyes on a payee account through the CLI, then a batch to a file that the official schema accepts.
    @Test func accountsAndABatchThroughTheCLI() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let path = CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path
            #expect(try cli.run(["round", "record", path, "--actor", "anna"]).status == 0)
            let bad = try cli.run([
                "org", "account", "set", "Växjö kommun", "--bankgiro", "5050-1056", "--reason", "Letter", "--actor", "anna",
            ])
            #expect(bad.status == 65 && bad.stderr.contains("check digit"), "\(bad.stderr)")
            let set = try cli.run([
                "org", "account", "set", "Växjö kommun", "--bankgiro", "5050-1055", "--reason", "Letter", "--actor", "anna",
            ])
            #expect(set.status == 0 && set.stdout.contains("not verified"), "\(set.stdout)\(set.stderr)")
            let same = try cli.run(["org", "account", "verify", "Växjö kommun", "--actor", "anna"])
            #expect(same.status == 1 && same.stderr.contains("four-eyes"), "\(same.stderr)")
            let verified = try cli.run(["org", "account", "verify", "Växjö kommun", "--actor", "bertil"])
            #expect(verified.status == 0 && verified.stdout.contains("verified by bertil"), "\(verified.stdout)\(verified.stderr)")
            #expect(try cli.run(["org", "account", "history", "Växjö kommun"]).stdout.contains("Bankgiro 5050-1055"))
            let settings = try cli.run([
                "programme", "set", "Kommunala partnerskap", "--debtor-name", "ICLD", "--debtor-bankgiro", "991-2346", "--actor", "anna",
            ])
            #expect(settings.status == 0, "\(settings.stderr)")
            // From the Bankgiro number to an IBAN: the one unset in the same command that sets the other.
            let iban = ["--debtor-iban", "SE45 5000 0000 0583 9825 7466", "--debtor-bic", "ESSESESS", "--actor", "anna"]
            let twoAccounts = try cli.run(["programme", "set", "Kommunala partnerskap"] + iban)
            #expect(twoAccounts.status == 65 && twoAccounts.stderr.contains("--debtor-bankgiro"), "\(twoAccounts.stderr)")
            let moved = try cli.run(["programme", "set", "Kommunala partnerskap", "--unset", "debtor-bankgiro"] + iban)
            #expect(moved.status == 0, "\(moved.stderr)")
            let shown = try cli.run(["programme", "show", "Kommunala partnerskap", "--format", "json"])
            let json = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
            let stored = json?["settings"] as? [String: Any]
            #expect(stored?["debtor_iban"] as? String == "SE4550000000058398257466" && stored?["debtor_bankgiro"] == nil, "\(shown.stdout)")
            let unknown = try cli.run(["programme", "set", "Kommunala partnerskap", "--unset", "debtor-account"])
            #expect(unknown.status == 64 && unknown.stderr.contains("--unset debtor-account: not a setting"), "\(unknown.stderr)")
            let back = try cli.run([
                "programme", "set", "Kommunala partnerskap", "--unset", "debtor-iban", "--unset", "debtor-bic", "--debtor-bankgiro",
                "991-2346", "--actor", "anna",
            ])
            #expect(back.status == 0 && back.stdout.contains("991"), "\(back.stdout)\(back.stderr)")

            // The round's first tranche to Växjö kommun, as recorded from the manifest.
            let first = try PGConnection(configuration: configuration).query(
                """
                SELECT d.id FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id
                  JOIN grants.application a ON a.id = g.application_id JOIN grants.organisation o ON o.id = a.applicant_id
                 WHERE o.name = 'Växjö kommun' ORDER BY d.due_on, d.id LIMIT 1
                """)
            let id = try first[0].decode(Int64.self, column: 0)
            #expect(try cli.run(["disbursement", "attest", String(id), "--actor", "bertil"]).status == 0)
            let folder = try temporaryFolder()
            let file = folder.appendingPathComponent("batch.xml").path
            let nextWeek = try CalendarDate(daysSinceEpoch: CalendarDate.today.daysSinceEpoch + 7).iso
            let created = try cli.run([
                "payment", "batch", "create", "--programme", "Kommunala partnerskap", "--due-by", "2022-12-31", "--execution-date",
                nextWeek,
                "--output", file, "--actor", "cecilia",
            ])
            #expect(created.status == 0 && created.stdout.contains("Payment batch 1"), "\(created.stdout)\(created.stderr)")
            let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("GrantsTests/Fixtures/standards/iso20022/pain.001.001.03.xsd")
            let valid = try runTool(["xmllint", "--nonet", "--noout", "--schema", schema.path, file])
            #expect(valid.status == 0, "\(valid.output)")
            let again = folder.appendingPathComponent("again.xml").path
            #expect(try cli.run(["payment", "batch", "export", "1", "--output", again]).status == 0)
            #expect(FileManager.default.contents(atPath: again) == FileManager.default.contents(atPath: file))
            #expect(try cli.run(["payment", "batch", "show", "1"]).stdout.contains("GRANTS-D\(id)"))
            // With the bank, the tranche is not paid by hand.
            let byHand = try cli.run([
                "disbursement", "pay", String(id), "--paid-on", "2022-02-01", "--payment-ref", "P-1", "--actor", "david",
            ])
            #expect(byHand.status == 1 && byHand.stderr.contains("payment batch 1"), "\(byHand.stdout)\(byHand.stderr)")
            #expect(byHand.stderr.contains("withdraw the batch") && byHand.stderr.contains("wait for the bank's notification"))
            let withdrawn = try cli.run(["payment", "batch", "withdraw", "1", "--reason", "Wrong date", "--actor", "cecilia"])
            #expect(withdrawn.status == 0 && withdrawn.stdout.contains("withdrawn"), "\(withdrawn.stdout)\(withdrawn.stderr)")
        }
    }
}

extension PaymentCommandTests {
    /// The README's "Paying through the bank", run as written after its tour on a fresh database.
    @Test func theReadmeBankExampleRunsAsWritten() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let tour = try #require(TourTests.tour(readme))
        let section = try #require(readme.range(of: "## Paying through the bank"))
        let rest = readme[section.upperBound...]
        let open = try #require(rest.range(of: "```sh\n"))
        let close = try #require(rest[open.upperBound...].range(of: "\n```"))
        let script = (tour + "\n" + rest[open.upperBound..<close.lowerBound]).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("alias ga=") ? "ga() { \"$GRANTS_ADMIN\" \"$@\"; }" : String($0) }.joined(separator: "\n")
        try await TestGrants.withService { service, configuration in
            let cli = CLI(configuration: configuration)
            let folder = try temporaryFolder("grants-bank")
            defer { try? FileManager.default.removeItem(at: folder) }
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent("Examples"), withDestinationURL: root.appendingPathComponent("Examples"))
            let result = try cli.shell("set -euo pipefail\n\(script)\necho \"tranche=$tranche\"", in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("refused (exit 1): whoever sets an account does not verify it"), "\(result.stdout)")
            #expect(result.stdout.contains("refused (exit 1): the bank has the tranche"), "\(result.stdout)")
            #expect(result.stderr.contains("is with the bank in payment batch 1"), "\(result.stderr)")
            #expect(result.stdout.contains("withdrawn") && result.stdout.contains("still open"), "\(result.stdout)")
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("avstamning.xlsx").path))
            let batch = try await service.paymentBatches.get(1)
            #expect(batch.status == "withdrawn" && batch.items.map(\.grantReference) == ["KP-2023-1-02"])
            let schema = root.appendingPathComponent("Tests/GrantsTests/Fixtures/standards/iso20022/pain.001.001.03.xsd")
            let valid = try runTool([
                "xmllint", "--nonet", "--noout", "--schema", schema.path, folder.appendingPathComponent("betalningar.xml").path,
            ])
            #expect(valid.status == 0, "\(valid.output)")
        }
    }
}

extension PaymentCommandTests {
    /// `payment reconcile` after a batch, a rejection, a booking and a credit that matched no claim: text, json
    /// with amounts as strings, and an xlsx workbook read back by openpyxl, typed cells under a header; as finance.
    @Test func reconcileThroughTheCLI() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let path = CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path
            #expect(try cli.run(["round", "record", path, "--actor", "anna"]).status == 0)
            for args in [
                ["org", "account", "set", "Växjö kommun", "--bankgiro", "5050-1055", "--reason", "Letter", "--actor", "anna"],
                ["org", "account", "verify", "Växjö kommun", "--actor", "bertil"],
                ["programme", "set", "Kommunala partnerskap", "--debtor-name", "ICLD", "--debtor-bankgiro", "991-2346", "--actor", "anna"],
            ] {
                let result = try cli.run(args)
                #expect(result.status == 0, "\(args): \(result.stderr)")
            }
            let ids = try PGConnection(configuration: configuration).query(
                """
                SELECT d.id, d.amount FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id
                  JOIN grants.application a ON a.id = g.application_id JOIN grants.organisation o ON o.id = a.applicant_id
                 WHERE o.name = 'Växjö kommun' AND d.status = 'scheduled' ORDER BY d.due_on, d.id LIMIT 2
                """
            ).map { (try $0.decode(Int64.self, column: 0), try $0.decode(Int64.self, column: 1)) }
            try #require(ids.count == 2)
            for (id, _) in ids { #expect(try cli.run(["disbursement", "attest", String(id), "--actor", "bertil"]).status == 0) }
            let nextWeek = try CalendarDate(daysSinceEpoch: CalendarDate.today.daysSinceEpoch + 7).iso
            let created = try cli.run([
                "payment", "batch", "create", "--programme", "Kommunala partnerskap", "--due-by", "2030-12-31", "--execution-date",
                nextWeek, "--format", "json", "--actor", "cecilia",
            ])
            #expect(created.status == 0, "\(created.stderr)")
            let messageID = try PGConnection(configuration: configuration).query("SELECT message_id FROM grants.payment_batch")[0]
                .decode(String.self, column: 0)
            let folder = try temporaryFolder()
            let today = CalendarDate.today.iso
            let booked = String(format: "%lld.%02lld", ids[0].1 / 100, ids[0].1 % 100)
            let files = [
                "status.xml": """
                <?xml version="1.0" encoding="UTF-8"?>
                <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
                <GrpHdr><MsgId>STS-R1</MsgId><CreDtTm>2026-01-02T08:00:00</CreDtTm></GrpHdr>
                <OrgnlGrpInfAndSts><OrgnlMsgId>\(messageID)</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId><GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>
                <OrgnlPmtInfAndSts><OrgnlPmtInfId>\(messageID)-1</OrgnlPmtInfId><TxInfAndSts><OrgnlEndToEndId>GRANTS-D\(ids[1].0)</OrgnlEndToEndId>
                <TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts></OrgnlPmtInfAndSts>
                </CstmrPmtStsRpt></Document>
                """,
                "booked.xml": """
                <?xml version="1.0" encoding="UTF-8"?>
                <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><BkToCstmrDbtCdtNtfctn>
                <GrpHdr><MsgId>NTF-R1</MsgId><CreDtTm>2026-01-03T06:00:00</CreDtTm></GrpHdr>
                <Ntfctn><Id>NTF-R1-1</Id><CreDtTm>2026-01-03T06:00:00</CreDtTm><Acct><Id><IBAN>SE4550000000058398257466</IBAN></Id></Acct>
                <Ntry><Amt Ccy="SEK">\(booked)</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>\(today)</Dt></BookgDt>
                <AcctSvcrRef>BANKREF-R1</AcctSvcrRef><BkTxCd/><NtryDtls><TxDtls><Refs><EndToEndId>GRANTS-D\(ids[0].0)</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>
                <Ntry><Amt Ccy="SEK">123.45</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>\(today)</Dt></BookgDt>
                <AcctSvcrRef>BANKREF-R2</AcctSvcrRef><BkTxCd/><NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf><Ref>18</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
                </Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
                """,
            ]
            for name in ["status.xml", "booked.xml"] {
                let file = folder.appendingPathComponent(name).path
                try Data(files[name]!.utf8).write(to: URL(fileURLWithPath: file))
                let imported = try cli.run(["payment", "import", file, "--actor", "cecilia"])
                #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
            }

            var finance = configuration
            finance["user"] = "test_finance"
            let reader = CLI(configuration: finance)
            let text = try reader.run(["payment", "reconcile"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("booked") && text.stdout.contains("rejected (AC04)") && text.stdout.contains("still open"))
            #expect(text.stdout.contains("unmatched credit") && text.stdout.contains("BANKREF-R1"), "\(text.stdout)")

            let json = try reader.run(["payment", "reconcile", "--programme", "Kommunala partnerskap", "--format", "json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
            let payments = try #require(object["payments"] as? [[String: Any]])
            #expect(payments.map { $0["state"] as? String } == ["booked", "rejected"])
            #expect(payments[0]["amount"] as? String == booked && payments[0]["paid_on"] as? String == today)
            #expect(payments.map { $0["still_open"] as? Bool } == [false, true])
            let findings = try #require(object["findings"] as? [[String: Any]])
            #expect(findings.map { $0["outcome"] as? String } == ["unmatched credit"])
            #expect(findings.first?["amount"] as? String == "123.45" && findings.first?["reference"] as? String == "18")

            let workbook = folder.appendingPathComponent("avstamning.xlsx").path
            #expect(try reader.run(["payment", "reconcile", "--format", "xlsx"]).status == 64)
            let written = try reader.run(["payment", "reconcile", "--format", "xlsx", "--output", workbook])
            #expect(written.status == 0, "\(written.stderr)")
            let script = folder.appendingPathComponent("read.py").path
            try Data(Self.xlsxReader.utf8).write(to: URL(fileURLWithPath: script))
            let read = try runTool(["/usr/bin/python3", script, workbook])
            #expect(read.status == 0, "\(read.output)")
            #expect(
                read.output.contains(
                    "Payments|batch,message_id,programme,execution_date,disbursement,reference,tranche,creditor_name,amount,currency,"
                        + "end_to_end_id,state,reason,paid_on,payment_reference,still_open"), "\(read.output)")
            #expect(read.output.contains("|amount=n:0.00:\(booked)|") && read.output.contains("|paid_on=d:\(today)|"), "\(read.output)")
            #expect(read.output.contains("|state=s:rejected|") && read.output.contains("|reason=s:AC04|"), "\(read.output)")
            #expect(read.output.contains("Bank findings|kind,message_id,item,outcome,amount"), "\(read.output)")
            #expect(read.output.contains("|outcome=s:unmatched credit|") && read.output.contains("|amount=n:0.00:123.45|"))
        }
    }

    /// Each sheet's header, then each row's cells as `|column=type:format:value|` (dates as ISO days).
    static let xlsxReader = #"""
        import datetime, sys
        import openpyxl
        book = openpyxl.load_workbook(sys.argv[1])
        for sheet in book.worksheets:
            header = [c.value for c in sheet[1]]
            print(sheet.title + "|" + ",".join(header))
            if sheet.freeze_panes != "A2":
                print("not frozen: %r" % sheet.freeze_panes)
            for row in sheet.iter_rows(min_row=2):
                out = []
                for name, cell in zip(header, row):
                    if cell.value is None:
                        continue
                    if cell.data_type == "f":
                        print("formula in %s" % cell.coordinate)
                    if isinstance(cell.value, datetime.datetime):
                        out.append("%s=d:%s" % (name, cell.value.date().isoformat()))
                    elif cell.data_type == "n" and cell.number_format == "0.00":
                        out.append("%s=n:0.00:%.2f" % (name, cell.value))
                    elif cell.data_type == "n":
                        out.append("%s=n:%s:%d" % (name, cell.number_format, cell.value))
                    else:
                        out.append("%s=%s:%s" % (name, cell.data_type, cell.value))
                print("|" + "|".join(out) + "|")
        """#
}

extension PaymentCommandTests {
    /// `payment import` is finance's: a staff login is refused (exit 1, not permitted) and nothing changes; a
    /// finance login imports the same file and the tranche is paid.
    @Test func onlyFinanceImportsTheBanksFiles() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let path = CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path
            #expect(try cli.run(["round", "record", path, "--actor", "anna"]).status == 0)
            for step in [
                ["org", "account", "set", "Växjö kommun", "--bankgiro", "5050-1055", "--reason", "Letter", "--actor", "anna"],
                ["org", "account", "verify", "Växjö kommun", "--actor", "bertil"],
                ["programme", "set", "Kommunala partnerskap", "--debtor-name", "ICLD", "--debtor-bankgiro", "991-2346", "--actor", "anna"],
            ] {
                let done = try cli.run(step)
                #expect(done.status == 0, "\(step): \(done.stderr)")
            }
            let first = try PGConnection(configuration: configuration).query(
                """
                SELECT d.id, d.amount FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id
                  JOIN grants.application a ON a.id = g.application_id JOIN grants.organisation o ON o.id = a.applicant_id
                 WHERE o.name = 'Växjö kommun' ORDER BY d.due_on, d.id LIMIT 1
                """)
            let id = try first[0].decode(Int64.self, column: 0)
            let amount = Money(minorUnits: try first[0].decode(Int64.self, column: 1), currency: .sek).plain
            #expect(try cli.run(["disbursement", "attest", String(id), "--actor", "bertil"]).status == 0)
            let nextWeek = try CalendarDate(daysSinceEpoch: CalendarDate.today.daysSinceEpoch + 7).iso
            let created = try cli.run([
                "payment", "batch", "create", "--due-by", "2022-12-31", "--execution-date", nextWeek, "--actor", "cecilia",
            ])
            #expect(created.status == 0, "\(created.stderr)")
            let today = CalendarDate.today.iso
            let file = try temporaryFolder().appendingPathComponent("camt054.xml")
            try Data(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
                  <BkToCstmrDbtCdtNtfctn>
                    <GrpHdr><MsgId>NTF-CLI-1</MsgId><CreDtTm>\(today)T06:00:00</CreDtTm></GrpHdr>
                    <Ntfctn><Id>NTF-CLI-1-1</Id><CreDtTm>\(today)T06:00:00</CreDtTm><Acct><Id><Othr><Id>9912346</Id></Othr></Id></Acct>
                      <Ntry><Amt Ccy="SEK">\(amount)</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>\(today)</Dt></BookgDt>
                        <AcctSvcrRef>BANKREF-CLI</AcctSvcrRef><BkTxCd/><NtryDtls><TxDtls><Refs><EndToEndId>GRANTS-D\(id)</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>
                    </Ntfctn>
                  </BkToCstmrDbtCdtNtfctn>
                </Document>
                """.utf8
            ).write(to: file)

            var staffLogin = configuration
            staffLogin["user"] = "test_staff"
            var staff = CLI(configuration: staffLogin)
            staff.environment["GRANTS_ACTOR"] = "test_staff"
            let refused = try staff.run(["payment", "import", file.path])
            #expect(refused.status == 1 && refused.stderr.contains("not permitted"), "\(refused.stdout)\(refused.stderr)")
            let status = try PGConnection(configuration: configuration).query("SELECT status FROM grants.disbursement WHERE id = \(id)")
            #expect(try status[0].decode(String.self, column: 0) == "attested")

            var financeLogin = configuration
            financeLogin["user"] = "test_finance"
            var finance = CLI(configuration: financeLogin)
            finance.environment["GRANTS_ACTOR"] = "test_finance"
            let imported = try finance.run(["payment", "import", file.path])
            #expect(imported.status == 0 && imported.stdout.contains("paid"), "\(imported.stdout)\(imported.stderr)")
            let shown = try cli.run(["disbursement", "list", "--format", "json"])
            let rows = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]] ?? []
            let row = rows.first { $0["disbursement_id"] as? Int == Int(id) }
            #expect(
                row?["status"] as? String == "paid" && row?["payment_reference"] as? String == "BANKREF-CLI", "\(String(describing: row))")
        }
    }
}
