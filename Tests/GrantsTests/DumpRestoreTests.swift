import Foundation
import Grants
import PGClient
import Synchronization
import TestSupport
import Testing

/// A populated database survives pg_dump and pg_restore, whole and as schema then data with triggers disabled
/// (the data-only path the README documents): every export format, the round report, the grant list, the
/// schema's status and the person register give the same bytes afterwards, and the references are still
/// PostgreSQL's own foreign keys.
@Suite("pg_dump and pg_restore")
struct DumpRestoreTests {
    func exports(_ service: GrantsService) async throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for format in [DisbursementFormat.csv, .csvExcel, .json, .xlsx, .sie, .iati, .giving360] {
            let bytes = Mutex<[UInt8]>([])
            try await service.reports.disbursements(
                ReportFilter(), format: format, options: ExportOptions(generatedAt: Date(timeIntervalSince1970: 1_700_000_000)),
                to: ReportOutput.sink { chunk in bytes.withLock { $0 += chunk } })
            result[format.rawValue] = bytes.withLock { $0 }
        }
        let report = try await service.reports.round("2021:2")
        result["round"] = Array(String(describing: report).utf8)
        result["grants"] = Array(try await service.grants.list().map { "\($0.reference) \($0.amount.plain) \($0.status)" }.joined(separator: "\n").utf8)
        result["schema"] = Array(try await service.migrationStatus().map { "\($0.version) \($0.name) \($0.state)" }.joined(separator: "\n").utf8)
        result["people"] = Array(try await service.persons.list().map { "\($0.login) \($0.name)" }.joined(separator: "\n").utf8)
        return result
    }

    /// pg_dump / pg_restore's connection arguments for a test database.
    func arguments(_ configuration: PGConfiguration) -> [String] {
        var args: [String] = []
        if let host = configuration["host"] { args += ["-h", host] }
        if let port = configuration["port"] { args += ["-p", port] }
        if let user = configuration["user"] { args += ["-U", user] }
        return args
    }

    func tool(_ name: String) -> String {
        let versioned = "/usr/lib/postgresql/15/bin/\(name)"
        return FileManager.default.isExecutableFile(atPath: versioned) ? versioned : name
    }

    @Test func aDumpRestoresToTheSameExports() async throws {
        try await TestGrants.withService(direct: true) { service, configuration in
            let manifest = try RoundManifest.parse(
                try Data(contentsOf: repositoryRoot.appendingPathComponent("Examples/kommunala-partnerskap-2021-2.yaml")),
                fileName: "kommunala-partnerskap-2021-2.yaml")
            try await service.rounds.record(manifest, actor: "anna")
            var settings = ProgrammeSettings()
            settings.iatiPublisherName = "ICLD"
            settings.iatiPublisherRef = "SE-ON-4020000008"
            settings.iatiPublisherType = "22"
            settings.funderRef = "SE-0"
            settings.funderName = "Sida"
            settings.giving360Prefix = "360G-test"
            settings.defaultSector = "15150"
            try await service.programmes.set("Kommunala partnerskap", settings: settings, actor: "anna")
            let first = try #require(try await service.disbursements.list().first)
            try await service.disbursements.attest(first.id, actor: "bertil")
            try await service.disbursements.pay(first.id, paidOn: day("2022-02-01"), paymentReference: "BG 1", actor: "bertil")
            try await service.disbursements.reverse(first.id, on: day("2022-02-03"), reason: "wrong account", actor: "bertil")
            let before = try await exports(service)
            let dump = FileManager.default.temporaryDirectory.appendingPathComponent("grants-dump-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dump) }
            let dbname = try #require(configuration["dbname"])
            let dumped = try runTool([tool("pg_dump"), "-Fc", "-f", dump.path] + arguments(configuration) + [dbname])
            try #require(dumped.status == 0, "\(dumped.output)")

            // Whole: into an empty database.
            try await TestServer.withDatabase(direct: true) { restored in
                let result = try runTool(
                    [tool("pg_restore"), "--exit-on-error", "-d", try #require(restored["dbname"])] + arguments(restored) + [dump.path])
                #expect(result.status == 0, "\(result.output)")
                let again = GrantsService(configuration: GrantsConfiguration(database: restored), logger: TestGrants.quietLogger)
                let after = try await exports(again)
                await again.close()
                for (name, bytes) in before { #expect(after[name] == bytes, "\(name) differs after a full restore") }
            }
            // Schema first, then the data with triggers disabled (so the rows' order in the dump does not matter).
            try await TestServer.withDatabase(direct: true) { restored in
                let name = try #require(restored["dbname"])
                let schema = try runTool([tool("pg_restore"), "--exit-on-error", "--schema-only", "-d", name] + arguments(restored) + [dump.path])
                #expect(schema.status == 0, "\(schema.output)")
                let data = try runTool(
                    [tool("pg_restore"), "--exit-on-error", "--data-only", "--disable-triggers", "-d", name] + arguments(restored)
                        + [dump.path])
                #expect(data.status == 0, "\(data.output)")
                let again = GrantsService(configuration: GrantsConfiguration(database: restored), logger: TestGrants.quietLogger)
                try await again.checkSchema()
                let after = try await exports(again)
                await again.close()
                for (name, bytes) in before { #expect(after[name] == bytes, "\(name) differs after a data-only restore") }
                // The restored database still refuses an orphan, triggers or not: a foreign key.
                let owner = try PGConnection(configuration: restored)
                try owner.execute("ALTER TABLE grants.disbursement DISABLE TRIGGER USER")
                let orphan = #expect(throws: PGError.self) {
                    try owner.execute(
                        "INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by) VALUES (987654, 1, 'SEK', '2022-01-01', 1, 'anna')")
                }
                #expect(orphan?.sqlState == .foreignKeyViolation)
            }
        }
    }
}
