import Foundation
import GrantsCore
import Testing

@Suite("Money, amounts, organisationsnummer, dates")
struct ValueTests {
    @Test(arguments: [
        ("1 000,50", Int64(100_050)), ("1000.5", 100_050), ("10 641 000", 1_064_100_000), ("950000", 95_000_000),
        ("1\u{00A0}000", 100_000), ("1\u{202F}000\u{202F}000,05", 100_000_005), ("5 kr", 500), ("5kr", 500),
        ("475 000 SEK", 47_500_000), ("0,01", 1), (" 12 ", 1200), ("92233720368547758.07", Int64.max),
    ])
    func acceptedAmounts(text: String, minor: Int64) throws {
        #expect(try AmountParser.parse(text) == minor)
    }

    @Test(arguments: [
        "1,000", "1.000.000", "-5", "0", "0,00", "1e6", "NaN", "", "kr", "1 00", "10 0000", "1  000", "1,", ",5",
        "1,5,0", "92233720368547758.08", "99999999999999999999", "+5", "5 €", "1.234,56", "1 000.000", "∞", "١٢٣",
        "12 SEK kr", "1\u{0}0",
    ])
    func refusedAmounts(text: String) {
        #expect(throws: GrantsError.self) { try AmountParser.parse(text) }
    }

    @Test func moneyArithmeticIsChecked() throws {
        let a = Money(minorUnits: .max, currency: .sek)
        #expect(throws: GrantsError.amountOutOfRange) { try a + Money(minorUnits: 1, currency: .sek) }
        let euro = try #require(Currency(rawValue: "EUR"))
        #expect(throws: GrantsError.self) { try Money(minorUnits: 1, currency: .sek) + Money(minorUnits: 1, currency: euro) }
        #expect(Money(minorUnits: 1_064_100_000, currency: .sek).swedish == "10\u{00A0}641\u{00A0}000\u{00A0}kr")
        #expect(Money(minorUnits: -123_450, currency: .sek).plain == "-1234.50")
        #expect(Money(minorUnits: 5, currency: .sek).decimalComma == "0,05")
        #expect(Money(minorUnits: 1_064_100_000, currency: .sek).english == "SEK 10,641,000")
        #expect(Currency(rawValue: "sek") == nil)
    }

    @Test func organisationNumbers() throws {
        for valid in ["212000-0142", "212000-1355", "212000-1124", "2120001124"] {
            #expect(OrganisationNumber.isValid(valid), "\(valid)")
        }
        #expect(try OrganisationNumber("2120000142").value == "212000-0142")
        for invalid in ["212000-0143", "212000-014", "21200-00142", "201000-0142x", "120000-0142", "abcdef-ghij", "212-000-0142", ""] {
            #expect(!OrganisationNumber.isValid(invalid), "\(invalid)")
        }
    }

    @Test func calendarDates() throws {
        #expect(try CalendarDate("2024-02-29").iso == "2024-02-29")
        for invalid in ["2023-02-29", "2021-13-01", "2021-1-01", "20211201", "2021-12-01T00:00", "0000-01-01", "２０２１-12-01"] {
            #expect(throws: GrantsError.self) { try CalendarDate(invalid) }
        }
        let day = try CalendarDate("2000-01-01")
        #expect(day.daysSinceEpoch == 10_957)
        #expect(try CalendarDate(daysSinceEpoch: day.daysSinceEpoch) == day)
        for days in stride(from: -700_000, to: 2_900_000, by: 9_973) {
            let date = try CalendarDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
        }
    }

    @Test func stateMachinesRefuseInvalidChanges() {
        #expect(DisbursementStatus.scheduled.canTransition(to: .attested))
        #expect(!DisbursementStatus.scheduled.canTransition(to: .paid))
        #expect(!DisbursementStatus.paid.canTransition(to: .cancelled))
        #expect(!DisbursementStatus.paid.canTransition(to: .scheduled))
        #expect(!DisbursementStatus.cancelled.canTransition(to: .attested))
        #expect(throws: GrantsError.self) {
            try DisbursementStatus.paid.checkTransition(to: .cancelled, entity: "disbursement", key: "1")
        }
        for from in ApplicationStatus.allCases where from != .submitted {
            for to in ApplicationStatus.allCases { #expect(!from.canTransition(to: to)) }
        }
        #expect(!RoundStatus.closed.canTransition(to: .open))
        #expect(!GrantStatus.closed.canTransition(to: .active))
    }
}
