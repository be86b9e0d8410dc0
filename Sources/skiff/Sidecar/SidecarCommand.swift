import ArgumentParser
import Foundation
import GRPCRuntime
import HTTPServer
import Ledger
import Logging
import Metrics
import ObjectStorage
import Prometheus
import PrometheusClient
import ServiceLifecycle
import Shipper
import SkiffCore
import StoreAPI
import TSDB

/// `skiff sidecar`: runs next to Prometheus as a drop-in for `thanos sidecar`.
struct Sidecar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run next to Prometheus: ship its blocks with its external labels, serve probes and metrics.",
        discussion: """
            Reads the external labels from Prometheus (global.external_labels), ships every new block to the \
            bucket with them, serves /-/healthy, /-/ready and /metrics on --http-address, and the Thanos StoreAPI \
            (Store, Info, health) on --grpc-address once the labels are known. Without a bucket config nothing is \
            uploaded, as in Thanos. Stops on SIGTERM/SIGINT; an upload in flight resumes on \
            the next start.
            """)

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var logOptions: LogOptions

    @Option(name: .customLong("prometheus.url"), help: "URL of Prometheus (a path prefix is kept).")
    var prometheusURL = "http://localhost:9090"

    @Option(name: .customLong("prometheus.ready_timeout"), help: "How long to wait for Prometheus' external labels before giving up.")
    var readyTimeout = "10m"

    @Option(name: .customLong("prometheus.get_config_interval"), help: "Heartbeat and retry interval for reading Prometheus' config.")
    var getConfigInterval = "30s"

    @Option(name: .customLong("prometheus.get_config_timeout"), help: "Timeout of each call to Prometheus.")
    var getConfigTimeout = "30s"

    @Option(name: .customLong("prometheus.http-client-file"), help: "HTTP client YAML for Prometheus (basic auth, bearer token, TLS).")
    var httpClientFile: String?

    @Option(name: .customLong("prometheus.http-client"), help: "HTTP client YAML content (alternative to the file).")
    var httpClient: String?

    @OptionGroup var objstore: ObjstoreOptions

    @Flag(name: .customLong("shipper.upload-compacted"), help: "Also upload compacted blocks (level > 1).")
    var uploadCompacted = false

    @Flag(name: .customLong("shipper.ignore-unequal-block-size"), help: "Ship even if Prometheus may compact blocks first.")
    var ignoreUnequalBlockSize = false

    @Option(name: .customLong("shipper.sync-interval"), help: "How often to look for new blocks.")
    var syncInterval = "30s"

    @Option(name: .customLong("reconcile.interval"), help: "How often to compare local dirs, ledger and bucket (0 disables).")
    var reconcileInterval = "10m"

    @Flag(name: .customLong("reconcile.repair"), help: "Let the periodic reconcile repair drift (as `skiff reconcile --repair`).")
    var reconcileRepair = false

    @Option(name: .customLong("min-time"), help: "Oldest data served: RFC3339 or a duration such as -2d (for the StoreAPI).")
    var minTime = "0000-01-01T00:00:00Z"

    @Option(name: .customLong("http-address"), help: "Listen address for probes and /metrics.")
    var httpAddress = "0.0.0.0:10902"

    @Option(name: .customLong("http-grace-period"), help: "Time to finish HTTP requests on shutdown.")
    var httpGracePeriod = "2m"

    @Option(name: .customLong("grpc-address"), help: "Listen address of the StoreAPI (gRPC): host:port, :port or [::1]:port.")
    var grpcAddress = "0.0.0.0:10901"

    @Option(name: .customLong("grpc-grace-period"), help: "Time to finish gRPC calls on shutdown.")
    var grpcGracePeriod = "2m"

    @Option(name: .customLong("grpc-server-tls-cert"), help: "TLS certificate (PEM) for the gRPC server; empty: plaintext.")
    var grpcTLSCert = ""

    @Option(name: .customLong("grpc-server-tls-key"), help: "TLS private key (PEM) for the gRPC server.")
    var grpcTLSKey = ""

    @Option(name: .customLong("grpc-server-tls-client-ca"), help: "CA (PEM) client certificates must chain to; empty: no client certificates.")
    var grpcTLSClientCA = ""

    func run() async throws {
        try await runReportingErrors {
            let logger = logOptions.makeLogger("skiff.sidecar")
            let interval = try duration(getConfigInterval, "--prometheus.get_config_interval")
            let timeout = try duration(getConfigTimeout, "--prometheus.get_config_timeout")
            let readyWait = try duration(readyTimeout, "--prometheus.ready_timeout")
            let grace = try duration(httpGracePeriod, "--http-grace-period")
            let syncEvery = try GoDuration.parseMillis(syncInterval)
            let reconcileEvery = try GoDuration.parseMillis(reconcileInterval)
            _ = try SidecarHTTPServer.parseAddress(httpAddress)
            let minTimeMillis = try MinTime.millis(minTime)
            let grpcListen: GRPCListenAddress
            do { grpcListen = try GRPCListenAddress(parsing: grpcAddress) } catch {
                throw SkiffError(.invalidArgument, "--grpc-address: \(error)")
            }
            let grpcTLS: GRPCServerTLS?
            do { grpcTLS = try GRPCServerTLS.fromFlags(certificate: grpcTLSCert, key: grpcTLSKey, clientCA: grpcTLSClientCA) } catch {
                throw SkiffError(.invalidArgument, "\(error)")
            }
            let grpcGrace = try duration(grpcGracePeriod, "--grpc-grace-period")
            let clientConfig = try loadHTTPClientConfig()
            let bucketConfig = try objstore.loadIfSet()

            let registry = PrometheusCollectorRegistry()
            var metricsFactory = PrometheusMetricsFactory(registry: registry)
            metricsFactory.valueHistogramBuckets[RemoteReader.framesMetric] = RemoteReader.framesBuckets
            MetricsSystem.bootstrap(metricsFactory)
            let probe = StatusProbe(registry: registry, logger: logger)
            let state = SidecarState()
            let client = try PrometheusClient(url: prometheusURL, config: clientConfig)
            let bucket = try bucketConfig?.makeBucket()
            if bucket == nil { logger.info("no bucket configured (--objstore.config-file); uploads are disabled") }
            logger.info(
                "starting sidecar",
                metadata: [
                    "prometheus": "\(client.url)", "tsdb": "\(ledgerOptions.tsdbPath)", "http": "\(httpAddress)",
                    "bucket": "\(bucket?.name ?? "none")",
                ])
            do {
                try await serve(
                    client: client, bucket: bucket, probe: probe, registry: registry, state: state, logger: logger,
                    interval: interval, timeout: timeout, readyWait: readyWait, grace: grace, syncEvery: syncEvery,
                    reconcileEvery: reconcileEvery,
                    grpc: StoreAPIServer.make(
                        address: grpcListen, tls: grpcTLS, gracePeriod: grpcGrace, client: client, state: state,
                        minTimeFlagMillis: minTimeMillis, logger: logger))
            } catch {
                await bucket?.shutdown()
                await client.shutdown()
                throw error
            }
            await bucket?.shutdown()
            await client.shutdown()
        }
    }

    private func serve(
        client: PrometheusClient, bucket: (any Bucket)?, probe: StatusProbe, registry: PrometheusCollectorRegistry,
        state: SidecarState, logger: Logger, interval: Duration, timeout: Duration, readyWait: Duration,
        grace: Duration, syncEvery: Int64, reconcileEvery: Int64, grpc: GRPCServerService
    ) async throws {
        let http = SidecarHTTPServer(
            address: httpAddress, probe: probe, registry: registry, gracePeriod: grace, logger: logger,
            onListening: { port in logger.info("listening for probes and metrics", metadata: ["address": "\(httpAddress)", "port": "\(port)"]) })
        let heartbeat = PrometheusHeartbeat(
            client: client, state: state, probe: probe, interval: interval, timeout: timeout,
            validateFlags: bucket != nil, shipperFilePath: ledgerOptions.tsdbPath + "/thanos.shipper.json",
            ignoreUnequalBlockSize: ignoreUnequalBlockSize, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: http), .init(service: heartbeat), .init(service: grpc),
        ]
        if let bucket {
            services.append(
                .init(
                    service: try await makeShipperService(
                        bucket: bucket, state: state, readyWait: readyWait, syncEvery: syncEvery, reconcileEvery: reconcileEvery,
                        logger: logger)))
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The shipping loop: waits for the external labels (up to --prometheus.ready_timeout, then
    /// ends the process with Thanos' message), and ships with the labels current at each pass.
    private func makeShipperService(
        bucket: any Bucket, state: SidecarState, readyWait: Duration, syncEvery: Int64, reconcileEvery: Int64, logger: Logger
    ) async throws -> ShipperService {
        _ = try BlockScanner(tsdbPath: ledgerOptions.tsdbPath)
        if !FileManager.default.fileExists(atPath: ledgerOptions.tsdbPath + "/wal") {
            logger.error(
                "WAL dir is not accessible. Is this dir a TSDB directory? If yes it is shared with TSDB?",
                metadata: ["tsdb": "\(ledgerOptions.tsdbPath)"])
        }
        let lock = try DataDirLock(tsdbPath: ledgerOptions.tsdbPath)
        let ledger = try Ledger.open(path: ledgerOptions.resolvedLedgerPath)
        // A damaged ledger could make the shipper re-upload or skip blocks: refuse to start.
        let problems = try await ledger.integrityProblems()
        guard problems.isEmpty else {
            throw SkiffError(.ledger, Ledger.corruptMessage(ledger.path, problems.joined(separator: "; ")), transient: false)
        }
        let gauges = LedgerGauges(ledger: ledger)
        let reconcile = PeriodicReconcile(
            ledger: ledger, bucket: bucket, tsdbPath: ledgerOptions.tsdbPath, intervalMillis: reconcileEvery,
            repair: reconcileRepair, logger: logger)
        let tsdbPath = ledgerOptions.tsdbPath
        let uploadCompacted = self.uploadCompacted
        let failpoints = try Failpoints.parse(ProcessInfo.processInfo.environment["SKIFF_FAILPOINTS"] ?? "")
        return ShipperService(intervalMillis: max(syncEvery, 1), logger: logger, afterPass: {
            await reconcile.runIfDue(labels: state.labels)
            await gauges.refresh()
        }) {
            withExtendedLifetime(lock) {}
            let labels = try await Self.waitForLabels(state, upTo: readyWait, logger: logger)
            let config = ShipperConfig(tsdbPath: tsdbPath, labels: labels, uploadCompacted: uploadCompacted)
            return try Shipper(config: config, ledger: ledger, bucket: bucket, failpoints: failpoints, logger: logger)
        }
    }

    private static func waitForLabels(_ state: SidecarState, upTo limit: Duration, logger: Logger) async throws -> LabelSet {
        let deadline = ContinuousClock.now + limit
        var logged = false
        while true {
            if let labels = state.labels { return labels }
            guard ContinuousClock.now < deadline else {
                throw SkiffError(
                    .invalidArgument,
                    "aborting as no external labels found after waiting \(limit): is Prometheus running at --prometheus.url, "
                        + "with global.external_labels set?", transient: false)
            }
            if !logged {
                logger.info("shipper waiting for prometheus' external labels")
                logged = true
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    private func duration(_ text: String, _ flag: String) throws(SkiffError) -> Duration {
        do throws(SkiffError) { return .milliseconds(try GoDuration.parseMillis(text)) } catch {
            throw SkiffError(.invalidArgument, "\(flag): \(error.message)")
        }
    }

    private func loadHTTPClientConfig() throws(SkiffError) -> PrometheusHTTPClientConfig {
        switch (httpClientFile, httpClient) {
        case (.some, .some):
            throw SkiffError(.invalidArgument, "both --prometheus.http-client-file and --prometheus.http-client are set; use one")
        case (.some(let path), nil):
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw SkiffError(.invalidArgument, "read --prometheus.http-client-file \(path): cannot read the file")
            }
            return try PrometheusHTTPClientConfig.parse(yaml: text)
        case (nil, .some(let yaml)): return try PrometheusHTTPClientConfig.parse(yaml: yaml)
        case (nil, nil): return PrometheusHTTPClientConfig()
        }
    }
}

/// `--min-time`: RFC3339, or a duration relative to now (`-2d`, `2h45m`), as Thanos takes it.
enum MinTime {
    /// Thanos' default, 0000-01-01T00:00:00Z, in Unix milliseconds.
    static let yearZeroMillis: Int64 = -62_167_219_200_000

    static func validate(_ text: String) throws(SkiffError) { _ = try millis(text) }

    static func millis(_ text: String, nowMillis: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws(SkiffError) -> Int64 {
        let negative = text.hasPrefix("-")
        if let duration = try? GoDuration.parseMillis(negative ? String(text.dropFirst()) : text) {
            return nowMillis + (negative ? -duration : duration)
        }
        if text == "0000-01-01T00:00:00Z" { return yearZeroMillis }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        throw SkiffError(.invalidArgument, "--min-time \"\(text)\" is neither RFC3339 (2024-01-01T00:00:00Z) nor a duration (-2d)")
    }
}
