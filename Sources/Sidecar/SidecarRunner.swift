import AuditExport
import Foundation
import GRPCRuntime
import HTTPServer
import Ledger
import Logging
import ObjectStorage
import Prometheus
import PrometheusClient
import QueryAPI
import Reloader
import RequestLogging
import ServiceLifecycle
import Shipper
import SkiffCore
import StatusPage
import StoreAPI
import TSDB
import WebConfig

/// How the sidecar runs; `skiff sidecar` fills it from Thanos' flags.
public struct SidecarConfiguration: Sendable {
    public var tsdbPath: String
    public var ledgerPath: String
    public var httpAddress: String
    public var httpGracePeriod: Duration
    public var grpcAddress: GRPCListenAddress
    public var grpcTLS: GRPCServerTLS?
    public var grpcGracePeriod: Duration
    /// `--prometheus.get_config_interval`: heartbeat and retry interval.
    public var heartbeatInterval: Duration
    /// `--prometheus.get_config_timeout`: timeout of each call to Prometheus.
    public var prometheusTimeout: Duration
    /// `--prometheus.ready_timeout`: how long the shipper waits for the external labels.
    public var readyTimeout: Duration
    public var syncInterval: Duration
    /// `.zero` disables the periodic reconcile.
    public var reconcileInterval: Duration
    public var reconcileRepair: Bool
    public var uploadCompacted: Bool
    public var ignoreUnequalBlockSize: Bool
    /// `--min-time` in Unix milliseconds.
    public var minTimeMillis: Int64
    /// `--shipper.meta-file-name`: the uploaded-blocks file in `tsdbPath` (Prometheus >= 3.9
    /// reads it through `--storage.tsdb.delay-compact-file.path`).
    public var shipperMetaFileName = ShipperMetaFile.fileName
    /// `--store.limits.request-series` / `--store.limits.request-samples` (0: no limit).
    public var seriesLimits = SeriesLimits()
    /// `--http.config`: TLS and basic auth for the HTTP endpoints; nil serves plain HTTP.
    public var web: WebConfig?
    /// `--request.logging-config`: which gRPC calls and HTTP requests are logged; nil: none.
    public var requestLog: RequestLogConfig?
    /// `--grpc-server-max-connection-age`: gRPC connections are closed (GOAWAY) after it; nil: never.
    public var grpcMaxConnectionAge: Duration? = GRPCServerService.defaultMaxConnectionAge
    /// `--shipper.upload-concurrency` (0 and 1: one file at a time).
    public var uploadConcurrency = 1
    /// `--shipper.allow-out-of-order-uploads`.
    public var allowOutOfOrderUploads = false
    /// `--reloader.*`: the config and rule dirs to watch; empty: no reloader.
    public var reloader = ReloaderConfiguration()
    /// `--audit.export*`: export the ledger's transitions to the bucket (with a bucket); nil: off.
    public var auditExport: AuditExportSchedule?

    public init(
        tsdbPath: String, ledgerPath: String, httpAddress: String, httpGracePeriod: Duration,
        grpcAddress: GRPCListenAddress, grpcTLS: GRPCServerTLS?, grpcGracePeriod: Duration, heartbeatInterval: Duration,
        prometheusTimeout: Duration, readyTimeout: Duration, syncInterval: Duration, reconcileInterval: Duration,
        reconcileRepair: Bool, uploadCompacted: Bool, ignoreUnequalBlockSize: Bool, minTimeMillis: Int64
    ) {
        self.tsdbPath = tsdbPath
        self.ledgerPath = ledgerPath
        self.httpAddress = httpAddress
        self.httpGracePeriod = httpGracePeriod
        self.grpcAddress = grpcAddress
        self.grpcTLS = grpcTLS
        self.grpcGracePeriod = grpcGracePeriod
        self.heartbeatInterval = heartbeatInterval
        self.prometheusTimeout = prometheusTimeout
        self.readyTimeout = readyTimeout
        self.syncInterval = syncInterval
        self.reconcileInterval = reconcileInterval
        self.reconcileRepair = reconcileRepair
        self.uploadCompacted = uploadCompacted
        self.ignoreUnequalBlockSize = ignoreUnequalBlockSize
        self.minTimeMillis = minTimeMillis
    }
}

/// The sidecar: one ServiceGroup of the HTTP server (probes, /metrics), the Prometheus heartbeat,
/// the gRPC StoreAPI server and, with a bucket, the shipper with the periodic reconcile between
/// its passes. Runs until SIGTERM/SIGINT (or the task's cancellation).
public struct SidecarRunner: Sendable {
    public let configuration: SidecarConfiguration
    public let client: PrometheusClient
    public let bucket: (any Bucket)?
    public let registry: PrometheusCollectorRegistry
    public let state = SidecarState()
    /// Run beside the sidecar's own (the tracing exporter, which flushes its spans on shutdown).
    let companions: [any Service]
    let logger: Logger

    public init(
        configuration: SidecarConfiguration, client: PrometheusClient, bucket: (any Bucket)?,
        registry: PrometheusCollectorRegistry, companions: [any Service] = [], logger: Logger
    ) {
        self.companions = companions
        self.configuration = configuration
        self.client = client
        self.bucket = bucket
        self.registry = registry
        self.logger = logger
    }

    /// Runs every service until shutdown.
    public func run() async throws {
        let config = configuration
        let logger = self.logger
        if bucket == nil { logger.info("no bucket configured (--objstore.config-file); uploads are disabled") }
        logger.info(
            "starting sidecar",
            metadata: [
                "prometheus": "\(client.url)", "tsdb": "\(config.tsdbPath)", "http": "\(config.httpAddress)",
                "bucket": "\(bucket?.name ?? "none")",
            ])
        let probe = StatusProbe(registry: registry, readyGates: [GRPCReadyGate.gate], logger: logger)
        // The shipper opens the ledger, which the status page then reads (the same connection pool).
        var shipping: (services: [any Service], ledger: Ledger)?
        if let bucket { shipping = try await makeShipperServices(bucket: bucket) }
        let reloading = config.reloader.isEmpty ? nil : ReloaderProgress(clock: .system)
        let status = StatusRoutes(
            source: StatusSource(
                ledger: shipping?.ledger, bucket: bucket?.name, clock: .system,
                prometheus: { [state, client] in Self.prometheusStatus(state: state, probe: probe, url: client.url) },
                reloader: { [reloader = config.reloader] in reloading.map { Self.reloaderStatus(reloader, $0.snapshot) } }))
        let http = SidecarHTTPServer(
            address: config.httpAddress, probe: probe, registry: registry, gracePeriod: config.httpGracePeriod,
            logger: logger, web: config.web, requestLog: config.requestLog?.http,
            routes: [
                QueryHTTPHandler(
                    service: StoreAPIServer.queryService(client: client, state: state, grpcAddress: config.grpcAddress)
                ).route,
                status.route,
            ],
            onListening: { port in
                logger.info(
                    "listening for probes and metrics", metadata: ["address": "\(config.httpAddress)", "port": "\(port)"])
            })
        let heartbeat = PrometheusHeartbeat(
            client: client, state: state, probe: probe, interval: config.heartbeatInterval,
            timeout: config.prometheusTimeout, validateFlags: bucket != nil,
            shipperFilePath: config.tsdbPath + "/" + config.shipperMetaFileName,
            ignoreUnequalBlockSize: config.ignoreUnequalBlockSize, logger: logger)
        let grpc = StoreAPIServer.make(
            address: config.grpcAddress, tls: config.grpcTLS, gracePeriod: config.grpcGracePeriod, client: client,
            state: state, minTimeFlagMillis: config.minTimeMillis, limits: config.seriesLimits,
            requestLog: config.requestLog?.grpc, maxConnectionAge: config.grpcMaxConnectionAge,
            prometheusTimeout: config.prometheusTimeout, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: http), .init(service: heartbeat), .init(service: grpc),
            .init(service: GRPCReadyGate(server: grpc, probe: probe)),
        ]
        services += companions.map { .init(service: $0) }
        if !config.reloader.isEmpty {
            services.append(
                .init(
                    service: ConfigReloader(
                        configuration: config.reloader, client: client, logger: logger, progress: reloading)))
        }
        if let shipping { services += shipping.services.map { .init(service: $0) } }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The shipping loop: waits for the external labels (up to `readyTimeout`, then ends the
    /// process with Thanos' message), and ships with the labels current at each pass; with
    /// `auditExport`, the audit export beside it, under the labels current at each export. The
    /// ledger is returned for the status page.
    private func makeShipperServices(bucket: any Bucket) async throws -> (services: [any Service], ledger: Ledger) {
        let config = configuration
        let logger = self.logger
        let state = self.state
        if !FileManager.default.fileExists(atPath: config.tsdbPath + "/wal") {
            logger.error(
                "WAL dir is not accessible. Is this dir a TSDB directory? If yes it is shared with TSDB?",
                metadata: ["tsdb": "\(config.tsdbPath)"])
        }
        let workspace = try await ShipperWorkspace.open(
            tsdbPath: config.tsdbPath, ledgerPath: config.ledgerPath, logger: logger)
        let gauges = LedgerGauges(ledger: workspace.ledger)
        let reconcile = PeriodicReconcile(
            ledger: workspace.ledger, bucket: bucket, tsdbPath: config.tsdbPath,
            intervalMillis: config.reconcileInterval.millis, repair: config.reconcileRepair, logger: logger)
        let shipper = ShipperService(
            intervalMillis: max(config.syncInterval.millis, 1), logger: logger,
            afterPass: {
                await reconcile.runIfDue(labels: state.labels)
                await gauges.refresh()
            }
        ) {
            let labels = try await Self.labels(of: state, waitingUpTo: config.readyTimeout, logger: logger)
            var shipperConfig = ShipperConfig(tsdbPath: config.tsdbPath, labels: labels, uploadCompacted: config.uploadCompacted)
            shipperConfig.metaFileName = config.shipperMetaFileName
            shipperConfig.uploadConcurrency = config.uploadConcurrency
            shipperConfig.allowOutOfOrderUploads = config.allowOutOfOrderUploads
            return try workspace.makeShipper(config: shipperConfig, bucket: bucket, logger: logger)
        }
        guard let schedule = config.auditExport else { return ([shipper], workspace.ledger) }
        let failpoints = try Failpoints.parse(ProcessInfo.processInfo.environment["SKIFF_FAILPOINTS"] ?? "")
        let audit = AuditExportService(interval: schedule.interval, maxRows: schedule.maxRows, logger: logger) {
            guard let labels = state.labels else { return nil }  // not known yet: the next check
            return AuditExporter(
                ledger: workspace.ledger, bucket: bucket,
                configuration: .init(labels: labels, maxRows: schedule.maxRows, skiffVersion: BuildInfo.version),
                failpoints: failpoints, logger: logger)
        }
        // The export first: services stop in reverse order, so it stops after the shipper and its
        // final export sees the shipper's last transitions.
        return ([audit, shipper], workspace.ledger)
    }

    /// What the status page shows about Prometheus, read at each request.
    static func prometheusStatus(state: SidecarState, probe: StatusProbe, url: String) -> PrometheusStatus {
        let beat = state.heartbeat
        let ready = probe.isReady
        let reason =
            ready
            ? nil
            : beat.lastError
                ?? (state.labels == nil
                    ? "waiting for the first heartbeat to read Prometheus' external labels"
                    : "waiting for the gRPC server to listen (--grpc-address)")
        return PrometheusStatus(
            url: url, up: beat.up, version: beat.version, externalLabels: state.labels?.description,
            lastHeartbeatMillis: beat.lastSuccessMillis, lastError: beat.lastError, ready: ready, notReadyReason: reason)
    }

    /// What the status page shows about the config reloader: its flags and what it has done.
    static func reloaderStatus(_ config: ReloaderConfiguration, _ done: ReloaderProgress.Snapshot) -> ReloaderStatus {
        ReloaderStatus(
            method: config.method.label, configFile: config.configFile, outputFile: config.configEnvsubstFile,
            ruleDirs: config.ruleDirs, reloads: done.reloads, failedReloads: done.failedReloads,
            lastSuccessMillis: done.lastSuccessMillis, lastError: done.lastError, lastErrorMillis: done.lastErrorMillis)
    }

    /// The external labels, waiting for the heartbeat's first read at most `limit`.
    static func labels(of state: SidecarState, waitingUpTo limit: Duration, logger: Logger) async throws -> LabelSet {
        if let labels = state.labels { return labels }
        logger.info("shipper waiting for prometheus' external labels")
        return try await withThrowingTaskGroup(of: LabelSet?.self) { group in
            group.addTask { try await state.labelsKnown() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let labels = first else {
                throw SkiffError(
                    .invalidArgument,
                    "aborting as no external labels found after waiting \(limit): is Prometheus running at --prometheus.url, "
                        + "with global.external_labels set?", transient: false)
            }
            return labels
        }
    }
}

extension Duration {
    /// Whole milliseconds, for the APIs that count in them (the ledger's unit).
    var millis: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
