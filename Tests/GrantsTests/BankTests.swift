import Foundation
import PGClient
import TestSupport
import Testing

@testable import Grants

/// Money through the bank (Schema/api/bank.sql, Schema/rules/bank.sql): the database checks account numbers as
/// GrantsCore does, payee accounts are four-eyes for every writer, an account change sends attested tranches
/// back, and a payment batch is a pain.001.001.03 file the official schema accepts, the same bytes every time,
/// with each tranche in exactly one live batch however creators race.
@Suite("Bank")
struct BankTests {
    static let bankgiro = try! PaymentAccount(kind: "bankgiro", number: "5050-1055")
    static let otherBankgiro = try! PaymentAccount(kind: "bankgiro", number: "991-2346")

    /// Grant `reference` of 1 000 to Växjö kommun with `tranches` tranches scheduled by anna and attested by
    /// `attester`.
    @discardableResult
    func attestedGrant(_ service: GrantsService, _ reference: String, tranches: Int = 1, attester: String = "bertil") async throws
        -> [Disbursement]
    {
        try await service.applications.submit(application(reference), actor: "anna")
        try await service.approvals.approve(reference, amount: sek("1 000"), decidedOn: day("2021-12-01"), actor: "anna")
        var attested: [Disbursement] = []
        for n in 0..<tranches {
            let d = try await service.disbursements.schedule(
                reference, amount: sek(String(1000 / tranches)), dueOn: day("2022-0\(n % 9 + 1)-15"), actor: "anna")
            attested.append(try await service.disbursements.attest(d.id, actor: attester))
        }
        return attested
    }

    func payingProgramme(_ service: GrantsService) async throws {
        var settings = ProgrammeSettings()
        settings.debtorName = "Kommunala partnerskap"
        settings.debtorIBAN = "SE45 5000 0000 0583 9825 7466"
        settings.debtorBIC = "ESSESESS"
        try await service.programmes.set("Kommunala partnerskap", settings: settings, actor: "anna")
    }

    static var nextWeek: CalendarDate { try! CalendarDate(daysSinceEpoch: CalendarDate.today.daysSinceEpoch + 7) }

    /// The same numbers, valid and not, through GrantsCore and through the database's checks.
    @Test func theDatabaseChecksNumbersAsGrantsCoreDoes() async throws {
        try await TestGrants.withService { _, configuration in
            let connection = try PGConnection(configuration: configuration)
            func sql(_ function: String, _ value: String) throws -> Bool {
                try connection.query("SELECT coalesce(grants.\(unsafeRaw: function)(\(value)), false)")[0].decode(Bool.self, column: 0)
            }
            let bankgiro = ["50501055", "9912346", "50501056", "505010", "505010551", "99123460", "0000000", "1234566", "12345a6"]
            for number in bankgiro {
                #expect(try sql("bankgiro_valid", number) == BankgiroNumber.isValid(number), "\(number)")
            }
            let plusgiro = ["9020025", "42", "43", "4", "123456789", "12344", "414141 2".replacingOccurrences(of: " ", with: "")]
            for number in plusgiro {
                #expect(try sql("plusgiro_valid", number) == PlusgiroNumber.isValid(number), "\(number)")
            }
            let ibans = [
                "SE4550000000058398257466", "SE4650000000058398257466", "SE455000000005839825746", "DE89370400440532013000",
                "GB29NWBK60161331926819", "FR1420041010050500013M02606", "NO9386011117947", "MT84MALT011000012345MTLCAST001S",
                "KE1234567890123456789012", "XX89370400440532013000", "SE4A50000000058398257466", "UA213223130000026007233566001",
                "DE89370400440532013001", "SE45500000000583982574A6",
            ]
            for number in ibans {
                #expect(try sql("iban_valid", number) == IBAN.isValid(number), "\(number)")
            }
            for bic in ["ESSESESS", "DEUTDEFF500", "ESSESES", "ESSESESS5", "ESS1SESS", "NDEASESSXXX", "ESSESES1"] {
                #expect(try sql("bic_valid", bic) == BIC.isValid(bic), "\(bic)")
            }
            for ocr in ["471169", "471163", "1234566", "1", "12", "18", String(repeating: "1", count: 26)] {
                #expect(try sql("ocr_valid", ocr) == OCRReference.isValid(ocr), "\(ocr)")
            }
            for base in ["4711", "1", "99999", "123456789012"] {
                let digit = try connection.query("SELECT grants.luhn_check_digit(\(base))")[0].decode(Int32.self, column: 0)
                #expect(OCRReference.make(base: base, lengthDigit: false)?.digits == base + String(digit), "\(base)")
            }
        }
    }

    /// Whoever sets an account does not verify it: the library, a staff login's own call and the table's
    /// trigger all refuse; nobody but the owner writes the tables, and not even the owner rewrites them.
    @Test func payeeAccountsAreFourEyes() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let set = try await service.payeeAccounts.set("Växjö kommun", to: Self.bankgiro, reason: "Letter of 2024-01-10", actor: "anna")
            #expect(set.account == Self.bankgiro && !set.isVerified && set.isCurrent)
            #expect(try await service.payeeAccounts.set("212000-0662", to: Self.bankgiro, reason: "again", actor: "anna") == set)
            let refused = await libraryError { try await service.payeeAccounts.verify("Växjö kommun", actor: "anna") }
            #expect(refused == .fourEyesOnAccount(organisation: "Växjö kommun", actor: "anna"))
            let verified = try await service.payeeAccounts.verify("Växjö kommun", accountID: set.id, actor: "bertil")
            #expect(verified.verifiedBy == "bertil")

            // As staff logins, through the API: bad numbers are bad input, the setter cannot verify.
            let calls: [(PGQuery, String?)] = [
                ("SELECT * FROM grants_api.set_payee_account('Växjö kommun', 'bankgiro', '5050-1056', NULL, 'typo')", "GR008"),
                ("SELECT * FROM grants_api.set_payee_account('Växjö kommun', 'iban', 'SE46 5000 0000 0583 9825 7466', NULL, 'x')", "GR008"),
                (
                    "SELECT * FROM grants_api.set_payee_account('Växjö kommun', 'iban', 'SE45 5000 0000 0583 9825 7466', 'ESSE', 'x')",
                    "GR008"
                ),
                ("SELECT * FROM grants_api.set_payee_account('Växjö kommun', 'plusgiro', '902002-5', NULL, '  ')", "GR008"),
                (
                    "SELECT * FROM grants_api.set_payee_account('Växjö kommun', 'plusgiro', '902002-5', NULL, 'New account', 'anna')",
                    "GR005"
                ),
                ("SELECT * FROM grants_api.set_payee_account('Växjö kommun', 'plusgiro', '902002-5', NULL, 'New account')", nil),
                ("SELECT * FROM grants_api.verify_payee_account('Växjö kommun')", "23514"),
            ]
            for (call, expected) in calls {
                #expect(try sqlState(configuration, user: "test_staff", call) == expected, "\(call.sql)")
            }
            #expect(
                try sqlState(configuration, user: "test_staff2", "SELECT * FROM grants_api.verify_payee_account('Växjö kommun')") == nil)
            let history = try await service.payeeAccounts.history("Växjö kommun")
            #expect(history.map(\.account.kind) == ["bankgiro", "plusgiro"])
            #expect(history.map(\.verifiedBy) == ["bertil", "test_staff2"])
            #expect(history.map(\.isCurrent) == [false, true])

            // Raw writes: refused to staff by privilege, to the owner by the append-only triggers and four-eyes.
            let account = history[1].id
            #expect(
                try sqlState(
                    configuration, user: "test_staff",
                    "INSERT INTO grants.payee_account (organisation_id, kind, number, reason, set_by) SELECT id, 'bankgiro', '50501055', 'x', 'test_staff' FROM grants.organisation LIMIT 1"
                ) == "42501")
            #expect(try sqlState(configuration, user: "test_staff", "UPDATE grants.payee_account SET number = '9912346'") == "42501")
            #expect(try sqlState(configuration, "UPDATE grants.payee_account SET number = '9912346' WHERE id = \(account)") == "GR001")
            #expect(try sqlState(configuration, "DELETE FROM grants.payee_account_verification") == "GR001")
            #expect(try sqlState(configuration, "TRUNCATE grants.payee_account CASCADE") == "GR001")
            #expect(
                try sqlState(
                    configuration,
                    "INSERT INTO grants.payee_account (organisation_id, kind, number, reason, set_by) SELECT id, 'bankgiro', '50501056', 'x', 'anna' FROM grants.organisation LIMIT 1"
                ) == "23514")
            let audit = try await service.audit.list(entity: "organisation").map(\.action).filter { $0.hasPrefix("payee_account") }
            #expect(audit == ["payee_account.set", "payee_account.verified", "payee_account.set", "payee_account.verified"])
        }
    }

    /// The classic payee-account fraud: an account changed after a tranche was attested. The tranche goes back
    /// to be attested again in the same transaction; a tranche already with the bank stays where it is.
    @Test func anAccountChangeSendsAttestedTranchesBack() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await payingProgramme(service)
            try await service.payeeAccounts.set("Växjö kommun", to: Self.bankgiro, reason: "Letter", actor: "anna")
            try await service.payeeAccounts.verify("Växjö kommun", actor: "bertil")
            let tranches = try await attestedGrant(service, "A", tranches: 2)
            // The first tranche goes to the bank; then the second tranche is attested... and the account changes.
            let (batch, _) = try await service.paymentBatches.create(
                dueBy: day("2022-01-31"), executionDate: Self.nextWeek, actor: "cecilia")
            #expect(batch?.items.map(\.disbursementID) == [tranches[0].id])
            let changed = try await service.payeeAccounts.set("Växjö kommun", to: Self.otherBankgiro, reason: "Phone call", actor: "david")
            #expect(!changed.isVerified)
            #expect(try await service.disbursements.get(tranches[1].id).status == .scheduled)
            #expect(try await service.disbursements.get(tranches[1].id).attestedBy == nil)
            #expect(try await service.disbursements.get(tranches[0].id).status == .attested)
            let withdrawn = try await service.audit.list(entity: "disbursement").filter {
                $0.action == "disbursement.attestation_withdrawn"
            }
            #expect(withdrawn.map(\.entityKey) == [String(tranches[1].id)])
            // Attested again, it waits for the new account's verification.
            try await service.disbursements.attest(tranches[1].id, actor: "bertil")
            let (none, considered) = try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "cecilia")
            #expect(none == nil)
            #expect(considered.map(\.leftOut) == ["the payee account of Växjö kommun is not verified"])
            // A tranche in a live batch is not cancelled behind the bank's back, by anyone.
            #expect(
                try sqlState(configuration, user: "test_staff", "SELECT * FROM grants_api.cancel(\(tranches[0].id), current_date, 'oops')") == "GR002")
        }
    }

    /// A batch as the bank gets it: valid against the official pain.001.001.03 schema, totals right, the tranche's
    /// end-to-end id and the grant in the remittance text, the same bytes twice; those left out are said with why;
    /// a withdrawn batch frees its tranches.
    @Test func aBatchIsAPain001FileTheSchemaAccepts() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await payingProgramme(service)
            try await service.payeeAccounts.set("Växjö kommun", to: Self.bankgiro, reason: "Letter", actor: "anna")
            try await service.payeeAccounts.verify("Växjö kommun", actor: "bertil")
            let ours = try await attestedGrant(service, "A", tranches: 2)
            let own = try await attestedGrant(service, "B", tranches: 1, attester: "cecilia")
            let (created, considered) = try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "cecilia")
            let batch = try #require(created)
            #expect(batch.items.map(\.disbursementID) == ours.map(\.id))
            #expect(batch.transactions == 2 && batch.controlSum == 100_000)
            #expect(considered.filter { $0.leftOut != nil }.map(\.disbursementID) == own.map(\.id))
            #expect(considered.first { $0.disbursementID == own[0].id }?.leftOut?.hasPrefix("four-eyes") == true)

            let bytes = try await service.paymentBatches.export(batch.id)
            #expect(try await service.paymentBatches.export(batch.id) == bytes)
            let xml = String(decoding: bytes, as: UTF8.self)
            #expect(xml.contains("<NbOfTxs>2</NbOfTxs>") && xml.contains("<CtrlSum>1000.00</CtrlSum>"))
            #expect(xml.contains("<EndToEndId>GRANTS-D\(ours[0].id)</EndToEndId>"))
            #expect(xml.contains("<InstdAmt Ccy=\"SEK\">500.00</InstdAmt>"))
            #expect(xml.contains("<Id>50501055</Id>") && xml.contains("<Prtry>BGNR</Prtry>"))
            #expect(xml.contains("<IBAN>SE4550000000058398257466</IBAN>") && xml.contains("<BIC>ESSESESS</BIC>"))
            #expect(xml.contains("<Ustrd>A tranche 1</Ustrd>"))
            #expect(xml.contains("<ReqdExctnDt>\(Self.nextWeek.iso)</ReqdExctnDt>"))
            try Self.validate(bytes, schema: "iso20022/pain.001.001.03.xsd")

            // A second batch finds nothing new; a withdrawn batch frees its tranches for the next.
            #expect(try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "cecilia").batch == nil)
            #expect(
                try sqlState(configuration, user: "test_staff", "SELECT * FROM grants_api.withdraw_payment_batch(\(batch.id), ' ')")
                    == "GR008")
            let withdrawn = try await service.paymentBatches.withdraw(batch.id, reason: "Wrong execution date", actor: "cecilia")
            #expect(withdrawn.status == "withdrawn" && withdrawn.items.allSatisfy { $0.status == "withdrawn" })
            let again = try #require(try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "david").batch)
            #expect(again.items.map(\.disbursementID) == ours.map(\.id) + own.map(\.id))
            // The first batch still exports as it was.
            #expect(try await service.paymentBatches.export(batch.id) == bytes)
            #expect(try sqlState(configuration, "UPDATE grants.payment_batch_item SET amount = 1") == "GR002")
            #expect(try sqlState(configuration, "DELETE FROM grants.payment_batch WHERE id = \(batch.id)") == "GR001")
        }
    }

    /// Creators racing for the same tranches: each tranche ends in exactly one live batch.
    @Test func racingCreatorsPutEachTrancheInOneBatch() async throws {
        try await TestGrants.withService(poolSize: 8) { service, configuration in
            try await seedRound(service, budget: "100 000")
            try await payingProgramme(service)
            try await service.payeeAccounts.set("Växjö kommun", to: Self.bankgiro, reason: "Letter", actor: "anna")
            try await service.payeeAccounts.verify("Växjö kommun", actor: "bertil")
            var all: [Int64] = []
            for reference in ["A", "B", "C", "D"] { all += try await attestedGrant(service, reference, tranches: 4).map(\.id) }
            let results = try await withThrowingTaskGroup(of: PaymentBatch?.self) { group in
                for actor in ["cecilia", "david", "erik", "cecilia"] {
                    group.addTask { try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: actor).batch }
                }
                var batches: [PaymentBatch] = []
                for try await batch in group { if let batch { batches.append(batch) } }
                return batches
            }
            let batched = results.flatMap { $0.items.map(\.disbursementID) }
            #expect(batched.sorted() == all.sorted())
            #expect(Set(batched).count == batched.count)
            let live = try PGConnection(configuration: configuration).query(
                "SELECT count(DISTINCT disbursement_id) = count(*) FROM grants.payment_batch_item WHERE status = 'sent'")
            #expect(try live[0].decode(Bool.self, column: 0))
        }
    }

    static func validate(_ bytes: [UInt8], schema: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pain-\(UUID().uuidString).xml")
        try Data(bytes).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let result = try runTool(["xmllint", "--nonet", "--noout", "--schema", Standards.file(schema).path, path.path])
        #expect(result.status == 0, "\(result.output)")
    }
}

extension BankTests {
    /// A settlement that opens a claim carries an OCR reference the grantee quotes: the grant's id, a length digit
    /// and a Luhn check digit, shown wherever the claim is, and fixed for every writer.
    @Test func claimsCarryAnOCRReference() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            let tranche = try await attestedGrant(service, "A")[0]
            try await service.disbursements.pay(tranche.id, paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
            let settlement = try await service.grants.settle("A", spent: sek("600"), on: day("2024-01-15"), actor: "anna")
            let ocr = try #require(settlement.ocrReference)
            #expect(try OCRReference(ocr, requireLengthDigit: true).digits == ocr)
            let grantID = try PGConnection(configuration: configuration).query("SELECT id FROM grants.grant WHERE reference = 'A'")[0]
                .decode(Int64.self, column: 0)
            #expect(ocr == OCRReference.make(base: String(grantID), lengthDigit: true)?.digits)
            #expect(try await service.repayments.claims().map(\.settlement.ocrReference) == [ocr])
            #expect(try sqlState(configuration, "UPDATE grants.settlement SET ocr_reference = '18'") == "GR001")
        }
    }
}

extension BankTests {
    static func pain002(originalMessageID: String, rejected endToEndID: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
          <CstmrPmtStsRpt>
            <GrpHdr><MsgId>STS-0001</MsgId><CreDtTm>2026-01-02T08:00:00</CreDtTm></GrpHdr>
            <OrgnlGrpInfAndSts><OrgnlMsgId>\(originalMessageID)</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId><GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>
            <OrgnlPmtInfAndSts>
              <OrgnlPmtInfId>\(originalMessageID)-1</OrgnlPmtInfId>
              <TxInfAndSts><OrgnlEndToEndId>\(endToEndID)</OrgnlEndToEndId><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC01</Cd></Rsn></StsRsnInf></TxInfAndSts>
            </OrgnlPmtInfAndSts>
          </CstmrPmtStsRpt>
        </Document>
        """
    }

    static func camt054(booked: String, endToEndID: String, amount: String, creditOCR: String, credit: String) -> String {
        func entry(_ amount: String, _ indicator: String, _ reference: String, _ details: String) -> String {
            """
                  <Ntry><Amt Ccy="SEK">\(amount)</Amt><CdtDbtInd>\(indicator)</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>\(booked)</Dt></BookgDt>
                    <AcctSvcrRef>\(reference)</AcctSvcrRef><BkTxCd/><NtryDtls><TxDtls>\(details)</TxDtls></NtryDtls></Ntry>
            """
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
              <BkToCstmrDbtCdtNtfctn>
                <GrpHdr><MsgId>NTF-0001</MsgId><CreDtTm>2026-01-03T06:00:00</CreDtTm></GrpHdr>
                <Ntfctn><Id>NTF-0001-1</Id><CreDtTm>2026-01-03T06:00:00</CreDtTm><Acct><Id><IBAN>SE4550000000058398257466</IBAN></Id></Acct>
            \(entry(amount, "DBIT", "BANKREF-1", "<Refs><EndToEndId>\(endToEndID)</EndToEndId></Refs>"))
            \(entry("1.00", "DBIT", "BANKREF-2", "<Refs><EndToEndId>GRANTS-D999999</EndToEndId></Refs>"))
            \(entry(credit, "CRDT", "BANKREF-3", "<RmtInf><Strd><CdtrRefInf><Ref>\(creditOCR)</Ref></CdtrRefInf></Strd></RmtInf>"))
                </Ntfctn>
              </BkToCstmrDbtCdtNtfctn>
            </Document>
            """
    }

    /// The bank's answers, written from the standard (and valid against its schemas): a rejection takes the
    /// tranche out of its batch with the reason code; a booked debit pays its tranche by EndToEndId and amount;
    /// a debit naming nothing is reported; a credit quoting a claim's OCR reference is a repayment; the same
    /// file twice changes nothing; a foreign or broken file is refused whole.
    @Test func theBanksAnswersAreImported() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await payingProgramme(service)
            try await service.payeeAccounts.set("Växjö kommun", to: Self.bankgiro, reason: "Letter", actor: "anna")
            try await service.payeeAccounts.verify("Växjö kommun", actor: "bertil")
            let tranches = try await attestedGrant(service, "A", tranches: 2)
            let claimed = try await attestedGrant(service, "B")[0]
            try await service.disbursements.pay(claimed.id, paidOn: day("2022-02-01"), paymentReference: "P-B", actor: "bertil")
            let ocr = try #require(
                try await service.grants.settle("B", spent: sek("600"), on: day("2024-01-15"), actor: "anna").ocrReference)
            let batch = try #require(try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "cecilia").batch)

            let status = Array(Self.pain002(originalMessageID: batch.messageID, rejected: "GRANTS-D\(tranches[1].id)").utf8)
            try Self.validate(status, schema: "iso20022/pain.002.001.03.xsd")
            let rejected = try await service.bankMessages.import(status, actor: "cecilia")
            #expect(rejected.map(\.outcome) == ["rejected"] && rejected[0].detail.contains("AC01"), "\(rejected)")
            #expect(try await service.paymentBatches.get(batch.id).items.map(\.status) == ["sent", "rejected"])
            #expect(try await service.disbursements.get(tranches[1].id).status == .attested)

            let today = CalendarDate.today.iso
            let notification = Array(
                Self.camt054(booked: today, endToEndID: "GRANTS-D\(tranches[0].id)", amount: "500.00", creditOCR: ocr, credit: "400.00")
                    .utf8)
            try Self.validate(notification, schema: "iso20022/camt.054.001.02.xsd")
            let events = try count(configuration, "grants.audit_event")
            let imported = try await service.bankMessages.import(notification, actor: "cecilia")
            #expect(imported.map(\.outcome) == ["paid", "mismatch", "repayment"], "\(imported)")
            let paid = try await service.disbursements.get(tranches[0].id)
            #expect(paid.status == .paid && paid.paidOn == CalendarDate.today && paid.paymentReference == "BANKREF-1")
            #expect(try await service.repayments.claims().first?.settlement.repaid == sek("400"))
            // Again: nothing changes.
            let after = try count(configuration, "grants.audit_event")
            #expect(after > events)
            let again = try await service.bankMessages.import(notification, actor: "cecilia")
            #expect(again.allSatisfy { $0.outcome.hasPrefix("already imported") }, "\(again)")
            #expect(try count(configuration, "grants.audit_event") == after)
            // A booked batch is not withdrawn.
            let refused = await libraryError { _ = try await service.paymentBatches.withdraw(batch.id, reason: "late", actor: "cecilia") }
            #expect(refused?.category == .rule, "\(String(describing: refused))")

            for broken in ["<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"/>", "<Document", "not xml", ""] {
                let error = await libraryError { _ = try await service.bankMessages.import(Array(broken.utf8), actor: "cecilia") }
                #expect(error?.category == .input, "\(broken): \(String(describing: error))")
            }
            #expect(try count(configuration, "grants.audit_event") == after)
        }
    }
}

extension BankTests {
    /// A tranche with the bank is paid by the bank: nobody pays, cancels or sends it back by hand while its batch
    /// is live (the library, a staff login's own call, a raw UPDATE by the owner), and the bank's notification
    /// still pays it; withdrawn, it is paid by hand again.
    @Test func aTrancheWithTheBankIsNotPaidByHand() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await payingProgramme(service)
            try await service.payeeAccounts.set("Växjö kommun", to: Self.bankgiro, reason: "Letter", actor: "anna")
            try await service.payeeAccounts.verify("Växjö kommun", actor: "bertil")
            let tranches = try await attestedGrant(service, "A", tranches: 2)
            let batch = try #require(try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "cecilia").batch)
            let id = tranches[0].id
            let paid = await libraryError {
                _ = try await service.disbursements.pay(id, paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "david")
            }
            #expect(paid == .inPaymentBatch(disbursement: String(id), batch: batch.id, messageID: batch.messageID, to: "paid"))
            #expect(paid?.category == .rule)
            #expect(paid?.description.contains("withdraw the batch") == true, "\(String(describing: paid))")
            #expect(paid?.description.contains("wait for the bank's notification") == true)
            let cancelled = await libraryError { _ = try await service.disbursements.cancel(id, on: .today, reason: "oops", actor: "david") }
            #expect(cancelled == .inPaymentBatch(disbursement: String(id), batch: batch.id, messageID: batch.messageID, to: "cancelled"))
            #expect(
                try sqlState(configuration, user: "test_staff", "SELECT * FROM grants_api.pay(\(id), '2022-02-01', 'P-1')") == "GR002")
            #expect(
                try sqlState(
                    configuration,
                    "UPDATE grants.disbursement SET status = 'paid', paid_on = '2022-02-01', payment_reference = 'x', paid_by = 'david' WHERE id = \(id)"
                )
                    == "GR002")
            #expect(try sqlState(configuration, "UPDATE grants.disbursement SET status = 'scheduled' WHERE id = \(id)") == "GR002")
            #expect(try await service.disbursements.get(id).status == .attested)

            // The bank's notification pays it.
            let notification = Array(
                Self.camt054(booked: CalendarDate.today.iso, endToEndID: "GRANTS-D\(id)", amount: "500.00", creditOCR: "18", credit: "1.00")
                    .utf8)
            let imported = try await service.bankMessages.import(notification, actor: "cecilia")
            #expect(imported.first?.outcome == "paid", "\(imported)")
            #expect(try await service.disbursements.get(id).status == .paid)

            // The other tranche, rejected by the bank, is out of the batch: paid by hand again.
            let status = Array(Self.pain002(originalMessageID: batch.messageID, rejected: "GRANTS-D\(tranches[1].id)").utf8)
            #expect(try await service.bankMessages.import(status, actor: "cecilia").map(\.outcome) == ["rejected"])
            let byHand = try await service.disbursements.pay(
                tranches[1].id, paidOn: day("2022-02-01"), paymentReference: "P-2", actor: "david")
            #expect(byHand.status == .paid)
        }
    }
}

extension BankTests {
    /// Reconciliation after a batch, a rejection, a booking, a withdrawn batch and an unmatched credit: each
    /// tranche in the right state with its amount, the still-open one marked, the bank's unmatched entries listed
    /// with theirs; a period outside shows nothing; finance reads it too.
    @Test func reconcileShowsWhatTheBankDid() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await payingProgramme(service)
            try await service.payeeAccounts.set("Växjö kommun", to: Self.bankgiro, reason: "Letter", actor: "anna")
            try await service.payeeAccounts.verify("Växjö kommun", actor: "bertil")
            let a = try await attestedGrant(service, "A", tranches: 2)
            let b = try await attestedGrant(service, "B", attester: "cecilia")[0]
            let first = try #require(try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "cecilia").batch)
            let status = Array(Self.pain002(originalMessageID: first.messageID, rejected: "GRANTS-D\(a[1].id)").utf8)
            _ = try await service.bankMessages.import(status, actor: "cecilia")
            let today = CalendarDate.today
            let notification = Array(
                Self.camt054(booked: today.iso, endToEndID: "GRANTS-D\(a[0].id)", amount: "500.00", creditOCR: "18", credit: "250.00").utf8)
            #expect(
                try await service.bankMessages.import(notification, actor: "cecilia").map(\.outcome) == [
                    "paid", "mismatch", "unmatched credit",
                ])
            let second = try #require(try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "david").batch)
            #expect(second.items.map(\.disbursementID) == [a[1].id, b.id])
            try await service.paymentBatches.withdraw(second.id, reason: "Wrong date", actor: "david")
            let third = try #require(try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "cecilia").batch)

            let r = try await service.paymentBatches.reconcile()
            let rows = r.payments.map { "\($0.batchID) \($0.disbursementID) \($0.state) \($0.amount.plain) \($0.stillOpen)" }
            #expect(
                rows == [
                    "\(first.id) \(a[0].id) booked 500.00 false", "\(first.id) \(a[1].id) rejected 500.00 false",
                    "\(second.id) \(a[1].id) withdrawn 500.00 false", "\(second.id) \(b.id) withdrawn 1000.00 true",
                    "\(third.id) \(a[1].id) sent 500.00 false",
                ], "\(rows)")
            #expect(r.payments[0].paidOn == today && r.payments[0].paymentReference == "BANKREF-1")
            #expect(r.payments[1].reason == "AC01")
            let findings = r.findings.map { "\($0.outcome) \($0.amount?.plain ?? "-") \($0.reference ?? "-") \($0.bookedOn?.iso ?? "-")" }
            #expect(findings == ["mismatch 1.00 GRANTS-D999999 \(today.iso)", "unmatched credit 250.00 18 \(today.iso)"], "\(findings)")

            let later = try CalendarDate(daysSinceEpoch: today.daysSinceEpoch + 30)
            let none = try await service.paymentBatches.reconcile(from: later)
            #expect(none.payments.isEmpty && none.findings.isEmpty)
            #expect(try await service.paymentBatches.reconcile(programme: "Kommunala partnerskap", to: today).payments.isEmpty)
            #expect(try await service.paymentBatches.reconcile(programme: "Kommunala partnerskap").payments.count == 5)

            var finance = configuration
            finance["user"] = "test_finance"
            let reader = GrantsService(configuration: GrantsConfiguration(database: finance))
            #expect(try await reader.paymentBatches.reconcile() == r)
        }
    }
}

extension BankTests {
    /// A Plusgiro creditor as Swedish banks take it (Swedish Common Interpretation of ISO 20022, Appendix 1):
    /// the number under the ISO code `BBAN`, not a proprietary scheme, and PlusGirot's clearing 9960 as its agent;
    /// a Bankgiro creditor keeps its proprietary `BGNR` and 9900. The file stays valid against the official XSD.
    @Test func aPlusgiroCreditorIsABBANWithPlusGirotsClearing() throws {
        let plusgiro = try PaymentAccount(kind: "plusgiro", number: "902002-5")
        let debtor = try PaymentAccount(kind: "iban", number: "SE4550000000058398257466", bic: "ESSESESS")
        let transfer = { (id: String, account: PaymentAccount) in
            PaymentFile.Transfer(
                endToEndID: id, amount: Money(minorUnits: 50_000, currency: .sek), executionDate: day("2024-02-01"),
                creditorName: "Växjö kommun", creditorAccount: account, remittance: "A tranche 1")
        }
        let file = PaymentFile(
            messageID: "GRANTS-B1-20240115093000", createdAt: Date(timeIntervalSince1970: 1_705_311_000), debtorName: "ICLD",
            debtorAccount: debtor, transfers: [transfer("GRANTS-D1", plusgiro), transfer("GRANTS-D2", Self.bankgiro)])
        let bytes = try Pain001Writer.document(file)
        let xml = String(decoding: bytes, as: UTF8.self)
        func creditor(_ endToEndID: String) -> String {
            let start = xml.range(of: "<EndToEndId>\(endToEndID)</EndToEndId>")?.upperBound ?? xml.endIndex
            return String(xml[start...]).components(separatedBy: "</CdtTrfTxInf>")[0].filter { !$0.isWhitespace }
        }
        #expect(
            creditor("GRANTS-D1").contains(
                "<CdtrAgt><FinInstnId><ClrSysMmbId><ClrSysId><Cd>SESBA</Cd></ClrSysId><MmbId>9960</MmbId></ClrSysMmbId></FinInstnId></CdtrAgt>"
            ), "\(creditor("GRANTS-D1"))")
        #expect(
            creditor("GRANTS-D1").contains("<CdtrAcct><Id><Othr><Id>9020025</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id></CdtrAcct>"),
            "\(creditor("GRANTS-D1"))")
        #expect(
            creditor("GRANTS-D2").contains(
                "<CdtrAcct><Id><Othr><Id>50501055</Id><SchmeNm><Prtry>BGNR</Prtry></SchmeNm></Othr></Id></CdtrAcct>"),
            "\(creditor("GRANTS-D2"))")
        #expect(creditor("GRANTS-D2").contains("<MmbId>9900</MmbId>"))
        #expect(!xml.contains("PGNR"))
        try Self.validate(bytes, schema: "iso20022/pain.001.001.03.xsd")
    }

    /// The bank's answers are finance's to import: a staff or a service login, by the library or by hand with a
    /// message of its own making, gets no EXECUTE and nothing changes; finance's own login imports the same file
    /// and the tranche is paid, recorded as finance's person.
    @Test func onlyFinanceImportsTheBanksAnswers() async throws {
        try await TestGrants.withService { service, configuration in
            try await seedRound(service)
            try await payingProgramme(service)
            try await service.payeeAccounts.set("Växjö kommun", to: Self.bankgiro, reason: "Letter", actor: "anna")
            try await service.payeeAccounts.verify("Växjö kommun", actor: "bertil")
            let tranche = try await attestedGrant(service, "A")[0]
            _ = try #require(try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "cecilia").batch)
            let today = CalendarDate.today.iso
            let fabricated: PGQuery = """
                SELECT * FROM grants_api.import_bank_message('camt.054', 'FAKE-1',
                  jsonb_build_array(jsonb_build_object('credit', false, 'status', 'BOOK', 'amount', 100000, 'currency', 'SEK',
                                                       'booked_on', \(today)::text, 'end_to_end_id', \("GRANTS-D\(tranche.id)")::text)))
                """
            for user in ["test_staff", "test_service"] {
                #expect(try sqlState(configuration, user: user, fabricated) == "42501", "\(user)")
            }
            let notification = Array(
                Self.camt054(booked: today, endToEndID: "GRANTS-D\(tranche.id)", amount: "1000.00", creditOCR: "18", credit: "1.00").utf8)
            for user in ["test_staff", "test_service"] {
                var login = configuration
                login["user"] = user
                let other = GrantsService(configuration: GrantsConfiguration(database: login, poolSize: 1))
                let refused = await libraryError { _ = try await other.bankMessages.import(notification, actor: "test_staff") }
                await other.close()
                #expect(refused == GrantsError.notPermitted("permission denied for function import_bank_message"), "\(user)")
            }
            #expect(try await service.disbursements.get(tranche.id).status == .attested)
            #expect(try count(configuration, "grants.bank_message") == 0)

            var financeLogin = configuration
            financeLogin["user"] = "test_finance"
            let finance = GrantsService(configuration: GrantsConfiguration(database: financeLogin, poolSize: 1))
            let imported = try await finance.bankMessages.import(notification, actor: "test_finance")
            await finance.close()
            #expect(imported.map(\.outcome) == ["paid", "mismatch", "unmatched credit"], "\(imported)")
            let paid = try await service.disbursements.get(tranche.id)
            #expect(paid.status == .paid && paid.paymentReference == "BANKREF-1")
            let payer = try PGConnection(configuration: configuration).query(
                "SELECT paid_by, (SELECT imported_by FROM grants.bank_message) FROM grants.disbursement WHERE id = \(tranche.id)")
            #expect(try payer[0].decode(String.self, column: 0) == "test_finance")
            #expect(try payer[0].decode(String.self, column: 1) == "test_finance")
        }
    }

    /// The programme's own account can be changed from a Bankgiro number to an IBAN and back, and unset: a
    /// setting named in `unset` is cleared in the same call that sets the other; a name that is no setting, or
    /// one both given and unset, is refused with nothing written; without a debtor account no batch is created.
    @Test func debtorSettingsCanBeUnset() async throws {
        try await TestGrants.withService { service, _ in
            try await seedRound(service)
            var bankgiro = ProgrammeSettings()
            bankgiro.debtorName = "Kommunala partnerskap"
            bankgiro.debtorBankgiro = "991-2346"
            let programme = "Kommunala partnerskap"
            try await service.programmes.set(programme, settings: bankgiro, actor: "anna")
            var iban = ProgrammeSettings()
            iban.debtorIBAN = "SE45 5000 0000 0583 9825 7466"
            iban.debtorBIC = "ESSESESS"
            let both = await libraryError { try await service.programmes.set(programme, settings: iban, actor: "anna") }
            #expect(String(describing: both).contains("debtor_bankgiro"), "\(String(describing: both))")
            let moved = try await service.programmes.set(programme, settings: iban, unset: ["debtor_bankgiro"], actor: "anna")
            #expect(moved.settings.debtorBankgiro == nil && moved.settings.debtorIBAN == "SE4550000000058398257466")
            #expect(moved.settings.debtorBIC == "ESSESESS" && moved.settings.debtorName == "Kommunala partnerskap")
            let unknown = await libraryError {
                try await service.programmes.set(programme, settings: ProgrammeSettings(), unset: ["debtor_account"], actor: "anna")
            }
            #expect(unknown == GrantsError.invalidInput([Problem("unset", "\"debtor_account\" is not a programme setting")]))
            let twice = await libraryError {
                try await service.programmes.set(programme, settings: iban, unset: ["debtor_iban"], actor: "anna")
            }
            #expect(twice == GrantsError.invalidInput([Problem("debtor_iban", "is both given and unset")]))
            #expect(try await service.programmes.show(programme).settings == moved.settings)

            let cleared = try await service.programmes.set(
                programme, settings: ProgrammeSettings(), unset: ["debtor_iban", "debtor_bic", "debtor_name"], actor: "anna")
            #expect(cleared.settings.debtorIBAN == nil && cleared.settings.debtorBIC == nil && cleared.settings.debtorName == nil)
            // Unsetting what is not set changes nothing and records nothing.
            let events = try await service.audit.list().count
            _ = try await service.programmes.set(programme, settings: ProgrammeSettings(), unset: ["debtor_bankgiro"], actor: "anna")
            #expect(try await service.audit.list().count == events)
            let noDebtor = await libraryError {
                _ = try await service.paymentBatches.create(executionDate: Self.nextWeek, actor: "cecilia")
            }
            #expect(String(describing: noDebtor).contains("debtor_name"), "\(String(describing: noDebtor))")
        }
    }
}

extension BankTests {
    /// A camt.054.001.02 notification `messageID` of booked entries (``booked(_:credit:on:reference:endToEndID:ocr:)``).
    static func notification(_ messageID: String, _ entries: [String]) -> [UInt8] {
        Array(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
              <BkToCstmrDbtCdtNtfctn>
                <GrpHdr><MsgId>\(messageID)</MsgId><CreDtTm>2026-01-03T06:00:00</CreDtTm></GrpHdr>
                <Ntfctn><Id>\(messageID)-1</Id><CreDtTm>2026-01-03T06:00:00</CreDtTm><Acct><Id><IBAN>SE4550000000058398257466</IBAN></Id></Acct>
            \(entries.joined(separator: "\n"))
                </Ntfctn>
              </BkToCstmrDbtCdtNtfctn>
            </Document>
            """.utf8)
    }

    /// One booked entry: a debit naming a payment by its EndToEndId, or a credit quoting an OCR reference.
    static func booked(
        _ amount: Money, credit: Bool, on date: CalendarDate, reference: String, endToEndID: String? = nil, ocr: String? = nil
    ) -> String {
        let details =
            (endToEndID.map { "<Refs><EndToEndId>\($0)</EndToEndId></Refs>" } ?? "")
            + (ocr.map { "<RmtInf><Strd><CdtrRefInf><Ref>\($0)</Ref></CdtrRefInf></Strd></RmtInf>" } ?? "")
        return """
                  <Ntry><Amt Ccy="\(amount.currency.rawValue)">\(amount.plain)</Amt><CdtDbtInd>\(credit ? "CRDT" : "DBIT")</CdtDbtInd><Sts>BOOK</Sts>
                    <BookgDt><Dt>\(date.iso)</Dt></BookgDt><AcctSvcrRef>\(reference)</AcctSvcrRef><BkTxCd/><NtryDtls><TxDtls>\(details)</TxDtls></NtryDtls></Ntry>
            """
    }
}

extension BankTests {
    /// The reader takes each entry as its element closes: entries of every `Ntfctn` block, numbered across them,
    /// with their details; an `Ntry` anywhere else, or in another kind of document, is no entry; a broken entry
    /// is refused with its number; a status report's transactions come from every block, in order.
    @Test func theReaderTakesEntriesOneByOneWhereTheyBelong() throws {
        let today = CalendarDate.today
        let one = Self.booked(sek("500"), credit: false, on: today, reference: "R-1", endToEndID: "GRANTS-D1")
        let two = Self.booked(sek("400"), credit: true, on: today, reference: "R-2", ocr: "18")
        let three = Self.booked(sek("1.50"), credit: false, on: today, reference: "R-3", endToEndID: "GRANTS-D3")
        var text = String(decoding: Self.notification("NTF-9", [one, two]), as: UTF8.self)
        let account = "<Acct><Id><IBAN>SE4550000000058398257466</IBAN></Id></Acct>"
        text = text.replacingOccurrences(
            of: "    </Ntfctn>",
            with: "    </Ntfctn>\n    <Ntfctn><Id>NTF-9-2</Id><CreDtTm>2026-01-03T06:00:00</CreDtTm>\(account)\n\(three)\n    </Ntfctn>")
        text = text.replacingOccurrences(of: "<GrpHdr>", with: "<GrpHdr>\(one)")
        guard case .notification(let notification) = try BankMessage.read(Array(text.utf8)) else {
            Issue.record("not read as a notification")
            return
        }
        #expect(notification.messageID == "NTF-9")
        #expect(notification.entries.map(\.amount) == [sek("500"), sek("400"), sek("1.50")])
        #expect(notification.entries.map(\.isCredit) == [false, true, false])
        #expect(notification.entries.map { $0.details.first?.endToEndID } == ["GRANTS-D1", nil, "GRANTS-D3"])
        #expect(notification.entries[1].details.first?.creditorReference == "18")
        #expect(notification.entries.allSatisfy { $0.bookingDate == today && $0.status == "BOOK" })

        let broken = text.replacingOccurrences(of: "<CdtDbtInd>CRDT</CdtDbtInd>", with: "<CdtDbtInd>X</CdtDbtInd>")
        let refused = #expect(throws: GrantsError.self) { try BankMessage.read(Array(broken.utf8)) }
        #expect(String(describing: refused).contains("Ntry[1]"), "\(String(describing: refused))")
        let statement = text.replacingOccurrences(of: "camt.054.001.02", with: "camt.053.001.02")
        let other = #expect(throws: GrantsError.self) { try BankMessage.read(Array(statement.utf8)) }
        #expect(String(describing: other).contains("neither pain.002.001.03 nor camt.054.001.02"), "\(String(describing: other))")

        let second = "<TxInfAndSts><OrgnlEndToEndId>GRANTS-D2</OrgnlEndToEndId><TxSts>ACSC</TxSts></TxInfAndSts>"
        let report = Self.pain002(originalMessageID: "GRANTS-B1-20240115093000", rejected: "GRANTS-D1")
            .replacingOccurrences(
                of: "    </OrgnlPmtInfAndSts>",
                with: "    </OrgnlPmtInfAndSts>\n    <OrgnlPmtInfAndSts><OrgnlPmtInfId>X-2</OrgnlPmtInfId>\(second)</OrgnlPmtInfAndSts>")
        guard case .statusReport(let status) = try BankMessage.read(Array(report.utf8)) else {
            Issue.record("not read as a status report")
            return
        }
        #expect(status.transactions.map(\.endToEndID) == ["GRANTS-D1", "GRANTS-D2"])
        #expect(status.transactions.map(\.status) == ["RJCT", "ACSC"] && status.transactions[0].reason == "AC01")
    }
}
