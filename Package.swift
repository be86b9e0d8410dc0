// swift-tools-version:6.2
import PackageDescription

/// Settings every target shares: Swift 6 language mode (strict concurrency) is the tools-version default.
let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")  // SE-0335: spell out `any` for existentials
]

let package = Package(
    name: "skiff",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "skiff", targets: ["skiff"])
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", exact: "2.5.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", exact: "1.5.0"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", exact: "1.6.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Pure domain: ULIDs, label sets, block meta JSON, the ship state machine, errors. No imports.
        .target(name: "SkiffCore", swiftSettings: settings),
        // Command lines parsed as kingpin (Thanos' flag library) parses them, pure: `skiff sidecar`.
        .target(name: "FlagParsing", swiftSettings: settings),
        // Prometheus wire formats, pure (no package dependencies): snappy blocks, CRC32C, streamed
        // remote-read frames, XOR chunks.
        .target(name: "PromWire", dependencies: ["CRC32CInstructions"], swiftSettings: settings),
        // The CPU's CRC-32C instruction, which Swift cannot call (C, no dependencies).
        .target(name: "CRC32CInstructions"),
        // Pure StoreAPI logic: matchers, external-label rules, the streaming re-sorter (labels: SkiffCore).
        .target(name: "StoreLogic", dependencies: ["SkiffCore"], swiftSettings: settings),
        // PromQL, pure: lexer, Pratt parser to a syntax tree, printer back to PromQL text.
        .target(name: "PromQL", dependencies: ["SkiffCore"], swiftSettings: settings),
        // The SQLite ledger: migrations, block and file rows, the append-only transition log.
        .target(
            name: "Ledger",
            dependencies: ["SkiffCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: settings),
        // POSIX file calls with their errno (EINTR retried), mkdir -p, atomic durable file writes.
        .target(name: "FileIO", dependencies: ["SkiffCore", "FileIOSystemCalls"], swiftSettings: settings),
        // copy_file_range(2) and fstatfs(2), which Swift's Glibc module does not declare (C, no dependencies).
        .target(name: "FileIOSystemCalls"),
        // Local Prometheus block dirs: scanning, integrity checks, hashing, staging.
        .target(
            name: "TSDB",
            dependencies: ["SkiffCore", "PromWire", "FileIO", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: settings),
        // A pure AWS Signature Version 4 signer: request and date in, headers out; no I/O.
        .target(
            name: "SigV4", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: settings),
        // Blocking work (file I/O, hashing) on NIO's blocking thread pool, off Swift's cooperative pool.
        .target(
            name: "BlockingWork",
            dependencies: ["SkiffCore", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: settings),
        // Thanos' YAML configs read strictly: unknown keys named, values never echoed, $(ENV) substitution.
        .target(
            name: "ConfigYAML",
            dependencies: ["SkiffCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: settings),
        // Thanos' tls_config and HTTP transport settings, shared by the Prometheus and S3 clients.
        .target(
            name: "HTTPClientConfig",
            dependencies: [
                "SkiffCore", "ConfigYAML", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: settings),
        // The Bucket protocol, the filesystem bucket, the prefixed and instrumented wrappers.
        .target(
            name: "ObjectStorage",
            dependencies: [
                "SkiffCore", "BlockingWork", "FileIO", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: settings),
        // The S3 backend: a streaming, resumable S3 client over async-http-client, signed with SigV4.
        .target(
            name: "S3",
            dependencies: [
                "SkiffCore", "FileIO", "ObjectStorage", "ConfigYAML", "HTTPClientConfig", "SigV4", "BlockingWork",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: settings),
        // The GCS backend: GCS' JSON API over async-http-client, resumable uploads, OAuth2 (RS256 JWTs).
        .target(
            name: "GCS",
            dependencies: [
                "SkiffCore", "FileIO", "ObjectStorage", "ConfigYAML", "HTTPClientConfig", "BlockingWork", "PromWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: settings),
        // Thanos' objstore YAML (`--objstore.config-file`): which backend, and making its bucket.
        .target(
            name: "ObjstoreConfig",
            dependencies: [
                "SkiffCore", "FileIO", "ObjectStorage", "S3", "GCS", "ConfigYAML", "HTTPClientConfig",
            ],
            swiftSettings: settings),
        // Prometheus' HTTP API as the sidecar uses it: readiness, external labels, flags, version.
        .target(
            name: "PrometheusClient",
            dependencies: [
                "SkiffCore", "FileIO", "ConfigYAML", "HTTPClientConfig",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        // `--request.logging-config`: Thanos' request logging rules (what is logged, at which level).
        .target(
            name: "RequestLogging",
            dependencies: [
                "SkiffCore", "ConfigYAML", .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        // `--tracing.config`: Thanos' tracing YAML (type OTLP) exported through swift-otel.
        .target(
            name: "TracingSetup",
            dependencies: [
                "SkiffCore", "ConfigYAML", .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),
        // `--http.config`: exporter-toolkit's web config (TLS, client CAs, basic auth with bcrypt).
        .target(
            name: "WebConfig",
            dependencies: [
                "SkiffCore", "FileIO", "ConfigYAML", .product(name: "Yams", package: "Yams"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            swiftSettings: settings),
        // The sidecar's HTTP endpoints: /-/healthy, /-/ready and /metrics (Hummingbird).
        .target(
            name: "HTTPServer",
            dependencies: [
                "SkiffCore", "WebConfig", "BlockingWork", "RequestLogging",
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        // Generated by Tools/gen-proto from Protos/ (committed): Thanos Store and Info, Prometheus
        // remote read and write, gRPC health.
        .target(
            name: "StoreProto",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: settings),
        // The gRPC server as a lifecycle service: listen address, TLS (mutual too), health, graceful stop.
        .target(
            name: "GRPCRuntime",
            dependencies: [
                "SkiffCore", "FileIO", "StoreProto", "RequestLogging",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: settings),
        // The Thanos StoreAPI over Prometheus: Info, Series (streamed remote read, re-sorted with
        // bounded memory), LabelNames, LabelValues.
        .target(
            name: "StoreAPI",
            dependencies: [
                "StoreProto", "StoreLogic", "PromWire", "PrometheusClient", "GRPCRuntime",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: settings),
        // The Querier-facing APIs other than Store, over Prometheus' HTTP API: Rules, Targets,
        // Metadata, Exemplars and Status, with Thanos' external-label rules.
        .target(
            name: "PrometheusAPIs",
            dependencies: [
                "SkiffCore", "StoreProto", "StoreLogic", "StoreAPI", "PrometheusClient", "GRPCRuntime",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: settings),
        // Drives the state machine: scan, stage, hash, upload, commit, retry, clean.
        .target(
            name: "Shipper",
            dependencies: [
                "SkiffCore", "Ledger", "TSDB", "ObjectStorage", "BlockingWork",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),
        // Local dirs vs ledger vs bucket: reconcile and repair, verify, ledger rebuild, the bucket inventory.
        .target(
            name: "Reconcile",
            dependencies: [
                "SkiffCore", "Ledger", "TSDB", "ObjectStorage", "Shipper",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: settings),
        // Prometheus relabel configs (keep, drop, hashmod, replace, label*), pure: the bucket
        // commands' `--selector.relabel-config`.
        .target(
            name: "Relabel",
            dependencies: [
                "SkiffCore", "ConfigYAML", "StoreLogic", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: settings),
        // `skiff bucket`: any producer's blocks in a bucket streamed (ls, inspect), verified against
        // their meta.json, and downloaded with the hash-skipping contract.
        .target(
            name: "BucketTools",
            dependencies: [
                "SkiffCore", "FileIO", "TSDB", "ObjectStorage", "Shipper", "BlockingWork",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: settings),
        // The fleet audit: the ledger's transitions exported to the bucket (skiff-audit/v1/, Hive
        // partitions, gzipped NDJSON, exactly once) and `skiff fleet report` streamed over them.
        .target(
            name: "AuditExport",
            dependencies: [
                "SkiffCore", "Ledger", "ObjectStorage", "Shipper", "BlockingWork",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: settings),
        // Thanos' config reloader: renders --reloader.config-file ($(VAR), gzip), watches it and the
        // rule dirs (inotify plus a periodic re-check), reloads Prometheus over HTTP or by SIGHUP.
        .target(
            name: "Reloader",
            dependencies: [
                "SkiffCore", "FileIO", "ConfigYAML", "BlockingWork", "PrometheusClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: settings),
        // The query API (Thanos' pkg/api/query): HTTP /api/v1/query(_range) and the thanos.Query
        // gRPC service, PromQL rewritten for the external labels and evaluated by Prometheus.
        .target(
            name: "QueryAPI",
            dependencies: [
                "SkiffCore", "PromQL", "StoreLogic", "StoreProto", "PrometheusClient", "HTTPServer", "GRPCRuntime",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: settings),
        // The sidecar as a library: Prometheus heartbeat and state, readiness, the StoreAPI server
        // wiring, the periodic reconcile, ledger gauges, and the ServiceGroup that runs them.
        .target(
            name: "Sidecar",
            dependencies: [
                "SkiffCore", "Ledger", "TSDB", "ObjectStorage", "Shipper", "Reconcile", "PrometheusClient",
                "HTTPServer", "GRPCRuntime", "StoreAPI", "StoreLogic", "WebConfig", "RequestLogging", "Reloader",
                "PrometheusAPIs",
                "QueryAPI", "StatusPage",
                "AuditExport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),
        // The status page: the ledger and the sidecar's state as HTML (mustache), a server-drawn SVG
        // block timeline and JSON under /api/v1/skiff, served as HTTPRoutes behind --http.config.
        .target(
            name: "StatusPage",
            dependencies: [
                "SkiffCore", "Ledger", "HTTPServer", "BlockingWork", .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: settings),
        .executableTarget(
            name: "skiff",
            dependencies: [
                "SkiffCore", "BlockingWork", "FileIO", "Ledger", "TSDB", "ObjectStorage", "ObjstoreConfig", "Shipper",
                "Reconcile",
                "Sidecar", "PrometheusClient", "HTTPServer", "GRPCRuntime", "StoreAPI", "StoreLogic", "FlagParsing",
                "ConfigYAML", "WebConfig", "RequestLogging", "Reloader", "TracingSetup", "Relabel", "BucketTools",
                "StatusPage",
                "AuditExport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),

        // Test support: temp dirs, real promtool blocks, running the built binary.
        .target(
            name: "TestSupport",
            dependencies: [
                "SkiffCore", "FileIO", "ObjectStorage", "S3", "ObjstoreConfig", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: settings),
        .testTarget(name: "SkiffCoreTests", dependencies: ["SkiffCore"], swiftSettings: settings),
        .testTarget(name: "FlagParsingTests", dependencies: ["FlagParsing"], swiftSettings: settings),
        .testTarget(name: "TracingSetupTests", dependencies: ["TracingSetup", "SkiffCore"], swiftSettings: settings),
        .testTarget(
            name: "RequestLoggingTests",
            dependencies: ["RequestLogging", "SkiffCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: settings),
        .testTarget(
            name: "WebConfigTests",
            dependencies: ["WebConfig", "SkiffCore", .product(name: "HummingbirdBcrypt", package: "hummingbird-auth")],
            swiftSettings: settings),
        .testTarget(
            name: "TestSupportTests",
            dependencies: [
                "TestSupport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: settings),
        // A seeded random generator for the pure test targets (no dependencies).
        .target(name: "SeededRandom", path: "Tests/SeededRandom", swiftSettings: settings),
        .testTarget(name: "StoreLogicTests", dependencies: ["StoreLogic", "SeededRandom"], swiftSettings: settings),
        .testTarget(name: "PromQLTests", dependencies: ["PromQL"], swiftSettings: settings),
        .testTarget(
            name: "QueryRewriteTests", dependencies: ["QueryAPI", "PromQL", "SkiffCore"], swiftSettings: settings),
        .testTarget(
            name: "QueryAPITests",
            dependencies: [
                "QueryAPI", "PromQL", "SkiffCore", "StoreProto", "PrometheusClient", "HTTPServer", "TestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
            ],
            swiftSettings: settings),
        .testTarget(name: "PromWireTests", dependencies: ["PromWire", "SeededRandom"], swiftSettings: settings),
        .testTarget(
            name: "StoreAPIWireTests",
            dependencies: [
                "StoreAPI", "StoreLogic", "StoreProto", "PromWire", "SeededRandom",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: settings),
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4"], swiftSettings: settings),
        .testTarget(name: "RelabelTests", dependencies: ["Relabel", "SkiffCore"], swiftSettings: settings),
        .testTarget(
            name: "LedgerTests",
            dependencies: ["Ledger", "SkiffCore", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: settings),
        .testTarget(name: "TSDBTests", dependencies: ["TSDB", "PromWire", "TestSupport"], swiftSettings: settings),
        .testTarget(
            name: "ObjectStorageTests",
            dependencies: [
                "ObjectStorage", "S3", "GCS", "ObjstoreConfig", "FileIO", "TestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: [
                "HTTPServer", "TestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "PrometheusClientTests",
            dependencies: [
                "PrometheusClient", "SkiffCore", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "ShipperTests", dependencies: ["Shipper", "Ledger", "TSDB", "ObjectStorage", "FileIO", "TestSupport"],
            swiftSettings: settings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "Ledger", "SkiffCore", "ObjectStorage", "TestSupport", "StoreProto", "PromWire", "AuditExport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "StatusPageTests",
            dependencies: [
                "StatusPage", "Ledger", "SkiffCore", "HTTPServer", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "AuditExportTests",
            dependencies: ["AuditExport", "Ledger", "ObjectStorage", "Shipper", "SkiffCore", "TestSupport"],
            swiftSettings: settings),
        .testTarget(
            name: "ReconcileTests", dependencies: ["Reconcile", "Ledger", "SkiffCore", "TestSupport"], swiftSettings: settings),
        .testTarget(
            name: "SidecarServiceTests",
            dependencies: [
                "Sidecar", "SkiffCore", "Ledger", "ObjectStorage", "PrometheusClient", "GRPCRuntime", "Shipper", "TestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "ReloaderTests",
            dependencies: [
                "Reloader", "PrometheusClient", "SkiffCore", "TestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "StoreAPIServiceTests",
            dependencies: [
                "StoreAPI", "StoreLogic", "StoreProto", "PromWire", "PrometheusClient", "SkiffCore", "TestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "PrometheusAPIsTests",
            dependencies: [
                "PrometheusAPIs", "StoreAPI", "StoreProto", "PrometheusClient", "SkiffCore", "TestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "GRPCRuntimeTests",
            dependencies: [
                "GRPCRuntime", "StoreProto", "TestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: settings),
    ]
)

// The Swift clients of Tools/bench-storeapi (remote read straight from Prometheus, and
// thanos.Store/Series through skiff), so both sides of its comparison are the same kind of client.
// Only built when asked (SKIFF_BENCHMARKS=1, which Tools/bench-storeapi sets), as Hummingbird gates
// its benchmarks: a plain `swift build` or `swift test` does not compile them.
if Context.environment["SKIFF_BENCHMARKS"] == "1" {
    package.targets.append(
        .executableTarget(
            name: "bench-storeapi-client",
            dependencies: [
                "StoreProto", "PromWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Benchmarks/StoreAPIClient",
            swiftSettings: settings)
    )
    // Tools/bench-fleet's simulated fleet: audit objects written through the exporter's own code.
    package.targets.append(
        .executableTarget(
            name: "bench-fleet-writer",
            dependencies: ["AuditExport", "Ledger", "ObjectStorage", "SkiffCore"],
            path: "Benchmarks/FleetWriter",
            swiftSettings: settings)
    )
}
