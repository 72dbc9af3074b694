import Foundation
import PGClient
import Testing

/// No message ever prints a password, however the URL is broken.
@Suite("grants-admin never prints a password")
struct PasswordTests {
    static let password = "S3CRETPW"

    static let urls = [
        "postgres://alice:\(password)@[::1/db",
        "postgres://alice:\(password)@[::1]:notaport/db",
        "postgres://alice:\(password)@host:99999/db",
        "postgres://alice:\(password)",
        "postgres://alice:\(password)@host/db?sslmode=\(password)",
        "postgres://alice:\(password)@host/db?bogus=1",
        "postgresql://alice:S3CRET%50W@[bad/db",
        "postgres://alice@host/db?password=\(password)&port=x",
        "postgres://alice@host/db?password=\(password)&nonsense=1",
        "postgres://alice:\(password)@host/db?connect_timeout=\(password)",
        "host=h password=\(password) port=abc",
        "host=h password='\(password)' bogus=1",
        "postgres://al:ice:\(password)@[x",
    ]

    @Test(arguments: urls) func aMalformedURLsMessageHoldsNoPassword(_ url: String) throws {
        let cli = CLI(configuration: nil)
        let result = try cli.run(["round", "list", "--database", url])
        #expect(result.status == 64 || result.status == 69, "\(url): \(result.status) \(result.stderr)")
        #expect(!result.stderr.contains(Self.password) && !result.stdout.contains(Self.password), "\(url): \(result.stderr)")
        var fromEnvironment = CLI(configuration: nil)
        fromEnvironment.environment = ["GRANTS_DATABASE_URL": url]
        let again = try fromEnvironment.run(["round", "list"])
        #expect(!again.stderr.contains(Self.password), "\(url): \(again.stderr)")
    }

    @Test func theLibraryRedactsWhatLibpqQuotes() {
        for url in Self.urls {
            do {
                _ = try PGConfiguration(url: url)
            } catch {
                #expect(!"\(error)".contains(Self.password), "\(url): \(error)")
            }
        }
        #expect(
            PGConfiguration.redacting("bad \"postgres://a:pw@[x\"", url: "postgres://a:pw@[x") == "bad \"postgres://a:***@[x\"")
    }
}
