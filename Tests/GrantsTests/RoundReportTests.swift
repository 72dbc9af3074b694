import Foundation
import TestSupport
import Testing

@testable import Grants

/// The round summary's breakdowns and the announcement texts.
@Suite("Round report")
struct RoundReportTests {
    static let equality = Theme(code: "gender-equality", nameSv: "Jämställdhet", nameEn: "Gender equality", dacSector: "15170")

    /// Three grants whose amounts do not divide by their number of themes or countries: one with three themes and
    /// three countries, one with two themes and two partners in one country beside a third elsewhere, one with
    /// one of each.
    static func awkwardRound() -> RoundManifest {
        var manifest = sampleManifest(count: 3)
        manifest.themes.append(equality)
        func grant(_ i: Int, _ amount: String, themes: [String], partners: [(String, String)]) {
            manifest.grants[i].amount = sek(amount)
            manifest.grants[i].requested = sek(amount)
            manifest.grants[i].themes = themes
            manifest.grants[i].partners = partners.map { NewOrganisation(name: $0.0, country: $0.1, kind: .region) }
            manifest.grants[i].tranches = [Tranche(dueOn: day("2022-01-31"), amount: sek(amount))]
        }
        grant(0, "100 000,01", themes: [equality.code, dialogue.code, youth.code], partners: [("A", "ZM"), ("B", "KE"), ("C", "TZ")])
        grant(1, "333 333,33", themes: [youth.code, dialogue.code], partners: [("D", "KE"), ("E", "UA"), ("F", "KE")])
        grant(2, "7 000", themes: [dialogue.code], partners: [("G", "UA")])
        return manifest
    }

    @Test func byCountryAndByThemeAddUpToTheAwardedTotalToTheOre() async throws {
        try await TestGrants.withService { service, _ in
            try await service.rounds.record(Self.awkwardRound(), actor: "anna")
            // An amendment moves the award, and the breakdowns with it.
            try await service.grants.amend("KP-1", amountChange: sek("0,02"), reason: "Rounding", on: .today, actor: "anna")
            let report = try await service.reports.round("2021:2")
            let awarded: Int64 = 100_000_03 + 333_333_33 + 7_000_00
            #expect(report.awarded.minorUnits == awarded)
            #expect(report.byCountry.map(\.awarded.minorUnits).reduce(0, +) == awarded)
            #expect(report.byTheme.map(\.awarded.minorUnits).reduce(0, +) == awarded)
            // KP-1: 10 000 003 öre over ZM, KE, TZ (its partners' order): ZM first, 3 333 335, the others 3 333 334.
            // KP-2: 33 333 333 over KE (first partner) and UA: KE takes the odd öre. KP-3: all to UA.
            let countries = Dictionary(uniqueKeysWithValues: report.byCountry.map { ($0.country, $0) })
            #expect(countries["ZM"]?.awarded.minorUnits == 3_333_335)
            #expect(countries["TZ"]?.awarded.minorUnits == 3_333_334)
            #expect(countries["KE"]?.awarded.minorUnits == 20_000_001)
            #expect(countries["UA"]?.awarded.minorUnits == 17_366_666)
            #expect(countries["KE"]?.grants == 2 && countries["UA"]?.grants == 2, "a grant counts once per country")
            // Themes in the order the grant lists them; the first takes the remainder.
            let themes = Dictionary(uniqueKeysWithValues: report.byTheme.map { ($0.theme, $0) })
            #expect(themes[Self.equality.code]?.awarded.minorUnits == 3_333_335)
            #expect(themes[youth.code]?.awarded.minorUnits == 20_000_001)
            #expect(themes[dialogue.code]?.awarded.minorUnits == 20_700_000)
        }
    }

    /// The 2022:1 example used to count each grant once per country, adding up to far more than was awarded.
    @Test func theExampleRoundAddsUp() async throws {
        try await TestGrants.withService { service, _ in
            let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples")
            for name in ["kommunala-partnerskap-2021-1.yaml", "kommunala-partnerskap-2022-1.yaml"] {
                let file = examples.appendingPathComponent(name)
                try await service.rounds.record(try RoundManifest.parse(try Data(contentsOf: file), fileName: name), actor: "anna")
            }
            let example = try await service.reports.round("2022:1")
            #expect(example.awarded == sek("18 240 000"))
            #expect(example.byCountry.map(\.awarded.minorUnits).reduce(0, +) == example.awarded.minorUnits)
            #expect(example.byTheme.map(\.awarded.minorUnits).reduce(0, +) == example.awarded.minorUnits)
        }
    }

    @Test func announcementsStateTheAwardsAsDecidedAndTheAmendmentsApart() async throws {
        try await TestGrants.withService { service, _ in
            try await service.rounds.record(sampleManifest(count: 3), actor: "anna")
            try await service.grants.amend("KP-1", amountChange: sek("10 000"), reason: "Interpreter", on: .today, actor: "anna")
            // A decrease needs the tranche it takes from cancelled first.
            let second = try #require(try await service.disbursements.list().last { $0.grantReference == "KP-2" })
            try await service.disbursements.cancel(second.id, on: .today, reason: "Smaller", actor: "anna")
            try await service.grants.amend("KP-2", amountChange: try sek("22 500,50").negated, reason: "Smaller", on: .today, actor: "anna")
            let report = try await service.reports.round("2021:2")
            #expect(report.decided == sek("1 500 000") && report.awarded == sek("1 487 499,50"))
            #expect(report.amended == (try sek("12 500,50").negated) && report.amendedGrants == 2)
            let sv = report.announcementSwedish
            #expect(sv.hasPrefix("3 svenska kommuner får dela på 1 500 000 kronor för internationella demokratisamarbeten"), "\(sv)")
            #expect(sv.contains(" Projekten handlar om "), "\(sv)")
            #expect(
                sv.hasSuffix(
                    " Efter beslutet har 2 bidrag ändrats: beloppen har sammanlagt minskat med 12 500,50 kronor, till 1 487 499,50 kronor."),
                "\(sv)")
            let en = report.announcementEnglish
            #expect(en.hasPrefix("3 Swedish municipalities share SEK 1,500,000 for"), "\(en)")
            #expect(en.contains(" The projects address "))
            #expect(
                en.hasSuffix(
                    " Since the decision, 2 grants have been amended: the awards have decreased by SEK 12,500.50 in total, to SEK 1,487,499.50."
                ),
                "\(en)")
        }
    }

    @Test func aOneProjectRoundReadsInTheSingular() async throws {
        try await TestGrants.withService { service, _ in
            var manifest = sampleManifest(count: 1)
            manifest.grants[0].applicant = NewOrganisation(name: "Region Gotland", country: "SE", kind: .region)
            try await service.rounds.record(manifest, actor: "anna")
            try await service.grants.amend("KP-1", amountChange: sek("1 000"), reason: "Interpreter", on: .today, actor: "anna")
            let report = try await service.reports.round("2021:2")
            let sv = report.announcementSwedish
            #expect(
                sv.hasPrefix("Region Gotland beviljas 500 000 kronor för ett internationellt demokratisamarbete genom programmet"),
                "\(sv)")
            #expect(sv.contains(" Projektet handlar om medborgardialog och barn och ungas delaktighet."), "\(sv)")
            #expect(
                sv.hasSuffix(" Efter beslutet har 1 bidrag ändrats: beloppen har sammanlagt ökat med 1 000 kronor, till 501 000 kronor."))
            let en = report.announcementEnglish
            #expect(en.contains(" The project addresses citizen dialogue and "), "\(en)")
            #expect(
                en.hasSuffix(
                    " Since the decision, 1 grant has been amended: the awards have increased by SEK 1,000 in total, to SEK 501,000."))
        }
    }

    @Test func recipientsAreCountedInTheRightNumber() {
        func report(municipalities: Int, regions: Int) -> RoundReport {
            let recipients =
                (0..<municipalities).map {
                    RoundReport.Recipient(name: "Kommun \($0)", kind: .municipality, orgNumber: nil, grants: 1, awarded: sek("1 000"))
                }
                + (0..<regions).map {
                    RoundReport.Recipient(name: "Region \($0)", kind: .region, orgNumber: nil, grants: 1, awarded: sek("1 000"))
                }
            let total = sek("\(recipients.count) 000")
            let zero = Money(minorUnits: 0, currency: .sek)
            return RoundReport(
                programme: "P", round: "R", currency: .sek, status: .open, decidedOn: nil, budget: total, awarded: total, decided: total,
                amended: zero, amendedGrants: 0, disbursed: zero, repaid: zero, claimedOpen: zero, remaining: zero,
                grants: recipients.count, byTheme: [], byCountry: [], recipients: recipients)
        }
        #expect(
            report(municipalities: 1, regions: 1).announcementSwedish.hasPrefix("1 svensk kommun och 1 region får dela på 2 000 kronor"))
        #expect(report(municipalities: 3, regions: 1).announcementSwedish.hasPrefix("3 svenska kommuner och 1 region får dela"))
        #expect(report(municipalities: 1, regions: 2).announcementSwedish.hasPrefix("1 svensk kommun och 2 regioner får dela"))
        #expect(report(municipalities: 0, regions: 2).announcementSwedish.hasPrefix("2 svenska regioner får dela"))
        #expect(report(municipalities: 2, regions: 2).announcementSwedish.hasPrefix("4 svenska kommuner och regioner får dela"))
        #expect(report(municipalities: 1, regions: 1).announcementEnglish.hasPrefix("1 Swedish municipality and 1 region share SEK 2,000"))
        #expect(report(municipalities: 0, regions: 3).announcementEnglish.hasPrefix("3 Swedish regions share"))
        #expect(RoundReport.kronor(sek("1")) == "1 krona" && RoundReport.kronor(sek("1,50")) == "1,50 kronor")
    }
}
