import ArgumentParser
import FileIO
import Foundation
import GRPCRuntime
import HTTPServer
import Logging
import Metrics
import ObjectStorage
import ObjstoreConfig
import Prometheus
import PrometheusClient
import Sidecar
import SkiffCore
import StoreAPI

/// `skiff sidecar`: runs next to Prometheus as a drop-in for `thanos sidecar`.
struct SidecarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar",
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

    @Option(
        name: .customLong("prometheus.ready_timeout"), parsing: .unconditional,
        help: "How long to wait for Prometheus' external labels before giving up.")
    var readyTimeout = "10m"

    @Option(
        name: .customLong("prometheus.get_config_interval"), parsing: .unconditional,
        help: "Heartbeat and retry interval for reading Prometheus' config.")
    var getConfigInterval = "30s"

    @Option(
        name: .customLong("prometheus.get_config_timeout"), parsing: .unconditional, help: "Timeout of each call to Prometheus.")
    var getConfigTimeout = "30s"

    @Option(
        name: .customLong("prometheus.http-client-file"), help: "HTTP client YAML for Prometheus (basic auth, bearer token, TLS)."
    )
    var httpClientFile: String?

    @Option(name: .customLong("prometheus.http-client"), help: "HTTP client YAML content (alternative to the file).")
    var httpClient: String?

    @OptionGroup var objstore: ObjstoreOptions

    @Flag(name: .customLong("shipper.upload-compacted"), help: "Also upload compacted blocks (level > 1).")
    var uploadCompacted = false

    @Flag(name: .customLong("shipper.ignore-unequal-block-size"), help: "Ship even if Prometheus may compact blocks first.")
    var ignoreUnequalBlockSize = false

    @Option(name: .customLong("shipper.sync-interval"), parsing: .unconditional, help: "How often to look for new blocks.")
    var syncInterval = "30s"

    @Option(
        name: .customLong("reconcile.interval"), parsing: .unconditional,
        help: "How often to compare local dirs, ledger and bucket (0 disables).")
    var reconcileInterval = "10m"

    @Flag(name: .customLong("reconcile.repair"), help: "Let the periodic reconcile repair drift (as `skiff reconcile --repair`).")
    var reconcileRepair = false

    @Option(
        name: .customLong("min-time"), parsing: .unconditional,
        help: "Oldest data served: RFC3339 or a duration such as -2d (for the StoreAPI).")
    var minTime = "0000-01-01T00:00:00Z"

    @Option(name: .customLong("http-address"), help: "Listen address for probes and /metrics.")
    var httpAddress = "0.0.0.0:10902"

    @Option(name: .customLong("http-grace-period"), parsing: .unconditional, help: "Time to finish HTTP requests on shutdown.")
    var httpGracePeriod = "2m"

    @Option(name: .customLong("grpc-address"), help: "Listen address of the StoreAPI (gRPC): host:port, :port or [::1]:port.")
    var grpcAddress = "0.0.0.0:10901"

    @Option(name: .customLong("grpc-grace-period"), parsing: .unconditional, help: "Time to finish gRPC calls on shutdown.")
    var grpcGracePeriod = "2m"

    @Option(name: .customLong("grpc-server-tls-cert"), help: "TLS certificate (PEM) for the gRPC server; empty: plaintext.")
    var grpcTLSCert = ""

    @Option(name: .customLong("grpc-server-tls-key"), help: "TLS private key (PEM) for the gRPC server.")
    var grpcTLSKey = ""

    @Option(
        name: .customLong("grpc-server-tls-client-ca"),
        help: "CA (PEM) client certificates must chain to; empty: no client certificates.")
    var grpcTLSClientCA = ""

    func run() async throws {
        try await runReportingErrors {
            let logger = logOptions.makeLogger("skiff.sidecar")
            let configuration = try makeConfiguration()
            let clientConfig = try loadHTTPClientConfig()
            let bucketConfig = try objstore.loadIfSet()

            let registry = PrometheusCollectorRegistry()
            var metricsFactory = PrometheusMetricsFactory(registry: registry)
            metricsFactory.valueHistogramBuckets[RemoteReader.framesMetric] = RemoteReader.framesBuckets
            MetricsSystem.bootstrap(metricsFactory)
            let client = try PrometheusClient(url: prometheusURL, config: clientConfig)
            let bucket = try bucketConfig?.makeBucket()
            let sidecar = SidecarRunner(
                configuration: configuration, client: client, bucket: bucket, registry: registry, logger: logger)
            do {
                try await sidecar.run()
            } catch {
                await bucket?.shutdown()
                await client.shutdown()
                throw error
            }
            await bucket?.shutdown()
            await client.shutdown()
        }
    }

    /// Every flag checked and converted; the first problem is the error.
    private func makeConfiguration() throws(SkiffError) -> SidecarConfiguration {
        do { _ = try SidecarHTTPServer.parseAddress(httpAddress) } catch {
            throw SkiffError(.invalidArgument, "--http-address: \(error)")
        }
        let grpcListen: GRPCListenAddress
        do { grpcListen = try GRPCListenAddress(parsing: grpcAddress) } catch {
            throw SkiffError(.invalidArgument, "--grpc-address: \(error)")
        }
        let grpcTLS: GRPCServerTLS?
        do { grpcTLS = try GRPCServerTLS.fromFlags(certificate: grpcTLSCert, key: grpcTLSKey, clientCA: grpcTLSClientCA) } catch {
            throw SkiffError(.invalidArgument, "\(error)")
        }
        return SidecarConfiguration(
            tsdbPath: ledgerOptions.tsdbPath, ledgerPath: ledgerOptions.resolvedLedgerPath, httpAddress: httpAddress,
            httpGracePeriod: try FlagValues.duration(httpGracePeriod, flag: "--http-grace-period"), grpcAddress: grpcListen,
            grpcTLS: grpcTLS, grpcGracePeriod: try FlagValues.duration(grpcGracePeriod, flag: "--grpc-grace-period"),
            heartbeatInterval: try FlagValues.duration(
                getConfigInterval, flag: "--prometheus.get_config_interval", minimumMillis: 100),
            prometheusTimeout: try FlagValues.duration(
                getConfigTimeout, flag: "--prometheus.get_config_timeout", minimumMillis: 1),
            readyTimeout: try FlagValues.duration(readyTimeout, flag: "--prometheus.ready_timeout"),
            syncInterval: try FlagValues.duration(
                syncInterval, flag: "--shipper.sync-interval", minimumMillis: FlagValues.minimumSyncMillis),
            reconcileInterval: try FlagValues.duration(
                reconcileInterval, flag: "--reconcile.interval", minimumMillis: FlagValues.minimumSyncMillis,
                allowZero: true),
            reconcileRepair: reconcileRepair,
            uploadCompacted: uploadCompacted, ignoreUnequalBlockSize: ignoreUnequalBlockSize,
            minTimeMillis: try MinTime.millis(minTime))
    }

    private func loadHTTPClientConfig() throws(SkiffError) -> PrometheusHTTPClientConfig {
        switch (httpClientFile, httpClient) {
        case (.some, .some):
            throw SkiffError(.invalidArgument, "both --prometheus.http-client-file and --prometheus.http-client are set; use one")
        case (.some(let path), nil):
            let text: String
            do throws(Errno) { text = String(decoding: try Posix.readAll(path), as: UTF8.self) } catch {
                throw SkiffError(.invalidArgument, "read --prometheus.http-client-file \(path): \(error.reason)")
            }
            return try PrometheusHTTPClientConfig.parse(yaml: text)
        case (nil, .some(let yaml)): return try PrometheusHTTPClientConfig.parse(yaml: yaml)
        case (nil, nil): return PrometheusHTTPClientConfig()
        }
    }
}
