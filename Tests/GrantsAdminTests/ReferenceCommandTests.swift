import Foundation
import PGClient
import TestSupport
import Testing

@Suite("grants-admin: organisations have one identity")
struct ReferenceCommandTests {
    /// `org add` with look-alikes of Kisumu County: the one organisation again, or refused (65); never a second.
    @Test func lookAlikesAreTheSameOrganisationOrRefused() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let first = try cli.run(["org", "add", "--name", "Kisumu County", "--country", "KE", "--kind", "region", "--actor", "anna"])
            #expect(first.status == 0, "\(first.stderr)")
            for name in [
                "Kisumu County ", "Kisumu  County", "Kisumu\u{00A0}County", "Kisumu\u{200B} County", "Kisumu \u{0421}ounty", "KISUMU COUNTY",
            ] {
                let result = try cli.run(["org", "add", "--name", name, "--country", "KE", "--kind", "region", "--actor", "anna"])
                #expect(result.status == 0 || result.status == 65, "\(name.debugDescription): \(result.status) \(result.stderr)")
            }
            let connection = try PGConnection(configuration: configuration)
            let count = try connection.query("SELECT count(*) FROM grants.organisation WHERE country = 'KE'")[0].decode(Int64.self, column: 0)
            #expect(count == 1)
            let refused = try cli.run(["org", "add", "--name", "Kisumu \u{0421}ounty", "--country", "KE", "--actor", "anna"])
            #expect(refused.status == 65 && refused.stderr.contains("mixes Cyrillic and Latin"), "\(refused.stderr)")
        }
    }
}
