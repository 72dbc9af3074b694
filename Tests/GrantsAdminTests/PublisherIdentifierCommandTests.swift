import Foundation
import Grants
import TestSupport
import Testing

/// `programme set` refuses an SE-ON- identifier whose organisationsnummer is not valid, and accepts the example's.
@Suite("grants-admin programme identifiers")
struct PublisherIdentifierCommandTests {
    @Test func anSeOnIdentifierNeedsAValidOrganisationsnummer() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let refused = try cli.run(["programme", "set", "Kommunala partnerskap", "--iati-publisher-ref", "SE-ON-2021004358"])
            #expect(refused.status == 65, "\(refused.stderr)")
            #expect(refused.stderr.contains("--iati-publisher-ref") && refused.stderr.contains("check digit"), "\(refused.stderr)")
            let funder = try cli.run(["programme", "set", "Kommunala partnerskap", "--funder-ref", "SE-ON-123"])
            #expect(funder.status == 65, "\(funder.stderr)")
            let set = try cli.run([
                "programme", "set", "Kommunala partnerskap", "--iati-publisher-ref", "SE-ON-4020000008", "--iati-publisher-type", "22",
                "--funder-type", "10", "--funder-activity-id", "SE-0-SE-6-EXAMPLE-1",
            ])
            #expect(set.status == 0, "\(set.stderr)")
        }
    }
}
