import SkiffCore
import Testing
import TracingSetup

/// Thanos' tracing YAML (pkg/tracing/client, otlp) read into swift-otel's configuration.
@Suite struct TracingConfigTests {
    func refusal(_ yaml: String) -> String? {
        do {
            _ = try TracingConfig.parse(yaml, source: "--tracing.config")
            return nil
        } catch { return error.message }
    }

    @Test func otlpOverHTTPAndGRPC() throws {
        let http = try #require(
            try TracingConfig.parse(
                "type: otlp\nconfig:\n  client_type: http\n  insecure: true\n  endpoint: collector:4318\n  service_name: s\n",
                source: "x"))
        #expect(http.otel.serviceName == "s")
        #expect(http.otel.traces.otlpExporter.endpoint == "http://collector:4318/v1/traces")
        let grpc = try #require(
            try TracingConfig.parse("type: OTLP\nconfig:\n  client_type: grpc\n  endpoint: collector:4317\n", source: "x"))
        #expect(grpc.otel.traces.otlpExporter.endpoint == "https://collector:4317")
        #expect(grpc.otel.serviceName == "thanos-sidecar")
        #expect(grpc.otel.logs.enabled == false && grpc.otel.metrics.enabled == false)
        #expect(try TracingConfig.parse("  \n", source: "x") == nil)
        let timed = try #require(
            try TracingConfig.parse("type: OTLP\nconfig:\n  client_type: http\n  timeout: 2s\n", source: "x"))
        #expect(timed.otel.traces.otlpExporter.timeout == .seconds(2))
        let nanos = try #require(
            try TracingConfig.parse("type: OTLP\nconfig:\n  client_type: http\n  timeout: 1500000000\n", source: "x"))
        #expect(nanos.otel.traces.otlpExporter.timeout == .milliseconds(1500))
    }

    @Test func refusals() {
        #expect(
            refusal("type: JAEGER\nconfig: {}\n")?.contains("tracing with type JAEGER is not supported by Skiff: use type: OTLP")
                == true)
        #expect(refusal("type: OTLP\nconfig: {}\n")?.contains("invalid client type") == true)
        #expect(
            refusal("type: OTLP\nconfig:\n  client_type: http\n  sampler_type: traceidratiobased\n  sampler_param: two\n")?
                .contains("sampler_param") == true)
        #expect(
            refusal("type: OTLP\nconfig:\n  client_type: http\n  retry_config: {retry_enabled: true}\n")?.contains(
                "retry_enabled is not supported") == true)
        #expect(refusal("type: OTLP\nconfig:\n  client_typ: http\n")?.contains("unknown key") == true)
    }
}
