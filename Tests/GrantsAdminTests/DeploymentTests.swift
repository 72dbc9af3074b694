import Foundation
import Grants
import PGClient
import TestSupport
import Testing

/// README "On a PostgreSQL server", step by step, on the test server: roles by an administrator, the database
/// owned by grants_owner, the migration as the owner, people registered by the owner, personal logins that act
/// as themselves and cannot write a table.
@Suite("Deployment recipe")
struct DeploymentTests {
    @Test func theRecipeWorksAsWritten() async throws {
        let admin = try TestServer.adminConfiguration()
        let suffix = String(UUID().uuidString.lowercased().prefix(8))
        let database = "grants_deploy_\(suffix)"
        let anna = "anna_\(suffix)"
        let service = "grants_api_\(suffix)"
        let connection = try PGConnection(configuration: admin)
        defer {
            _ = try? connection.execute("DROP DATABASE IF EXISTS \(identifier: database) WITH (FORCE)")
            _ = try? connection.execute("DROP ROLE IF EXISTS \(identifier: anna)")
            _ = try? connection.execute("DROP ROLE IF EXISTS \(identifier: service)")
        }
        var cli = CLI(configuration: admin)
        cli.environment["GRANTS_ACTOR"] = ""
        // 1. The roles, once per cluster, by an administrator (before any migration).
        let roles = try cli.run(["db", "roles"])
        #expect(roles.status == 0, "\(roles.stderr)")
        // 2. The owner logs in and owns the database.
        try connection.execute("ALTER ROLE grants_owner LOGIN PASSWORD 'owner-secret'")
        try connection.execute("CREATE DATABASE \(identifier: database) OWNER grants_owner")
        var owner = admin
        owner["dbname"] = database
        owner["user"] = "grants_owner"
        var asOwner = CLI(configuration: owner)
        asOwner.environment["GRANTS_ACTOR"] = ""
        // 3. The migration, as the owner.
        let migrated = try asOwner.run(["db", "migrate"])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        // 4. People: the first by the owner's login, the next by a registered person.
        let first = try asOwner.run(["person", "add", anna, "--name", "Anna Lind"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try asOwner.run(["person", "add", "bertil", "--name", "Bertil Ek", "--actor", anna])
        #expect(second.status == 0, "\(second.stderr)")
        // 5. Logins: a person's own, and a service's.
        try connection.execute("CREATE ROLE \(identifier: anna) LOGIN PASSWORD 'anna-secret' IN ROLE grants_staff")
        try connection.execute("CREATE ROLE \(identifier: service) LOGIN PASSWORD 'service-secret' IN ROLE grants_service")
        // 6. Anna records a round on her own login and is its actor; she cannot write a table by hand.
        var annaLogin = owner
        annaLogin["user"] = anna
        var asAnna = CLI(configuration: annaLogin)
        asAnna.environment["GRANTS_ACTOR"] = ""
        let recorded = try asAnna.run(["round", "record", CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let raw = try PGConnection(configuration: annaLogin)
        #expect(try raw.query("SELECT DISTINCT actor FROM grants.audit_event WHERE entity_kind <> 'person'").map { try $0.decode(String.self, column: 0) } == [anna])
        let refused = #expect(throws: PGError.self) {
            try raw.execute("UPDATE grants.allocation_round SET budget = budget * 2")
        }
        #expect(refused?.sqlState == .insufficientPrivilege)
        // The service states who acts: a registered person, never a stranger.
        var serviceLogin = owner
        serviceLogin["user"] = service
        var asService = CLI(configuration: serviceLogin)
        asService.environment["GRANTS_ACTOR"] = ""
        let stated = try asService.run(["theme", "add", "inclusion", "--name-sv", "Inkludering", "--name-en", "Inclusion", "--actor", "bertil"])
        #expect(stated.status == 0, "\(stated.stderr)")
        let stranger = try asService.run(["theme", "add", "health", "--name-sv", "Hälsa", "--name-en", "Health", "--actor", "mallory"])
        #expect(stranger.status == 1 && stranger.stderr.contains("no such person"), "\(stranger.stderr)")
    }
}
