// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "grants",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Grants", targets: ["Grants"]),
        .library(name: "GrantsCore", targets: ["GrantsCore"]),
        .library(name: "PGClient", targets: ["PGClient"]),
        .executable(name: "grants-admin", targets: ["grants-admin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // GrantsService is a Service: an embedding server starts and stops it with its other services.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // `swift package generate-documentation`: builds the DocC catalog in Sources/Grants/Grants.docc.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // libyaml's event parser: manifests are built from its events directly (apt libyaml-dev).
        .systemLibrary(
            name: "CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // libxlsxwriter (C, Debian libxlsxwriter-dev): the xlsx export's workbook, in constant-memory mode.
        .systemLibrary(
            name: "CXLSXWriter",
            pkgConfig: "xlsxwriter",
            providers: [.apt(["libxlsxwriter-dev"]), .brew(["libxlsxwriter"])]
        ),
        .target(
            name: "PGClient",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The pure core: values, rules, errors, manifests and report writers. No database: the compiler keeps
        // it that way, and its tests run without a server.
        .target(
            name: "GrantsCore",
            dependencies: ["CLibYAML", "CXLSXWriter"]
        ),
        // Schema/ compiled into the library at build time (the plugin runs the tool below).
        .executableTarget(name: "embed-schema", path: "Sources/embed-schema"),
        .plugin(name: "EmbedSchema", capability: .buildTool(), dependencies: ["embed-schema"]),
        // The façade users import, and all SQL.
        .target(
            name: "Grants",
            dependencies: [
                "GrantsCore",
                "PGClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            plugins: ["EmbedSchema"]
        ),
        // Workloads for Scripts/bench that need the library itself (not part of the product).
        .executableTarget(
            name: "grants-bench",
            dependencies: ["Grants", "PGClient"]
        ),
        .executableTarget(
            name: "grants-admin",
            dependencies: [
                "Grants",
                "PGClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Finds the test server and hands each test a database of its own.
        .target(name: "TestSupport", dependencies: ["PGClient", "Grants"], path: "Tests/TestSupport"),
        .testTarget(
            name: "PGClientTests",
            dependencies: ["PGClient", "TestSupport", .product(name: "MetricsTestKit", package: "swift-metrics")]
        ),
        // A seeded random generator, so that fuzz and property runs replay exactly.
        .target(name: "TestSeeds", path: "Tests/TestSeeds"),
        .testTarget(name: "GrantsCoreTests", dependencies: ["GrantsCore", "TestSeeds"]),
        // Fixtures/: the official schemas and codelists the exports are validated against (see its README).
        .testTarget(
            name: "GrantsTests",
            dependencies: [
                "Grants", "PGClient", "TestSupport", "TestSeeds",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "GrantsAdminTests", dependencies: ["Grants", "PGClient", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
