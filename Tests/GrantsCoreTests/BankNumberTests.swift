import GrantsCore
import Testing

/// Bankgiro, Plusgiro, IBAN, BIC and OCR numbers checked at the door: real-shaped valid numbers, each with every
/// single-digit change refused (Luhn and MOD 97-10 catch them all), and the shapes that are wrong.
@Suite("Bank numbers")
struct BankNumberTests {
    /// Valid numbers of each kind; `BankNumberTable` in GrantsTests compares them with the database's checks.
    static let bankgiro = ["5050-1055", "50501055", "991-2346", "9912346", "5402-9681", "297-3675"]
    static let plusgiro = ["90 20 02-5", "4-2", "1234-4", "902003-3", "9020033", "41 41 41-2"]
    static let ibans = [
        "SE45 5000 0000 0583 9825 7466", "SE3550000000054910000003", "DE89 3704 0044 0532 0130 00", "GB29 NWBK 6016 1331 9268 19",
        "FR14 2004 1010 0505 0001 3M02 606", "NO93 8601 1117 947", "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
        "FI21 1234 5600 0007 85", "NL91 ABNA 0417 1643 00", "BE68 5390 0754 7034", "UA21 3223 1300 0002 6007 2335 6600 1",
    ]

    @Test func validBankgiroNumbers() throws {
        for text in Self.bankgiro { #expect(BankgiroNumber.isValid(text), "\(text)") }
        #expect(try BankgiroNumber("5050-1055").digits == "50501055")
        #expect(try BankgiroNumber("50501055").description == "5050-1055")
        #expect(try BankgiroNumber("9912346").description == "991-2346")
    }

    @Test func everySingleDigitChangeIsCaught() {
        for valid in ["50501055", "9912346", "9020025", "1234566"] {
            for position in valid.indices {
                for digit in "0123456789" where digit != valid[position] {
                    var changed = valid
                    changed.replaceSubrange(position...position, with: String(digit))
                    #expect(!BankgiroNumber.isValid(changed), "\(changed)")
                    #expect(!PlusgiroNumber.isValid(changed), "\(changed)")
                    #expect(!OCRReference.isValid(changed), "\(changed)")
                }
            }
        }
    }

    @Test func wrongBankgiroShapes() {
        for text in ["", "505-105", "505010551", "5050-105A", "5050–1055", "５０５０１０５５", "-", "5050 1055 "] {
            if text == "5050 1055 " {
                #expect(BankgiroNumber.isValid(text))  // spaces are separators
            } else {
                #expect(!BankgiroNumber.isValid(text), "\(text)")
            }
        }
        #expect(throws: GrantsError.self) { try BankgiroNumber("5050-1056") }
        do {
            _ = try BankgiroNumber("5050-1056")
        } catch {
            #expect(error.description == "Bankgiro number \"5050-1056\" has a wrong check digit")
        }
    }

    @Test func plusgiroNumbers() throws {
        for text in Self.plusgiro { #expect(PlusgiroNumber.isValid(text), "\(text)") }
        #expect(try PlusgiroNumber("90 20 02-5").description == "902002-5")
        for text in ["4", "4-7", "123456789", "12a4-4", ""] { #expect(!PlusgiroNumber.isValid(text), "\(text)") }
    }

    @Test func ibans() throws {
        for text in Self.ibans { #expect(IBAN.isValid(text), "\(text)") }
        let iban = try IBAN("se45 5000 0000 0583 9825 7466")
        #expect(iban.value == "SE4550000000058398257466")
        #expect(iban.description == "SE45 5000 0000 0583 9825 7466")
        #expect(iban.country == "SE")
        // Wrong check digits, a transposition, wrong lengths, unknown countries, countries without IBAN.
        let invalid = [
            "SE46 5000 0000 0583 9825 7466", "SE45 5000 0000 0583 9825 7646", "SE45 5000 0000 0583 9825 746",
            "SE45 5000 0000 0583 9825 74661", "DE89 3704 0044 0532 0130 01", "XX89 3704 0044 0532 0130 00",
            "KE12 3456 7890 1234 5678 90", "ZA12 3456 7890 1234", "SE4A 5000 0000 0583 9825 7466", "", "SE",
            "SE45-5000-0000-0583-9825-7466", "SE4550000000058398257466\u{0}",
        ]
        for text in invalid { #expect(!IBAN.isValid(text), "\(text)") }
        let error = #expect(throws: GrantsError.self) { try IBAN("KE12 3456 7890 1234 5678 90") }
        #expect(error?.code == .invalidBankNumber && error?.category == .input)
        #expect(error?.message.contains("no IBAN") == true)
    }

    @Test func everySingleCharacterChangeOfAnIBANIsCaught() {
        let valid = "SE4550000000058398257466"
        for position in valid.indices.dropFirst(2) {
            for digit in "0123456789" where digit != valid[position] {
                var changed = valid
                changed.replaceSubrange(position...position, with: String(digit))
                #expect(!IBAN.isValid(changed), "\(changed)")
            }
        }
    }

    @Test func bics() throws {
        for text in ["ESSESESS", "HANDSESS", "NDEASESS", "SWEDSESS", "DEUTDEFF500", "essesess"] { #expect(BIC.isValid(text), "\(text)") }
        for text in ["ESSESES", "ESSESESSX", "ESS1SESS", "ESSES1SS", "ESSESESS50", "", "ESSE SESS X"] {
            #expect(!BIC.isValid(text), "\(text)")
        }
        #expect(try BIC("deutdeff500").value == "DEUTDEFF500")
    }

    @Test func ocrReferences() throws {
        let made = try #require(OCRReference.make(base: "4711", lengthDigit: true))
        #expect(made.digits == "471169")
        #expect(made.hasLengthDigit)
        #expect(try OCRReference("471169", requireLengthDigit: true) == made)
        #expect(OCRReference.make(base: "4711", lengthDigit: false)?.digits == "47118")
        #expect(OCRReference.isValid("1234566"))
        #expect(throws: GrantsError.self) { try OCRReference("47118", requireLengthDigit: true) }
        for text in ["1", "471163", "12a4", String(repeating: "1", count: 26), ""] { #expect(!OCRReference.isValid(text), "\(text)") }
        #expect(OCRReference.make(base: "", lengthDigit: true) == nil)
        #expect(OCRReference.make(base: String(repeating: "9", count: 24), lengthDigit: false) == nil)
        for base in 1...500 {
            let ocr = try #require(OCRReference.make(base: String(base), lengthDigit: true))
            #expect(OCRReference.isValid(ocr.digits) && ocr.hasLengthDigit, "\(ocr)")
        }
    }

    @Test func paymentAccounts() throws {
        #expect(try PaymentAccount(kind: "bankgiro", number: "5050-1055").description == "Bankgiro 5050-1055")
        #expect(try PaymentAccount(kind: "plusgiro", number: "902002-5").number == "9020025")
        let iban = try PaymentAccount(kind: "iban", number: "SE45 5000 0000 0583 9825 7466", bic: "ESSESESS")
        #expect(iban.number == "SE4550000000058398257466" && iban.bic?.value == "ESSESESS")
        #expect(throws: GrantsError.self) { try PaymentAccount(kind: "bankgiro", number: "5050-1055", bic: "ESSESESS") }
        #expect(throws: GrantsError.self) { try PaymentAccount(kind: "swish", number: "1234567") }
    }
}
