import Foundation
import Grants
import GrantsHTTP
import Hummingbird
import Logging
import Metrics
import PGClient
import Prometheus

// grants-service: the grants HTTP API on the database grants-admin uses.
//   GRANTS_DATABASE_URL   the database (else the PG* environment variables)
//   GRANTS_REPLICA_URL    a hot standby of it for reports and listings (optional)
//   GRANTS_HTTP_HOST      address to listen on (default 127.0.0.1)
//   GRANTS_HTTP_PORT      port (default 8080)
//   GRANTS_POOL_SIZE      database connections (default 4)
//   LOG_LEVEL             trace, debug, info (default), warning, error
let environment = ProcessInfo.processInfo.environment
var logger = Logger(label: "grants.http")
logger.logLevel = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info

// The metrics backend: everything recorded through swift-metrics (the library's pools, replica reads, retries)
// is served at GET /metrics in the Prometheus text format.
let registry = PrometheusCollectorRegistry()
MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

do {
    let database = try environment["GRANTS_DATABASE_URL"].map(PGConfiguration.init(url:)) ?? .environment
    let replica = try environment["GRANTS_REPLICA_URL"].flatMap { $0.isEmpty ? nil : try PGConfiguration(url: $0) }
    let service = GrantsService(
        configuration: GrantsConfiguration(
            database: database, replica: replica, poolSize: environment["GRANTS_POOL_SIZE"].flatMap(Int.init) ?? 4),
        logger: logger
    )
    let host = environment["GRANTS_HTTP_HOST"] ?? "127.0.0.1"
    let port = environment["GRANTS_HTTP_PORT"].flatMap(Int.init) ?? 8080
    // SIE, IATI and 360Giving use the programme's settings in the database (grants-admin programme set).
    let exportOptions = ExportOptions()
    let app = GrantsHTTP.application(
        service: service, configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
        exportOptions: exportOptions, metrics: registry, logger: logger
    )
    try await app.runService()
} catch {
    logger.critical("\(error)")
    exit(1)
}
