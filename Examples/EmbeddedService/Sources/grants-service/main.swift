import Foundation
import Grants
import GrantsHTTP
import Hummingbird
import Logging
import PGClient

// grants-service: the grants HTTP API on the database grants-admin uses.
//   GRANTS_DATABASE_URL   the database (else the PG* environment variables)
//   GRANTS_HTTP_HOST      address to listen on (default 127.0.0.1)
//   GRANTS_HTTP_PORT      port (default 8080)
//   GRANTS_POOL_SIZE      database connections (default 4)
//   LOG_LEVEL             trace, debug, info (default), warning, error
let environment = ProcessInfo.processInfo.environment
var logger = Logger(label: "grants.http")
logger.logLevel = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info

do {
    let database = try environment["GRANTS_DATABASE_URL"].map(PGConfiguration.init(url:)) ?? .environment
    let service = GrantsService(
        configuration: GrantsConfiguration(database: database, poolSize: environment["GRANTS_POOL_SIZE"].flatMap(Int.init) ?? 4),
        logger: logger
    )
    let host = environment["GRANTS_HTTP_HOST"] ?? "127.0.0.1"
    let port = environment["GRANTS_HTTP_PORT"].flatMap(Int.init) ?? 8080
    // SIE, IATI and 360Giving use the programme's settings in the database (grants-admin programme set).
    let exportOptions = ExportOptions()
    let app = GrantsHTTP.application(
        service: service, configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
        exportOptions: exportOptions, logger: logger
    )
    try await app.runService()
} catch {
    logger.critical("\(error)")
    exit(1)
}
