import ArgumentParser
import AuditExport
import FileIO
import FlagParsing
import Foundation
import GRPCRuntime
import HTTPServer
import Logging
import Metrics
import ObjectStorage
import ObjstoreConfig
import Prometheus
import PrometheusClient
import Reloader
import RequestLogging
import Sidecar
import SkiffCore
import StoreAPI
import TracingSetup
import WebConfig

/// `skiff sidecar` in ArgumentParser's command list, so `skiff --help` shows it. `Skiff.main`
/// sends every sidecar command line to `SidecarLaunch` (kingpin's rules) before ArgumentParser
/// parses anything, so this only runs when reached some other way.
struct SidecarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar",
        abstract: "Run next to Prometheus as a drop-in for `thanos sidecar` (every v0.42 flag; see skiff sidecar --help).")

    @Argument(parsing: .allUnrecognized) var arguments: [String] = []

    func run() async throws {
        let code = await SidecarLaunch.main(["sidecar"] + arguments)
        if code != 0 { throw ExitCode(code) }
    }
}

/// One run of the sidecar from parsed flags: every flag checked and turned into the sidecar's
/// configuration, then the `SidecarRunner` until SIGTERM/SIGINT.
struct SidecarRun {
    let flags: ParsedFlags

    func run() async throws(SkiffError) {
        guard flags.string("log.format") != "journald" else {
            throw SkiffError(
                .invalidArgument, "--log.format=journald is not supported by Skiff: use logfmt or json (logs go to stderr)")
        }
        LogSetup.bootstrap(
            level: flags.string("log.level"), format: flags.string("log.format"), debugName: flags.string("debug.name"))
        let logger = Logger(label: "skiff.sidecar")
        try GoRuntimeFlags.check(flags, logger: logger)
        let configuration = try makeConfiguration()
        let clientConfig = try loadHTTPClientConfig()
        let bucketConfig = try loadBucketConfig()
        let tracingConfig = try loadTracingConfig()

        let registry = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: registry)
        metricsFactory.valueHistogramBuckets[RemoteReader.framesMetric] = RemoteReader.framesBuckets
        metricsFactory.durationHistogramBuckets[InstrumentedBucket.durationMetric] = InstrumentedBucket.durationBuckets
        metricsFactory.durationHistogramBuckets[GRPCServerMetrics.handlingMetric] = GRPCServerMetrics.handlingBuckets
        metricsFactory.valueHistogramBuckets[InstrumentedBucket.transferredBytesMetric] =
            InstrumentedBucket.transferredBytesBuckets
        MetricsSystem.bootstrap(metricsFactory)
        let client = try PrometheusClient(url: flags.string("prometheus.url"), config: clientConfig)
        let tracing = try tracingConfig?.bootstrap()
        let bucket = try bucketConfig?.makeBucket()
        let sidecar = SidecarRunner(
            configuration: configuration, client: client, bucket: bucket, registry: registry,
            companions: tracing.map { [$0] } ?? [], logger: logger)
        do {
            try await sidecar.run()
        } catch {
            await bucket?.shutdown()
            await client.shutdown()
            if let error = error as? SkiffError { throw error }
            throw SkiffError(.io, "sidecar stopped: \(error)")
        }
        await bucket?.shutdown()
        await client.shutdown()
    }

    /// Every flag checked and converted; the first problem is the error.
    private func makeConfiguration() throws(SkiffError) -> SidecarConfiguration {
        let httpAddress = flags.string("http-address")
        do { _ = try SidecarHTTPServer.parseAddress(httpAddress) } catch {
            throw SkiffError(.invalidArgument, "--http-address: \(error)")
        }
        let grpcListen: GRPCListenAddress
        do { grpcListen = try GRPCListenAddress(parsing: flags.string("grpc-address")) } catch {
            throw SkiffError(.invalidArgument, "--grpc-address: \(error)")
        }
        let grpcTLS: GRPCServerTLS?
        do {
            grpcTLS = try GRPCServerTLS.fromFlags(
                certificate: flags.string("grpc-server-tls-cert"), key: flags.string("grpc-server-tls-key"),
                clientCA: flags.string("grpc-server-tls-client-ca"), minVersion: flags.string("grpc-server-tls-min-version"),
                ciphers: flags.strings("grpc-server-tls-ciphers"), curves: flags.strings("grpc-server-tls-curves"))
        } catch { throw SkiffError(.invalidArgument, "\(error)") }
        let tsdbPath = flags.string("tsdb.path")
        var configuration = SidecarConfiguration(
            tsdbPath: tsdbPath,
            ledgerPath: flags.ifSet("ledger.path") ?? LedgerOptions.defaultLedgerPath(tsdbPath: tsdbPath),
            httpAddress: httpAddress, httpGracePeriod: try duration("http-grace-period"), grpcAddress: grpcListen,
            grpcTLS: grpcTLS, grpcGracePeriod: try duration("grpc-grace-period"),
            heartbeatInterval: try duration("prometheus.get_config_interval", minimumMillis: 100),
            prometheusTimeout: try duration("prometheus.get_config_timeout", minimumMillis: 1),
            readyTimeout: try duration("prometheus.ready_timeout"),
            syncInterval: try duration("shipper.sync-interval", minimumMillis: FlagValues.minimumSyncMillis),
            reconcileInterval: try duration(
                "reconcile.interval", minimumMillis: FlagValues.minimumSyncMillis, allowZero: true),
            reconcileRepair: flags.bool("reconcile.repair"),
            uploadCompacted: flags.bool("shipper.upload-compacted"),
            ignoreUnequalBlockSize: flags.bool("shipper.ignore-unequal-block-size"),
            minTimeMillis: try MinTime.millis(flags.string("min-time")))
        configuration.shipperMetaFileName = try FlagValues.fileName(
            flags.string("shipper.meta-file-name"), flag: "--shipper.meta-file-name")
        // 0 means no limit, as grpc-go reads it.
        let age = try duration("grpc-server-max-connection-age", allowZero: true)
        configuration.grpcMaxConnectionAge = age == .zero ? nil : age
        configuration.reloader = ReloaderConfiguration(
            configFile: flags.string("reloader.config-file"),
            configEnvsubstFile: flags.string("reloader.config-envsubst-file"), ruleDirs: flags.strings("reloader.rule-dir"),
            watchInterval: try duration("reloader.watch-interval", allowZero: true),
            retryInterval: try duration("reloader.retry-interval", minimumMillis: 1),
            method: try .init(flag: flags.string("reloader.method"), processName: flags.string("reloader.process-name")))
        configuration.web = try WebConfig.load(path: flags.string("http.config"))
        if let text = try PathOrContent.read(flags, "request.logging-config", substituteEnvironment: true) {
            let file = flags.string("request.logging-config-file")
            configuration.requestLog = try RequestLogConfig.parse(
                text, source: file.isEmpty ? "--request.logging-config" : "--request.logging-config-file \(file)")
        }
        configuration.uploadConcurrency = Int(
            clamping: try FlagValues.count(flags.string("shipper.upload-concurrency"), flag: "--shipper.upload-concurrency"))
        configuration.allowOutOfOrderUploads = flags.bool("shipper.allow-out-of-order-uploads")
        configuration.auditExport = try AuditExportOptions.check(
            enabled: flags.bool("audit.export"), interval: flags.string("audit.export-interval"),
            maxRows: Int(
                clamping: try FlagValues.count(flags.string("audit.export-max-rows"), flag: "--audit.export-max-rows")))
        configuration.seriesLimits = SeriesLimits(
            series: try FlagValues.count(flags.string("store.limits.request-series"), flag: "--store.limits.request-series"),
            samples: try FlagValues.count(flags.string("store.limits.request-samples"), flag: "--store.limits.request-samples"))
        return configuration
    }

    private func duration(
        _ name: String, minimumMillis: Int64 = 0, allowZero: Bool = false
    ) throws(SkiffError) -> Duration {
        try FlagValues.duration(flags.string(name), flag: "--\(name)", minimumMillis: minimumMillis, allowZero: allowZero)
    }

    /// `--tracing.config(-file)`, with `$(VAR)` replaced as Thanos does; nil: no tracing.
    private func loadTracingConfig() throws(SkiffError) -> TracingConfig? {
        guard let text = try PathOrContent.read(flags, "tracing.config", substituteEnvironment: true) else { return nil }
        let file = flags.string("tracing.config-file")
        return try TracingConfig.parse(text, source: file.isEmpty ? "--tracing.config" : "--tracing.config-file \(file)")
    }

    /// `--prometheus.http-client(-file)`: no `$(VAR)` substitution on this pair, as in Thanos.
    private func loadHTTPClientConfig() throws(SkiffError) -> PrometheusHTTPClientConfig {
        guard let text = try PathOrContent.read(flags, "prometheus.http-client", substituteEnvironment: false) else {
            return PrometheusHTTPClientConfig()
        }
        return try PrometheusHTTPClientConfig.parse(yaml: text)
    }

    /// `--objstore.config(-file)`; nil (uploads off, as in Thanos) when neither is set or the
    /// content is blank. An empty value counts as unset, as for every `PathOrContent` pair; the
    /// file is read by BucketConfig (its messages, relative directories), which replaces `$(VAR)`.
    private func loadBucketConfig() throws(SkiffError) -> BucketConfig? {
        let path = flags.string("objstore.config-file")
        let yaml = flags.string("objstore.config")
        switch (path.isEmpty, yaml.isEmpty) {
        case (false, false): throw PathOrContent.bothSet("objstore.config")
        case (false, true): return try BucketConfig.load(path: path)
        case (true, false): return yaml.allSatisfy(\.isWhitespace) ? nil : try BucketConfig.parse(yaml: yaml)
        case (true, true): return nil
        }
    }
}
