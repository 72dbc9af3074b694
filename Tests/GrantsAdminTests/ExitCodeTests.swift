import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// The exit codes of DESIGN §6 for the cases that used to come out otherwise.
@Suite("grants-admin exit codes")
struct ExitCodeTests {
    static let unreachable = "postgresql:///grants?host=/nonexistent-socket-dir&connect_timeout=2"

    @Test func valuesAtTheDoorNameTheirFlag() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let before = try tableCounts(configuration)
            let country = try cli.run(["org", "add", "--name", "Nowhere", "--country", "XX"])
            #expect(country.status == 65 && country.stderr.hasPrefix("grants-admin: --country: \"XX\""), "\(country.stderr)")
            let bar = try cli.run(["org", "add", "--name", "Kisumu | Homa Bay", "--country", "KE"])
            #expect(bar.status == 65 && bar.stderr.hasPrefix("grants-admin: --name: "), "\(bar.stderr)")
            let sector = try cli.run(["theme", "add", "t", "--name-sv", "a", "--name-en", "b", "--dac-sector", "15120"])
            #expect(
                sector.status == 65 && sector.stderr.contains("--dac-sector: 15120") && sector.stderr.contains("withdrawn"),
                "\(sector.stderr)")
            let future = CSVManifest.future
            let file = try temporaryFile("future.csv", Data(future.utf8))
            let csv = try cli.run([
                "round", "record", file.path, "--programme", "P", "--round", "R", "--budget", "1 000", "--decided-on", "2999-01-01",
            ])
            #expect(csv.status == 65 && csv.stderr.contains("--decided-on: 2999-01-01 is in the future"), "\(csv.stderr)")
            #expect(try tableCounts(configuration) == before)
        }
    }

    enum CSVManifest {
        static let future = """
            reference,applicant,partners,partner_countries,themes,amount,start,end
            KP-1,Växjö kommun,Kisumu County,KE,citizen-dialogue,100,2022-01-01,2022-12-31
            """
    }
}
