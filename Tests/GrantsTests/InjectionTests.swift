import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("Injection payloads")
struct InjectionTests {
    static let payloads = [
        "'; DROP TABLE grants.grant; --", "Robert\"); DELETE FROM grants.audit_event; --", "$1 $$ \\x00 \\' %s %n",
        "=HYPERLINK(\"http://evil\")", "<script>alert(1)</script> & <iati-activity>", "{\"grants\": []} ]]> #KSUMMA 0",
    ]

    /// Every text field carries a payload; everything is stored and exported verbatim and nothing else happens.
    @Test func everyTextFieldIsStoredAndExportedVerbatim() async throws {
        try await TestGrants.withService { service, configuration in
            let p = Self.payloads
            let theme = Theme(code: "injection", nameSv: p[0], nameEn: p[1])
            var manifest = RoundManifest(
                programme: "P " + p[2],
                round: NewRound(programme: "P " + p[2], name: p[3], budget: sek("1 000 000"), decidedOn: day("2021-12-01")),
                themes: [theme], grants: [])
            manifest.grants = [
                ManifestGrant(
                    reference: "R " + p[0], title: p[4],
                    applicant: NewOrganisation(name: "Kommun " + p[1], country: "SE", kind: .municipality),
                    partners: [NewOrganisation(name: p[5], country: "KE"), NewOrganisation(name: p[2], country: "ZM")],
                    themes: ["injection"], amount: sek("1 000"), startsOn: day("2022-01-01"), endsOn: day("2022-12-31"),
                    location: ManifestLocation(base: "grants[0]", style: .path))
            ]
            // The payloads act too: registered as people first (a login is any text without control characters).
            for payload in [p[1], p[3]] { try await service.persons.add(payload, name: payload, actor: "anna") }
            try await service.rounds.record(manifest, actor: p[1])
            let d = try #require(try await service.disbursements.list().first)
            try await service.disbursements.attest(d.id, actor: p[3])
            try await service.disbursements.pay(d.id, paidOn: day("2022-02-01"), paymentReference: p[0], actor: p[3])

            let grant = try await service.grants.get("R " + p[0]).grant
            #expect(grant.title == p[4])
            #expect(grant.applicant.name == "Kommun " + p[1])
            #expect(grant.partners.map(\.name) == [p[5], p[2]])
            #expect(grant.programme == "P " + p[2] && grant.round == p[3])
            #expect(try await service.themes.list().first { $0.code == "injection" } == theme)

            let json = try await export(service, .json)
            let rows = try #require(try JSONSerialization.jsonObject(with: json) as? [[String: Any]])
            #expect(rows.first?["payment_reference"] as? String == p[0])
            #expect(rows.first?["grant_reference"] as? String == "R " + p[0])
            #expect(rows.first?["partners"] as? String == "\(p[5])|\(p[2])")
            #expect(rows.first?["round"] as? String == p[3])
            let events = try await service.audit.list()
            // An actor is an identity, stored in its normalised (lower-case) form; the payload stays inert.
            #expect(events.contains { $0.actor == p[3].lowercased() && $0.action == "disbursement.paid" })
            // No side effect: every table is there and holds what it should.
            let connection = try PGConnection(configuration: configuration)
            #expect(try connection.query("SELECT count(*) FROM grants.grant")[0].decode(Int64.self, column: 0) == 1)
            #expect(try connection.query("SELECT count(*) FROM grants.audit_event")[0].decode(Int64.self, column: 0) == Int64(events.count))
            // The other exports stay well-formed around the payloads.
            let xml = String(decoding: try await export(service, .iati), as: UTF8.self)
            #expect(xml.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;iati-activity&gt;"))
            #expect(try JSONSerialization.jsonObject(with: try await export(service, .giving360)) is [String: Any])
            #expect(try SIEReader(try await export(service, .sie)).checksumVerified)
        }
    }
}
