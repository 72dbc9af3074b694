import Foundation
import Grants
import Logging
import PGClient

/// A database of its own on the test server (`GRANTS_TEST_DATABASE_URL`, which the repository's
/// `Scripts/test` sets after starting a throwaway cluster), dropped afterwards.
enum TestDatabase {
    static func serverConfiguration() throws -> PGConfiguration {
        guard let url = ProcessInfo.processInfo.environment["GRANTS_TEST_DATABASE_URL"], !url.isEmpty else {
            throw SetupError("GRANTS_TEST_DATABASE_URL is not set: run the tests with Scripts/test from the repository root")
        }
        return try PGConfiguration(url: url)
    }

    /// `body` gets the configuration of a fresh database; `migrated` applies the library's schema first.
    static func with<T>(migrated: Bool = true, _ body: (PGConfiguration) async throws -> T) async throws -> T {
        let name = String("http_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20))
        try await offThePool { try PGConnection(configuration: serverConfiguration()).execute("CREATE DATABASE \(identifier: name)") }
        var configuration = try serverConfiguration()
        configuration["dbname"] = name
        do {
            if migrated {
                let service = GrantsService(configuration: GrantsConfiguration(database: configuration, poolSize: 1), logger: quiet)
                try await service.migrate()
                // Only registered people act: the service's users in these tests.
                try await service.persons.add("anna", name: "Anna Lind", actor: nil)
                for login in ["bertil", "cecilia", "david"] {
                    try await service.persons.add(login, name: login.capitalized, actor: "anna")
                }
                await service.close()
            }
            let result = try await body(configuration)
            try await drop(name)
            return result
        } catch {
            try? await drop(name)
            throw error
        }
    }

    static func drop(_ name: String) async throws {
        try await offThePool {
            try PGConnection(configuration: serverConfiguration()).execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
        }
    }

    /// DROP DATABASE waits for every backend in the cluster; it runs on a thread of its own so that it never
    /// holds one of the cooperative pool's few threads while the test it waits for needs one.
    @discardableResult
    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Records one of the repository's example rounds through the library, as `grants-admin round record` does.
    static func recordExample(_ file: String, into configuration: PGConfiguration) async throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../\(file)").standardizedFileURL
        let manifest = try RoundManifest.parse(try Data(contentsOf: url), fileName: url.lastPathComponent)
        let service = GrantsService(configuration: GrantsConfiguration(database: configuration, poolSize: 1), logger: quiet)
        try await service.rounds.record(manifest, actor: "anna")
        await service.close()
    }

    /// Records round 2023:1 with `grants` generated grants of two tranches each.
    static func recordGenerated(grants count: Int, into configuration: PGConfiguration) async throws {
        let theme = Theme(code: "citizen-dialogue", nameSv: "Medborgardialog", nameEn: "Citizen dialogue", dacSector: "15150")
        let amount = Money(minorUnits: 100_000_00, currency: .sek)
        let half = Money(minorUnits: 50_000_00, currency: .sek)
        let grants = try (0..<count).map { i in
            ManifestGrant(
                reference: "KP-2023-1-\(i + 1)", title: "Medborgardialog i kommun \(i + 1) och dess partner",
                applicant: NewOrganisation(name: "Kommun \(i + 1)", country: "SE", kind: .municipality),
                partners: [NewOrganisation(name: "Partner \(i + 1)", country: "KE", kind: .region)],
                themes: [theme.code], amount: amount, startsOn: try CalendarDate("2023-07-01"), endsOn: try CalendarDate("2024-06-30"),
                tranches: [
                    Tranche(dueOn: try CalendarDate("2023-07-31"), amount: half),
                    Tranche(dueOn: try CalendarDate("2024-01-31"), amount: half),
                ],
                location: ManifestLocation(base: "grants[\(i)]", style: .path))
        }
        let manifest = RoundManifest(
            programme: "Kommunala partnerskap",
            round: NewRound(
                programme: "Kommunala partnerskap", name: "2023:1", budget: Money(minorUnits: Int64(count) * 100_000_00, currency: .sek),
                decidedOn: try CalendarDate("2023-05-01")),
            themes: [theme], grants: grants)
        let service = GrantsService(configuration: GrantsConfiguration(database: configuration, poolSize: 1), logger: quiet)
        try await service.rounds.record(manifest, actor: "anna")
        await service.close()
    }

    /// How many server connections name themselves `application`.
    static func connections(named application: String) throws -> Int {
        let admin = try PGConnection(configuration: serverConfiguration())
        let count = try admin.query("SELECT count(*)::int8 FROM pg_stat_activity WHERE application_name = \(application)")[0]
            .decode(Int64.self, column: 0)
        return Int(count)
    }

    static let quiet: Logger = {
        var logger = Logger(label: "grants.http.test")
        logger.logLevel = .warning
        return logger
    }()
}

struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
