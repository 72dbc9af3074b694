// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "grants",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Grants", targets: ["Grants"]),
        .library(name: "GrantsCore", targets: ["GrantsCore"]),
        .library(name: "GrantsManifests", targets: ["GrantsManifests"]),
        .library(name: "GrantsExports", targets: ["GrantsExports"]),
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
        // zlib (Debian zlib1g-dev): deflate and CRC-32 for the ZIP container of the xlsx workbooks.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .target(
            name: "PGClient",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The layers (Scripts/test checks the graph): the core holds values, rules, errors and records, with no
        // dependency, no C library, no thread and no file of its own; manifests and exports are built over it,
        // each with its C library; Grants, the façade, brings them together with the database.
        .target(name: "GrantsCore"),
        // Round manifests (YAML over libyaml, JSON, CSV) → core records, every problem at once.
        .target(name: "GrantsManifests", dependencies: ["GrantsCore", "CLibYAML"]),
        // The writers: csv, xlsx (streamed, deflated by zlib), SIE, IATI, 360Giving, ISO 20022 files; and the output
        // they write to.
        .target(name: "GrantsExports", dependencies: ["GrantsCore", "CZlib"]),
        // Schema/ compiled into the library at build time (the plugin runs the tool below).
        .executableTarget(name: "embed-schema", path: "Sources/embed-schema"),
        .plugin(name: "EmbedSchema", capability: .buildTool(), dependencies: ["embed-schema"]),
        // The façade users import, and all SQL.
        .target(
            name: "Grants",
            dependencies: [
                "GrantsCore",
                "GrantsManifests",
                "GrantsExports",
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
        // The layers under the database: core, manifests and exports, tested without a server.
        .testTarget(name: "GrantsCoreTests", dependencies: ["GrantsCore", "GrantsManifests", "GrantsExports", "TestSeeds"]),
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
