import Foundation
import Grants
import GrantsHTTP
import Hummingbird
import HummingbirdTesting
import Logging
import PGClient
import Prometheus
import ServiceLifecycle
import Testing

/// Every test runs the whole application (server, routes, the pool as a lifecycle service) and talks to it
/// over real HTTP on loopback, against a database of its own on the test server.
@Suite("Embedded HTTP service")
struct GrantsHTTPTests {
    static let round = "kommunala-partnerskap-2021-2.yaml"

    /// A fixed generation time, so that IATI and 360Giving exports are byte-stable.
    static let exportOptions = ExportOptions(generatedAt: Date(timeIntervalSince1970: 1_700_000_000))

    /// The application on `configuration`, run for the length of `body`, which gets a client and the service.
    func withApp<T: Sendable>(
        _ configuration: PGConfiguration, poolSize: Int = 4,
        _ body: @Sendable (any TestClientProtocol, GrantsService) async throws -> T
    ) async throws -> T {
        let service = GrantsService(
            configuration: GrantsConfiguration(database: configuration, poolSize: poolSize), logger: TestDatabase.quiet)
        let app = GrantsHTTP.application(service: service, exportOptions: Self.exportOptions, logger: TestDatabase.quiet)
        return try await app.test(.live) { client in try await body(client, service) }
    }

    func json(_ response: TestResponse) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(buffer: response.body), options: [.fragmentsAllowed])
    }

    func attest(_ id: Int64, as actor: String, _ client: any TestClientProtocol) async throws -> TestResponse {
        try await client.execute(
            uri: "/disbursements/\(id)/attest", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: #"{"actor": "\#(actor)"}"#))
    }

    /// The library's metrics through a Prometheus registry of the test's own (injected, not bootstrapped), scraped
    /// over HTTP as a Prometheus server would.
    @Test func servesThePoolMetricsForPrometheus() async throws {
        try await TestDatabase.with { configuration in
            let registry = PrometheusCollectorRegistry()
            var grantsConfiguration = GrantsConfiguration(database: configuration, poolSize: 2)
            grantsConfiguration.metricsFactory = PrometheusMetricsFactory(registry: registry)
            let service = GrantsService(configuration: grantsConfiguration, logger: TestDatabase.quiet)
            let app = GrantsHTTP.application(
                service: service, exportOptions: Self.exportOptions, metrics: registry, logger: TestDatabase.quiet)
            try await app.test(.live) { client in
                #expect(try await client.execute(uri: "/rounds", method: .get).status == .ok)
                let scrape = try await client.execute(uri: "/metrics", method: .get)
                #expect(scrape.status == .ok)
                #expect(scrape.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: scrape.body)
                for gauge in ["pg_pool_connections_in_use", "pg_pool_connections_idle", "pg_pool_tasks_waiting"] {
                    #expect(text.contains("# TYPE \(gauge) gauge"), "\(gauge)")
                    #expect(text.contains("\(gauge){pool=\"primary\"} "), "\(gauge)")
                }
                #expect(text.contains("pg_pool_connections_opened_total{pool=\"primary\"} "))
                #expect(text.contains("grants_replica_fallbacks_total{reason=\"lagging\"} 0"))
            }
        }
    }

    @Test func listsRoundsAndGrantsAsJSON() async throws {
        try await TestDatabase.with { configuration in
            try await TestDatabase.recordExample(Self.round, into: configuration)
            try await withApp(configuration) { client, _ in
                let rounds = try await client.execute(uri: "/rounds", method: .get)
                #expect(rounds.status == .ok)
                #expect(rounds.headers[.contentType] == "application/json; charset=utf-8")
                let list = try #require(try json(rounds) as? [[String: Any]])
                #expect(list.count == 1)
                #expect(list.first?["name"] as? String == "2021:2")
                #expect(list.first?["programme"] as? String == "Kommunala partnerskap")

                let round = try await client.execute(uri: "/rounds/2021:2", method: .get)
                #expect(round.status == .ok)
                let roundJSON = try #require(try json(round) as? [String: Any])
                #expect(roundJSON["budget"] as? String == "10641000.00")

                let grants = try await client.execute(uri: "/rounds/2021:2/grants", method: .get)
                let grantList = try #require(try json(grants) as? [[String: Any]])
                #expect(grantList.count == 11)
                #expect(grantList.first?["reference"] as? String == "KP-2021-2-01")

                let grant = try await client.execute(uri: "/grants/KP-2021-2-01", method: .get)
                #expect(grant.status == .ok)
                #expect(String(buffer: grant.body).contains("Växjö kommun"))

                for uri in ["/rounds/1999:9", "/rounds/1999:9/grants", "/grants/KP-0"] {
                    let missing = try await client.execute(uri: uri, method: .get)
                    #expect(missing.status == .notFound, "\(uri)")
                    #expect((try json(missing) as? [String: Any])?["error"] as? String == "not-found")
                }
                let health = try await client.execute(uri: "/health", method: .get)
                #expect(health.status == .ok)
                #expect(String(buffer: health.body).contains(#""schema":"current""#))
            }
        }
    }

    @Test func streamsTheDisbursementExportByteForByte() async throws {
        try await TestDatabase.with { configuration in
            try await TestDatabase.recordExample(Self.round, into: configuration)
            try await withApp(configuration) { client, service in
                // Some paid and one reversed, so that SIE has vouchers.
                let all = try await service.disbursements.list(DisbursementFilter(round: "2021:2"))
                for d in all.prefix(4) {
                    try await service.disbursements.attest(d.id, actor: "bertil")
                    try await service.disbursements.pay(
                        d.id, paidOn: try CalendarDate("2022-02-01"), paymentReference: "BG 5050-1055", actor: "bertil")
                }
                try await service.disbursements.reverse(
                    all[0].id, on: try CalendarDate("2022-02-10"), reason: "Wrong account", actor: "cecilia")
                // The open-data exports publish under the programme's own settings.
                var settings = ProgrammeSettings()
                settings.iatiPublisherRef = "SE-ON-4020000008"
                settings.iatiPublisherName = "ICLD"
                settings.iatiPublisherType = "22"
                settings.funderRef = "SE-0"
                settings.funderName = "Sida"
                settings.giving360Prefix = "360G-icld"
                try await service.programmes.set("Kommunala partnerskap", settings: settings, actor: "anna")
                for format in DisbursementFormat.allCases {
                    let response = try await client.execute(
                        uri: "/reports/disbursements?format=\(format.rawValue)&round=2021:2", method: .get)
                    #expect(response.status == .ok)
                    var expected: [UInt8] = []
                    for try await chunk in try await service.reports.disbursementStream(
                        ReportFilter(round: "2021:2"), format: format, options: Self.exportOptions)
                    {
                        expected += chunk
                    }
                    #expect(!expected.isEmpty)
                    #expect(Array(buffer: response.body) == expected, "\(format)")
                    #expect(response.headers[.contentType] == format.expectedContentType, "\(format)")
                }
                let csv = try await client.execute(uri: "/reports/disbursements?round=2021:2&status=scheduled", method: .get)
                #expect(csv.status == .ok)
                #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(csv.headers[.contentDisposition] == #"attachment; filename="disbursements.csv""#)
                let lines = String(buffer: csv.body).components(separatedBy: "\r\n").filter { !$0.isEmpty }
                #expect(lines.first?.hasPrefix("disbursement_id,programme,round,grant_reference,") == true)
                #expect(lines.count > 11, "a header and at least one row per grant")
                #expect(lines.dropFirst().allSatisfy { $0.contains(",scheduled,") })

                // Bad filters: 422 naming the parameter, before any byte of CSV.
                for query in ["format=pdf", "from=2021-13-01", "status=lost", "as_of=2022-02-30"] {
                    let bad = try await client.execute(uri: "/reports/disbursements?\(query)", method: .get)
                    #expect(bad.status == .unprocessableContent, "\(query)")
                    let problems = (try json(bad) as? [String: Any])?["problems"] as? [[String: Any]]
                    #expect(problems?.first?["location"] as? String == "query parameter \(query.prefix { $0 != "=" })")
                }
            }
        }
    }

    /// Enough rows that the export leaves in many chunks while the client reads it.
    @Test func streamsALargeExportInChunks() async throws {
        try await TestDatabase.with { configuration in
            try await TestDatabase.recordExample(Self.round, into: configuration)
            try await TestDatabase.recordGenerated(grants: 1500, into: configuration)
            try await withApp(configuration, poolSize: 2) { client, service in
                let response = try await client.execute(uri: "/reports/disbursements?format=json&round=2023:1", method: .get)
                #expect(response.status == .ok)
                #expect(response.body.readableBytes > 8 * 65_536)
                let rows = try #require(try json(response) as? [[String: Any]])
                #expect(rows.count == 3000)
                #expect(rows.count == (try await service.disbursements.list(DisbursementFilter(round: "2023:1")).count))
            }
        }
    }

    /// A client that hangs up in the middle of an export: the export is cancelled and its connection goes
    /// back to the pool (of one, here), so the next request is answered.
    @Test func aClientThatHangsUpMidExportFreesTheConnection() async throws {
        try await TestDatabase.with { configuration in
            try await TestDatabase.recordGenerated(grants: 1500, into: configuration)
            try await withApp(configuration, poolSize: 1) { client, _ in
                let port = try #require(client.port)
                for _ in 0..<3 {
                    let received = try await Task.detached {
                        try RawHTTP.getAndHangUp(port: port, path: "/reports/disbursements?format=json", after: 70_000)
                    }.value
                    #expect(received >= 70_000)
                }
                let after = try await client.execute(uri: "/rounds", method: .get)
                #expect(after.status == .ok)
            }
        }
    }

    @Test func attestMapsTheLibrarysErrorsToStatusCodes() async throws {
        try await TestDatabase.with { configuration in
            try await TestDatabase.recordExample(Self.round, into: configuration)
            try await withApp(configuration) { client, service in
                let first = try #require(try await service.disbursements.list().first)

                // Four-eyes: the person who scheduled it (the manifest's recorder) may not attest: 403.
                let own = try await attest(first.id, as: "anna", client)
                #expect(own.status == .forbidden)
                #expect((try json(own) as? [String: Any])?["error"] as? String == "permission")
                #expect((try json(own) as? [String: Any])?["code"] as? String == "four-eyes")
                // Nobody in the register may act at all: 403 too, and nothing changes.
                let nobody = try await attest(first.id, as: "mallory", client)
                #expect(nobody.status == .forbidden)
                #expect((try json(nobody) as? [String: Any])?["code"] as? String == "unknown-person")
                #expect(try await service.disbursements.get(first.id).status == .scheduled)

                let attested = try await attest(first.id, as: "bertil", client)
                #expect(attested.status == .ok)
                #expect((try json(attested) as? [String: Any])?["status"] as? String == "attested")
                #expect(try await service.disbursements.get(first.id).status == .attested)

                // Attested already: the state machine refuses, 409.
                let again = try await attest(first.id, as: "cecilia", client)
                #expect(again.status == .conflict)

                // Bad input: 422 with the problem's location; nothing changed.
                let blank = try await attest(first.id + 1, as: "  ", client)
                #expect(blank.status == .unprocessableContent)
                #expect(String(buffer: blank.body).contains(#""location":"body.actor""#))
                #expect(try await service.disbursements.get(first.id + 1).status == .scheduled)
                let notNumber = try await attest(0, as: "bertil", client)
                #expect(notNumber.status == .notFound)
                let word = try await client.execute(uri: "/disbursements/abc/attest", method: .post, body: ByteBuffer(string: "{}"))
                #expect(word.status == .unprocessableContent)
                let malformed = try await client.execute(
                    uri: "/disbursements/\(first.id + 1)/attest", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: "{\"actor\":"))
                #expect(malformed.status == .badRequest)
                #expect(try await service.disbursements.get(first.id + 1).status == .scheduled)

                let audit = try await service.audit.list(limit: 1000)
                #expect(audit.filter { $0.actor == "bertil" }.count == 1, "one attestation recorded, by its actor")
            }
        }
    }

    @Test func everyCategoryHasItsStatus() {
        typealias Middleware = GrantsErrorMiddleware<BasicRequestContext>
        let expected: [GrantsError.Category: HTTPResponse.Status] = [
            .input: .unprocessableContent, .notFound: .notFound, .rule: .conflict, .conflict: .conflict, .permission: .forbidden,
            .unavailable: .serviceUnavailable, .internal: .internalServerError,
        ]
        #expect(Set(GrantsError.Category.allCases) == Set(expected.keys))
        let errors: [GrantsError] = [
            .invalidInput([Problem("amount", "is not an amount")]), .notFound(entity: "grant", key: "KP-9"),
            .budgetExceeded(round: "2021:2", excess: nil), .conflict(entity: "grant", key: "KP-1", differences: []),
            .notPermitted("finance reads"), .fourEyes(disbursement: "7", actor: "anna"), .unknownPerson("mallory"),
            .unavailable(cause: "down"), .schemaMismatch("behind"), .internalError(sqlState: "XX000", message: "bug"),
        ]
        #expect(Set(errors.map(\.category)) == Set(GrantsError.Category.allCases), "one error of every category")
        for error in errors {
            let response = Middleware.response(for: error, logger: Logger(label: "test"))
            #expect(response.status == expected[error.category], "\(error.code)")
            #expect((response.headers[.retryAfter] != nil) == (error.category == .unavailable), "\(error.code)")
        }
    }

    @Test func databaseDownIs503() async throws {
        var configuration = try PGConfiguration(url: "postgresql://nobody@127.0.0.1:1/none")
        configuration["connect_timeout"] = "2"
        try await withApp(configuration, poolSize: 1) { client, _ in
            for (uri, method) in [("/rounds", HTTPRequest.Method.get), ("/health", .get), ("/reports/disbursements", .get)] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .serviceUnavailable, "\(uri)")
                #expect(response.headers[.retryAfter] == "5")
                #expect((try json(response) as? [String: Any])?["error"] as? String == "unavailable")
            }
            let write = try await attest(1, as: "bertil", client)
            #expect(write.status == .serviceUnavailable)
        }
    }

    /// The database goes away while the service runs, and comes back: 503 while it is gone, then answers
    /// again from the same pool.
    @Test func connectionsLostWhileRunningRecover() async throws {
        try await TestDatabase.with { configuration in
            try await TestDatabase.recordExample(Self.round, into: configuration)
            var tagged = configuration
            let application = "grants-http-\(UUID().uuidString.prefix(8))"
            tagged["application_name"] = application
            try await withApp(tagged, poolSize: 2) { client, _ in
                #expect(try await client.execute(uri: "/rounds", method: .get).status == .ok)
                let admin = try PGConnection(configuration: TestDatabase.serverConfiguration())
                _ = try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = \(application)")
                // The pool finds the lost connections on checkout and replaces them.
                #expect(try await client.execute(uri: "/rounds", method: .get).status == .ok)
                #expect(try await client.execute(uri: "/rounds/2021:2/grants", method: .get).status == .ok)
            }
        }
    }

    /// The pool runs as a lifecycle service: it closes its connections on graceful shutdown, after the server.
    @Test func poolClosesWithTheService() async throws {
        try await TestDatabase.with { configuration in
            var tagged = configuration
            let application = "grants-http-\(UUID().uuidString.prefix(8))"
            tagged["application_name"] = application
            try await withApp(tagged, poolSize: 3) { client, _ in
                // Parallel requests open several connections.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<6 { group.addTask { _ = try await client.execute(uri: "/rounds", method: .get) } }
                    try await group.waitForAll()
                }
                #expect(try TestDatabase.connections(named: application) >= 1)
            }
            // `test(.live)` returns after the service group has shut down.
            var open = try TestDatabase.connections(named: application)
            for _ in 0..<50 where open > 0 {
                try await Task.sleep(for: .milliseconds(20))
                open = try TestDatabase.connections(named: application)
            }
            #expect(open == 0, "the pool's connections are closed")
        }
    }

    /// A database whose schema is behind the library's stops the service at start with a clear message.
    @Test func startRefusesASchemaThatIsBehind() async throws {
        try await TestDatabase.with(migrated: false) { configuration in
            let service = GrantsService(
                configuration: GrantsConfiguration(database: configuration, poolSize: 1), logger: TestDatabase.quiet)
            let group = ServiceGroup(
                services: [service], logger: TestDatabase.quiet)
            await #expect {
                try await group.run()
            } throws: { error in
                (error as? GrantsError)?.code == .schemaMismatch && "\(error)".contains("migrate")
            }
        }
    }
}

extension DisbursementFormat {
    var expectedContentType: String {
        switch self {
        case .csv, .csvExcel: "text/csv; charset=utf-8"
        case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        case .json, .giving360: "application/json; charset=utf-8"
        case .sie: "text/plain; charset=IBM437"
        case .iati: "application/xml; charset=utf-8"
        }
    }
}
