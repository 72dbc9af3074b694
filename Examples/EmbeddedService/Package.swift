// swift-tools-version:6.0
import PackageDescription

// An HTTP service that embeds the grants library and shares its database with grants-admin.
// It depends on the library by path, as a service in the same repository or a checkout would.
let package = Package(
    name: "EmbeddedService",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "grants", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // /metrics in the Prometheus text format: a swift-metrics backend.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Routes, error mapping and the pool's lifecycle: a library so the tests can build the same application.
        .target(
            name: "GrantsHTTP",
            dependencies: [
                .product(name: "Grants", package: "grants"),
                .product(name: "PGClient", package: "grants"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(name: "grants-service", dependencies: ["GrantsHTTP"]),
        .testTarget(
            name: "GrantsHTTPTests",
            dependencies: [
                "GrantsHTTP",
                .product(name: "Grants", package: "grants"),
                .product(name: "PGClient", package: "grants"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
