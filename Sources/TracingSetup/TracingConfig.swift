import ConfigYAML
import Logging
import OTel
import ServiceLifecycle
import SkiffCore
import Tracing

/// Thanos' `--tracing.config` (pkg/tracing/client): `type: OTLP` with Thanos' `config` keys,
/// exported through swift-otel. Skiff's spans (Series calls, the calls to Prometheus, each block
/// upload) go through swift-distributed-tracing, which this bootstraps. Other tracer types
/// (JAEGER, STACKDRIVER, ELASTIC_APM, LIGHTSTEP) are refused at start, naming what works.
public struct TracingConfig: Sendable {
    public let otel: OTel.Configuration

    static let keys = [
        "client_type", "service_name", "resource_attributes", "reconnection_period", "compression", "insecure", "endpoint",
        "url_path", "timeout", "retry_config", "headers", "tls_config", "sampler_type", "sampler_param",
    ]

    /// nil for blank content: no tracing, as in Thanos.
    public static func parse(_ yaml: String, source: String) throws(SkiffError) -> TracingConfig? {
        guard !yaml.allSatisfy(\.isWhitespace) else { return nil }
        let top = try StrictMapping(StrictMapping.document(yaml, source: source), source: source, allowed: ["type", "config"])
        let type = try top.string("type") ?? ""
        guard type.uppercased() == "OTLP" else {
            throw top.fail(
                "tracing with type \(type.isEmpty ? "\"\"" : type) is not supported by Skiff: use type: OTLP "
                    + "(an OpenTelemetry collector, Jaeger and Tempo all take OTLP)")
        }
        let config = try top.mapping("config", allowed: keys)
        var otel = OTel.Configuration.default
        otel.logs.enabled = false
        otel.metrics.enabled = false
        otel.diagnosticLogger = .custom(Logger(label: "skiff.tracing"))
        otel.serviceName = try config.string("service_name") ?? ""
        if otel.serviceName.isEmpty { otel.serviceName = "thanos-sidecar" }
        otel.resourceAttributes = try config.stringMap("resource_attributes")

        var exporter = OTel.Configuration.OTLPExporterConfiguration.default
        let client = try config.string("client_type") ?? ""
        let insecure = try config.bool("insecure") ?? false
        let scheme = insecure ? "http://" : "https://"
        var endpoint = try config.string("endpoint") ?? ""
        switch client {
        case "grpc":
            exporter.protocol = .grpc
            if endpoint.isEmpty { endpoint = "localhost:4317" }
            exporter.endpoint = scheme + endpoint
        case "http":
            exporter.protocol = .httpProtobuf
            if endpoint.isEmpty { endpoint = "localhost:4318" }
            let path = try config.string("url_path") ?? ""
            exporter.endpoint = scheme + endpoint + (path.isEmpty ? "/v1/traces" : path)
        default:
            throw config.fail("otlp: invalid client type. Only 'http' and 'grpc' are accepted.")
        }
        switch try config.string("compression") ?? "" {
        case "gzip": exporter.compression = .gzip
        default: exporter.compression = .none  // Thanos ignores any other value too
        }
        // StrictMapping reads a duration (Go's integer nanoseconds or a string) in milliseconds.
        if let millis = try config.duration("timeout"), millis > 0 { exporter.timeout = .milliseconds(millis) }
        exporter.headers = try config.stringMap("headers").sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let tls = try config.mapping(
            "tls_config", allowed: ["ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"])
        for key in ["server_name", "insecure_skip_verify"] where tls.isSet(key) {
            throw tls.fail("\(tls.name(key)) is not supported by Skiff's OTLP exporter; remove it")
        }
        exporter.certificateFilePath = try tls.string("ca_file")
        exporter.clientCertificateFilePath = try tls.string("cert_file")
        exporter.clientKeyFilePath = try tls.string("key_file")
        let retry = try config.mapping(
            "retry_config", allowed: ["retry_enabled", "retry_initial_interval", "retry_max_interval", "retry_max_elapsed_time"])
        if try retry.bool("retry_enabled") == true {
            throw retry.fail("retry_config.retry_enabled is not supported by Skiff's OTLP exporter; remove it")
        }
        if let period = try config.duration("reconnection_period"), period != 0 {
            throw config.fail("config.reconnection_period is not supported by Skiff's OTLP exporter; remove it")
        }
        otel.traces.otlpExporter = exporter
        otel.traces.exporter = .otlp
        otel.traces.sampler = try sampler(config)
        return TracingConfig(otel: otel)
    }

    /// Thanos' sampler names; unset or unknown is parent-based with ratio 1, as there.
    static func sampler(_ config: StrictMapping) throws(SkiffError) -> OTel.Configuration.TracesConfiguration.SamplerConfiguration
    {
        let type = (try config.string("sampler_type") ?? "").lowercased()
        let param = try config.string("sampler_param") ?? ""
        func ratio() throws(SkiffError) -> Double {
            guard let value = Double(param), (0...1).contains(value) else {
                throw config.fail("config.sampler_param must be a ratio from 0 to 1 for sampler_type \(type)")
            }
            return value
        }
        switch type {
        case "alwayssample": return .alwaysOn
        case "neversample": return .alwaysOff
        case "traceidratiobased": return .traceIDRatio(ratio: try ratio()) ?? .traceIDRatio
        case "parentbasedalwayssample": return .parentBasedAlwaysOn
        case "parentbasedneversample": return .parentBasedAlwaysOff
        case "parentbasedtraceidratiobased": return .parentBasedTraceIDRatio(ratio: try ratio()) ?? .parentBasedTraceIDRatio
        default: return .parentBasedTraceIDRatio
        }
    }

    /// Bootstraps the process' tracer and returns the service that exports its spans; run it in
    /// the sidecar's service group so spans are flushed on shutdown.
    public func bootstrap() throws(SkiffError) -> any Service {
        do {
            let (tracer, service) = try OTel.makeTracingBackend(configuration: otel)
            InstrumentationSystem.bootstrap(tracer)
            return service
        } catch {
            throw SkiffError(.invalidArgument, "--tracing.config: cannot start the OTLP exporter: \(error)")
        }
    }
}
