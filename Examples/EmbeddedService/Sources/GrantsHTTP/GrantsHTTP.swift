import Grants
import Hummingbird
import Logging
import Prometheus

/// The service's HTTP application: the grants routes behind the error mapping, with the library's pool run
/// as a lifecycle service next to the HTTP server.
///
/// ```swift
/// let service = GrantsService(configuration: GrantsConfiguration(database: try PGConfiguration(url: url)))
/// let app = GrantsHTTP.application(service: service, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 8080)))
/// try await app.runService()   // SIGTERM/SIGINT: the server drains its requests, then the pool closes
/// ```
public enum GrantsHTTP {
    /// The application. The pool's service is listed before the server, and a service group shuts down in
    /// reverse order, so the server stops taking requests and finishes the ones in flight before the pool closes.
    /// `metrics`: the Prometheus registry the library's metrics are recorded into, served at `GET /metrics`
    /// (none: no such route).
    public static func application(
        service: GrantsService,
        configuration: ApplicationConfiguration = ApplicationConfiguration(),
        exportOptions: ExportOptions = ExportOptions(),
        metrics: PrometheusCollectorRegistry? = nil,
        logger: Logger = Logger(label: "grants.http")
    ) -> some ApplicationProtocol {
        let router = router(service: service, exportOptions: exportOptions, logger: logger)
        if let metrics { addMetrics(metrics, to: router) }
        return Application(
            router: router,
            configuration: configuration,
            services: [service],
            logger: logger
        )
    }

    /// `GET /metrics`: every metric in `registry` in the Prometheus text format (0.0.4), for a scraper.
    public static func addMetrics(_ registry: PrometheusCollectorRegistry, to router: Router<BasicRequestContext>) {
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    /// The routes, for embedding them in a larger router. See `Routes.swift` for the endpoints.
    public static func router(
        service: GrantsService, exportOptions: ExportOptions = ExportOptions(), logger: Logger = Logger(label: "grants.http")
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: GrantsErrorMiddleware(logger: logger))
        GrantsRoutes(service: service, exportOptions: exportOptions).add(to: router)
        return router
    }
}
