// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "aop",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "aop-server", targets: ["aop-server"]),
        .library(name: "AOPWire", targets: ["AOPWire"]),
        .library(name: "AOPBroker", targets: ["AOPBroker"]),
        .library(name: "AOPEmbedded", targets: ["AOPEmbedded"]),
        .library(name: "AOPClient", targets: ["AOPClient"]),
        .executable(name: "aop-perf", targets: ["aop-perf"]),
        .executable(name: "aop-stress", targets: ["aop-stress"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // liburing as a system library (Debian: liburing-dev). See Sources/CURing/shim.h for header order.
        .systemLibrary(name: "CURing", pkgConfig: "liburing", providers: [.apt(["liburing-dev"])]),

        // AMQP 0-9-1 without I/O: frames, methods (generated), field tables, properties, state machines.
        .target(name: "AOPWire", swiftSettings: strict),

        // The only module that touches sockets and files: io_uring rings, executors, TCP, file ops.
        .target(
            name: "AOPIO",
            dependencies: ["CURing", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        // Logs, topics, cursors and metadata behind protocols; in-memory and on-disk implementations.
        .target(
            name: "AOPStorage",
            dependencies: ["AOPIO", "AOPWire", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        // vhost / exchange / queue / connection actors, routing, auth.
        .target(
            name: "AOPBroker",
            dependencies: [
                "AOPWire", "AOPIO", "AOPStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),

        // Configuration and service assembly for aop-server.
        .target(
            name: "AOPServer",
            dependencies: [
                "AOPBroker", "AOPIO", "AOPStorage", "CAOPMalloc",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // glibc malloc tuning applied by aop-server at start-up (mallopt's parameters are C macros), and the
        // heap statistics and trim the server's heap trimmer uses.
        .target(name: "CAOPMalloc"),
        .executableTarget(
            name: "aop-server",
            dependencies: [
                "AOPServer", "CAOPMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // The broker in-process: EmbeddedBroker (Service and scoped), async sequences of deliveries.
        .target(
            name: "AOPEmbedded",
            dependencies: [
                "AOPBroker", "AOPIO", "AOPStorage", "AOPWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Example: a work queue served by in-process workers (built and run by Scripts/test-all).
        .executableTarget(
            name: "aop-example-workqueue",
            dependencies: ["AOPEmbedded"],
            path: "Examples/WorkQueue",
            swiftSettings: strict
        ),

        // An async/await AMQP 0-9-1 client on the io_uring transport (usable on its own).
        .target(name: "AOPClient", dependencies: ["AOPWire", "AOPIO"], swiftSettings: strict),
        // Load tool: drives any AMQP 0-9-1 broker; also a null broker to measure its own ceiling.
        .executableTarget(
            name: "aop-perf",
            dependencies: [
                "AOPClient", "AOPIO", "AOPWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),

        // aop-stress without I/O: seeded operation streams, message stamps, the event log and invariant checker.
        .target(name: "AOPStress", swiftSettings: strict),
        // Concurrency stress tool: N connections × M channels of seeded random operations against any
        // AMQP 0-9-1 broker, invariants checked at the end (Docs/Testing.md).
        .executableTarget(
            name: "aop-stress",
            dependencies: [
                "AOPStress", "AOPClient", "AOPIO", "AOPWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // Client-side codec and fixtures shared by the tests.
        .target(name: "AOPTestSupport", dependencies: ["AOPWire"], swiftSettings: strict),

        .testTarget(name: "AOPWireTests", dependencies: ["AOPWire", "AOPTestSupport"], swiftSettings: strict),
        .testTarget(name: "AOPIOTests", dependencies: ["AOPIO"], swiftSettings: strict),
        .testTarget(name: "AOPStorageTests", dependencies: ["AOPStorage", "AOPIO"], swiftSettings: strict),
        .testTarget(name: "AOPServerTests", dependencies: ["AOPServer", "AOPBroker", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .testTarget(
            name: "AOPEmbeddedTests",
            dependencies: ["AOPEmbedded", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strict
        ),
        .testTarget(name: "AOPStressTests", dependencies: ["AOPStress"], swiftSettings: strict),
        .testTarget(name: "AOPClientTests", dependencies: ["AOPClient", "AOPEmbedded"], swiftSettings: strict),
        .testTarget(
            name: "AOPBrokerTests",
            dependencies: ["AOPBroker", "AOPWire", "AOPTestSupport"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
