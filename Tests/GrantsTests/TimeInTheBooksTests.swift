import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// Time in the books (DESIGN §7): business dates select and cut every format alike; `knownAt` makes a
/// report reproducible however much is recorded later.
@Suite("Time in the books")
struct TimeInTheBooksTests {
    /// Sets recording moments (and the business dates the API cannot give yet) as a funder's year put them.
    struct Clock {
        let admin: PGConnection

        func set(_ sql: String) throws {
            try admin.execute(unsafeScript: "SET session_replication_role = replica; \(sql); RESET session_replication_role;")
        }

        /// The disbursement of `reference`'s tranche `tranche`.
        func tranche(_ reference: String, _ tranche: Int) -> String {
            "(SELECT d.id FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id WHERE g.reference = '\(reference)' AND d.tranche = \(tranche))"
        }

        func grant(_ reference: String) -> String { "(SELECT id FROM grants.grant WHERE reference = '\(reference)')" }
    }

    static let knownAt: Date = {
        // The books of 2022 as finance knew them on 1 February 2023.
        Date(timeIntervalSince1970: 1_675_209_600)
    }()

    static let year = ReportFilter(from: day("2022-01-01"), to: day("2022-12-31"), asOf: day("2022-12-31"), knownAt: knownAt)
    /// IATI and 360Giving describe whole grants: the same cut; a period would select the grants with an event in it.
    static let whole = ReportFilter(asOf: day("2022-12-31"), knownAt: knownAt)

    static var accrual: ExportOptions {
        var settings = publishingSettings
        settings.accrual = true
        settings.sieLiabilityAccount = "2890"
        return ExportOptions(overrides: settings, generatedAt: fixedOptions.generatedAt)
    }

    static func exports(_ service: GrantsService) async throws -> [DisbursementFormat: Data] {
        var out: [DisbursementFormat: Data] = [:]
        for format in DisbursementFormat.allCases {
            let filter = format == .iati || format == .giving360 ? whole : year
            out[format] = try await export(service, format, filter: filter, options: format == .sie ? accrual : fixedOptions)
        }
        return out
    }

    /// Two rounds, events recorded late and back-dated, amendments up and down, a payment reversed, a settlement
    /// with a claim, a partial repayment and a write-off at closing: the year 2022 reads the same in every format,
    /// before and after what is recorded in 2023.
    @Test func theFundersYear() async throws {
        try await TestGrants.withService { service, configuration in
            let clock = Clock(admin: try PGConnection(configuration: configuration))
            // Round 2021:2, decided 2021-12-01 and recorded the day after: KP-1, KP-2, KP-3, 500 000 each.
            try await service.rounds.record(sampleManifest(count: 3), actor: "anna")
            // Round 2022:1, decided 2022-06-15: N-1, N-2, 400 000 each.
            var second = sampleManifest(round: "2022:1", budget: "5 000 000", count: 2, amount: "400 000", prefix: "N")
            second.round.decidedOn = day("2022-06-15")
            for i in second.grants.indices {
                second.grants[i].tranches = [
                    Tranche(dueOn: day("2022-09-30"), amount: sek("200 000")), Tranche(dueOn: day("2023-03-31"), amount: sek("200 000")),
                ]
            }
            try await service.rounds.record(second, actor: "anna")
            let ids = Dictionary(
                uniqueKeysWithValues: try await service.disbursements.list().map { ("\($0.grantReference)/\($0.tranche ?? 0)", $0.id) })
            struct NoTranche: Error { let key: String }
            func id(_ key: String) throws -> Int64 {
                guard let id = ids[key] else { throw NoTranche(key: key) }
                return id
            }
            for key in ["KP-1/1", "KP-2/1", "KP-3/1", "N-1/1"] { try await service.disbursements.attest(try id(key), actor: "bertil") }
            try await service.disbursements.pay(try id("KP-1/1"), paidOn: day("2022-02-01"), paymentReference: "P-1", actor: "bertil")
            try await service.disbursements.pay(try id("KP-2/1"), paidOn: day("2022-02-03"), paymentReference: "P-2", actor: "bertil")
            try await service.disbursements.reverse(try id("KP-2/1"), on: day("2022-02-10"), reason: "Wrong account", actor: "cecilia")
            try await service.disbursements.pay(try id("KP-3/1"), paidOn: day("2022-02-15"), paymentReference: "P-3", actor: "bertil")
            try await service.grants.amend("KP-1", amountChange: sek("50 000"), reason: "Extra visit", on: .today, actor: "anna")
            try await service.disbursements.cancel(try id("KP-3/2"), on: .today, reason: "Ends early", actor: "anna")
            try await service.grants.amend("KP-3", amountChange: try sek("100 000").negated, reason: "Smaller", on: .today, actor: "anna")
            try await service.disbursements.pay(try id("N-1/1"), paidOn: day("2022-10-03"), paymentReference: "P-N1", actor: "bertil")
            // KP-3: 250 000 paid, 200 000 spent: a claim of 50 000; 20 000 comes back, 30 000 is written off at closing.
            try await service.grants.settle("KP-3", spent: sek("200 000"), on: day("2022-11-15"), actor: "anna")
            try await service.repayments.receive(
                "KP-3", amount: sek("20 000"), on: day("2022-12-10"), paymentReference: "BG 1", actor: "bertil")
            try await service.grants.close("KP-3", on: day("2022-12-20"), writeOff: "The project account is closed", actor: "anna")
            // When each was recorded: most on the day, some in the following year (the amendment down, the
            // October payment, the closing); the amendments and the cancellation carry their business dates.
            try clock.set(
                """
                UPDATE grants.allocation_round SET created_at = CASE name WHEN '2021:2' THEN timestamptz '2021-12-02 09:00Z' ELSE '2022-06-16 09:00Z' END;
                UPDATE grants.grant SET created_at = CASE WHEN reference LIKE 'KP-%' THEN timestamptz '2021-12-02 09:00Z' ELSE '2022-06-16 09:00Z' END;
                UPDATE grants.approval ap SET recorded_at = g.created_at FROM grants.grant g WHERE g.application_id = ap.application_id;
                UPDATE grants.disbursement d SET scheduled_at = g.created_at FROM grants.grant g WHERE g.id = d.grant_id AND d.status <> 'reversal';
                UPDATE grants.disbursement SET attested_at = paid_on + time '11:00' AT TIME ZONE 'UTC', paid_at = paid_on + time '12:00' AT TIME ZONE 'UTC'
                 WHERE status = 'paid';
                UPDATE grants.disbursement SET attested_at = '2023-01-15 11:00Z', paid_at = '2023-01-15 12:00Z' WHERE id = \(clock.tranche("N-1", 1));
                UPDATE grants.disbursement SET scheduled_at = '2022-02-10 12:00Z' WHERE status = 'reversal';
                UPDATE grants.disbursement SET cancelled_on = '2022-04-20', cancelled_at = '2022-04-20 12:00Z' WHERE id = \(clock.tranche("KP-3", 2));
                UPDATE grants.grant_amendment SET amended_on = '2022-03-15', amended_at = '2022-03-15 12:00Z' WHERE grant_id = \(clock.grant("KP-1"));
                UPDATE grants.grant_amendment SET amended_on = '2022-05-01', amended_at = '2023-01-20 12:00Z' WHERE grant_id = \(clock.grant("KP-3"));
                UPDATE grants.settlement SET recorded_at = '2022-11-16 12:00Z';
                UPDATE grants.repayment SET recorded_at = '2022-12-12 12:00Z';
                UPDATE grants.grant SET closed_at = '2023-01-25 12:00Z' WHERE reference = 'KP-3'
                """)
            // Finance closes 2022 once its events are in.
            try await service.periods.close("2022", actor: "cecilia")
            let before = try await Self.exports(service)

            // IATI and 360Giving for a period: the grants with an event dated in it, each written whole.
            let early = ReportFilter(from: day("2022-02-01"), to: day("2022-02-05"), asOf: day("2022-12-31"), knownAt: Self.knownAt)
            for format in [DisbursementFormat.iati, .giving360] {
                let text = String(decoding: try await export(service, format, filter: early, options: fixedOptions), as: UTF8.self)
                #expect(text.contains("-KP-1") && text.contains("-KP-2"), "\(format): paid on 1 and 3 February")
                #expect(!text.contains("-KP-3") && !text.contains("-N-1"), "\(format): nothing dated in those days")
            }

            // The CSV of 2022: every money event dated in 2022, a tranche due in 2022 not yet paid, the closing's rows.
            let csv = String(decoding: before[.csv] ?? Data(), as: UTF8.self)
            let rows = csv.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }.map { $0.components(separatedBy: ",") }
            let expected: [(String, String, String, String)] = [
                ("KP-1", "2022-02-01", "paid", "250000.00"), ("KP-2", "2022-02-03", "paid", "250000.00"),
                ("KP-2", "2022-02-10", "reversal", "-250000.00"), ("KP-3", "2022-02-15", "paid", "250000.00"),
                ("KP-3", "", "cancelled", "250000.00"), ("N-1", "2022-10-03", "paid", "200000.00"),
                ("N-2", "", "scheduled", "200000.00"), ("KP-3", "2022-12-10", "repayment", "-20000.00"),
                ("KP-3", "2022-12-20", "write-off", "30000.00"), ("KP-3", "2022-12-20", "reclaim", "-150000.00"),
            ]
            #expect(
                Set(rows.map { "\($0[3]) \($0[10]) \($0[11]) \($0[12])" }) == Set(expected.map { "\($0.0) \($0.1) \($0.2) \($0.3)" }),
                "\(csv)")
            #expect(rows.count == expected.count)
            let net = try rows.filter { ["paid", "reversal", "repayment"].contains($0[11]) }.map { try AmountParser.signed($0[12]) }
            #expect(net.reduce(0, +) == sek("680 000").minorUnits)
            #expect(rows.filter { ["write-off", "reclaim"].contains($0[11]) }.allSatisfy { $0[0].isEmpty }, "no disbursement id")
            let json = try #require(try JSONSerialization.jsonObject(with: before[.json] ?? Data()) as? [[String: Any]])
            #expect(json.count == expected.count && json.contains { $0["status"] as? String == "write-off" })

            // SIE of 2022: 13 vouchers, each balanced and dated in 2022; the same money events as the CSV.
            let sie = try SIEReader(before[.sie] ?? Data())
            #expect(sie.checksumVerified)
            #expect(sie.vouchers.count == 13, "\(sie.text)")
            for voucher in sie.vouchers { #expect(voucher.sum == 0, "balanced") }
            let dates = sie.records.filter { $0.label == "#VER" }.map { $0.fields[2] }
            #expect(dates.allSatisfy { $0.hasPrefix("2022") } && dates == dates.sorted(), "\(dates)")
            let moneyDates = rows.filter { ["paid", "reversal", "repayment", "write-off", "reclaim"].contains($0[11]) }
                .map { $0[10].replacingOccurrences(of: "-", with: "") }
            let texts = sie.records.filter { $0.label == "#VER" }.map { $0.fields[3] }
            let moneyVouchers = zip(dates, texts).filter {
                !$0.1.hasPrefix("Beslut") && !$0.1.hasPrefix("Ändring") && !$0.1.hasPrefix("Återkrav")
            }
            #expect(moneyVouchers.map(\.0).sorted() == moneyDates.sorted(), "the same events in SIE and CSV")
            #expect(texts.contains("Bidrag KP-1 Kommun 1, ref P-1"))
            for account in ["6993", "1930", "2890", "1689"] {
                #expect(sie.records.contains { $0.label == "#KONTO" && $0.fields.first == account }, "#KONTO \(account)")
            }

            // The accrual books at 2022-12-31, from the beginning: the liability is what the grants still owe
            // (commitment − paid), the receivable the open claims; both as the round reports say on that date.
            func books(_ date: String) async throws -> (lines: [SIEReader.Line], owed: Int64, open: Int64) {
                let filter = ReportFilter(to: day(date), asOf: day(date), knownAt: Self.knownAt)
                let file = try SIEReader(try await export(service, .sie, filter: filter, options: Self.accrual))
                for voucher in file.vouchers { #expect(voucher.sum == 0, "balanced") }
                var owed: Int64 = 0
                var open: Int64 = 0
                for round in ["2021:2", "2022:1"] {
                    let report = try await service.reports.round(round, asOf: day(date), knownAt: Self.knownAt)
                    owed += report.awarded.minorUnits - report.disbursed.minorUnits - report.repaid.minorUnits
                    open += report.claimedOpen.minorUnits
                }
                // The round keeps its awards as decided: a closing's reclaim is released from the liability.
                let reclaimed = try await service.grants.get("KP-3").grant.reclaimed?.minorUnits ?? 0
                if date >= "2022-12-20" { owed -= reclaimed }
                return (file.vouchers.flatMap(\.lines), owed, open)
            }
            func balance(_ lines: [SIEReader.Line], _ account: String, _ grant: String? = nil) -> Int64 {
                lines.filter { $0.account == account && (grant == nil || $0.objects == ["6", grant ?? ""]) }.map(\.amount).reduce(0, +)
            }
            let yearEnd = try await books("2022-12-31")
            #expect(-balance(yearEnd.lines, "2890") == yearEnd.owed)
            #expect(yearEnd.owed == sek("1 400 000").minorUnits)
            #expect(balance(yearEnd.lines, "1689") == yearEnd.open && yearEnd.open == 0)
            #expect(balance(yearEnd.lines, "2890", "KP-3") == 0 && balance(yearEnd.lines, "1689", "KP-3") == 0, "closed")
            #expect(balance(yearEnd.lines, "6993", "KP-3") == sek("230 000").minorUnits, "paid − repaid")
            #expect(balance(yearEnd.lines, "1930") == -sek("680 000").minorUnits)
            let beforeClosing = try await books("2022-12-15")
            #expect(-balance(beforeClosing.lines, "2890") == beforeClosing.owed)
            #expect(balance(beforeClosing.lines, "1689") == beforeClosing.open && beforeClosing.open == sek("30 000").minorUnits)

            // The round report as the books stood, and as known then.
            let first = try await service.reports.round("2021:2", asOf: day("2022-12-31"), knownAt: Self.knownAt)
            #expect(first.awarded == sek("1 450 000") && first.disbursed == sek("480 000") && first.repaid == sek("20 000"))
            #expect(first.claimedOpen == Money.zero(.sek))
            let round2 = try await service.reports.round("2022:1", asOf: day("2022-12-31"), knownAt: Self.knownAt)
            #expect(round2.awarded == sek("800 000") && round2.disbursed == sek("200 000"))

            // 2023: the next tranche paid, an amendment dated 2023, and a payment dated 28 December 2022 that was
            // only recorded in March (after the cut finance knew the year by).
            try await service.disbursements.attest(try id("KP-1/2"), actor: "bertil")
            try await service.disbursements.pay(try id("KP-1/2"), paidOn: day("2023-02-01"), paymentReference: "P-1b", actor: "bertil")
            try await service.disbursements.attest(try id("N-2/1"), actor: "bertil")
            // 2022 is closed: the late payment is refused until finance reopens the year, with a reason.
            let refused = await libraryError {
                _ = try await service.disbursements.pay(
                    try id("N-2/1"), paidOn: day("2022-12-28"), paymentReference: "P-N2", actor: "bertil")
            }
            guard refused?.code == .periodClosed else {
                Issue.record("a payment dated in the closed year 2022 was not refused: \(String(describing: refused))")
                return
            }
            try await service.periods.open("2022", reason: "The bank's statement shows a payment on 28 December", actor: "cecilia")
            try await service.disbursements.pay(try id("N-2/1"), paidOn: day("2022-12-28"), paymentReference: "P-N2", actor: "bertil")
            try await service.grants.amend("N-1", amountChange: sek("10 000"), reason: "More visits", on: .today, actor: "anna")
            try clock.set(
                """
                UPDATE grants.disbursement SET attested_at = '2023-03-01 11:00Z', paid_at = '2023-03-01 12:00Z' WHERE id = \(clock.tranche("N-2", 1));
                UPDATE grants.grant_amendment SET amended_on = '2023-02-10' WHERE grant_id = \(clock.grant("N-1"))
                """)
            try await service.periods.close("2022", actor: "cecilia")
            let after = try await Self.exports(service)
            for format in DisbursementFormat.allCases { #expect(after[format] == before[format], "\(format) changed with later events") }
            #expect(try await service.reports.round("2022:1", asOf: day("2022-12-31"), knownAt: Self.knownAt) == round2)
            // As the books stand now for 2022 (no knownAt), the back-dated payment is in.
            let now = String(
                decoding: try await export(
                    service, .csv, filter: ReportFilter(from: day("2022-01-01"), to: day("2022-12-31"), asOf: day("2022-12-31"))),
                as: UTF8.self)
            #expect(now.contains(",N-2,") && now.contains(",2022-12-28,paid,200000.00,SEK,P-N2\r\n"))
            #expect(!now.contains("P-1b"))
            for format in [DisbursementFormat.iati, .giving360] {
                #expect(String(decoding: before[format] ?? Data(), as: UTF8.self).contains("KP-3"), "\(format) is not empty")
            }
        }
    }
}

extension TimeInTheBooksTests {
    /// SIE is in SEK and books every event of its period: a programme in euros without rates, a date without a
    /// rate, and a status filter, are refused before anything is written; with rates each voucher is converted.
    @Test func sieConvertsAnotherCurrencyByItsRatesAndRefusesAStatus() async throws {
        try await TestGrants.withService { service, _ in
            let euro = try #require(Currency(rawValue: "EUR"))
            var manifest = sampleManifest(count: 1).renamed(programme: "Euro partnerships")
            func inEuro(_ money: Money) -> Money { Money(minorUnits: money.minorUnits, currency: euro) }
            manifest.round.budget = inEuro(manifest.round.budget)
            for i in manifest.grants.indices {
                manifest.grants[i].amount = inEuro(manifest.grants[i].amount)
                manifest.grants[i].requested = manifest.grants[i].amount
                manifest.grants[i].tranches = manifest.grants[i].tranches.map { Tranche(dueOn: $0.dueOn, amount: inEuro($0.amount)) }
            }
            try await service.rounds.record(manifest, actor: "anna")
            do {
                _ = try await export(service, .sie, filter: ReportFilter(programme: "Euro partnerships"))
                Issue.record("SIE in euros was written")
            } catch let caught as GrantsError where caught.code == .invalidInput {
                let problems = caught.problems
                #expect(problems.map(\.location) == ["rate"] && problems.first?.message.contains("EUR") == true, "\(problems)")
            }
            // With rates: each voucher in kronor at its date's rate; a date without one is named.
            let tranche = try #require(try await service.disbursements.list().first)
            try await service.disbursements.attest(tranche.id, actor: "bertil")
            try await service.disbursements.pay(tranche.id, paidOn: day("2022-02-01"), paymentReference: "EUR-1", actor: "bertil")
            var options = fixedOptions
            options.rates = try ExchangeRates(csv: "date,sek_per_eur\n2022-01-31,11.25\n")
            let programme = ReportFilter(programme: "Euro partnerships")
            do {
                _ = try await export(service, .sie, filter: programme, options: options)
                Issue.record("SIE without a rate for the payment's date was written")
            } catch let caught as GrantsError where caught.code == .invalidInput {
                let problems = caught.problems
                #expect(problems.map(\.location) == ["rate"] && problems.first?.message.contains("2022-02-01") == true, "\(problems)")
            }
            options.rates = try ExchangeRates(csv: "2022-02-01;11,5432\n")
            let sie = try SIEReader(try await export(service, .sie, filter: programme, options: options))
            #expect(sie.vouchers.count == 1 && sie.vouchers.first?.lines.map(\.amount) == [288_580_000, -288_580_000], "\(sie.text)")
            #expect(sie.text.contains("ref EUR-1 (250000.00 EUR)"))
            let rates = ExchangeRates(microKronorPerUnit: [day("2022-02-01"): 10_543_200])
            #expect(rates.kronor(Money(minorUnits: 1, currency: euro), on: day("2022-02-01"))?.minorUnits == 11)
            #expect(rates.kronor(Money(minorUnits: -1, currency: euro), on: day("2022-02-01"))?.minorUnits == -11)
            #expect(rates.kronor(Money(minorUnits: 1, currency: euro), on: day("2022-02-02")) == nil)
            #expect(throws: GrantsError.self) { try ExchangeRates(csv: "2022-02-01,-1\n") }
            do {
                _ = try await export(service, .sie, filter: ReportFilter(programme: "Euro partnerships", status: .paid))
                Issue.record("SIE took a status")
            } catch let caught as GrantsError where caught.code == .invalidInput {
                let problems = caught.problems
                #expect(problems.map(\.location) == ["status"])
            }
        }
    }
}
