import HTTPServer
import Prometheus
import TestSupport
import Testing

/// Readiness gates: the probe is ready only when it was set ready and every gate is open, and
/// `thanos_status{check="ready"}` follows the combined answer.
@Suite struct StatusProbeGateTests {
    func readyGauge(_ registry: PrometheusCollectorRegistry) -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix("thanos_status{") && $0.contains("check=\"ready\"") }.map(String.init) ?? ""
    }

    @Test func readyWaitsForEveryGate() {
        let registry = PrometheusCollectorRegistry()
        let probe = StatusProbe(registry: registry, readyGates: ["grpc"], logger: quietLogger)
        probe.setReady()
        #expect(!probe.isReady)
        #expect(readyGauge(registry).hasSuffix(" 0.0"))
        probe.openGate("grpc")
        #expect(probe.isReady)
        #expect(readyGauge(registry).hasSuffix(" 1.0"))
        probe.setNotReady(reason: "prometheus down")
        #expect(!probe.isReady)
        #expect(readyGauge(registry).hasSuffix(" 0.0"))
    }

    @Test func aGateOpenedFirstWaitsForSetReady() {
        let registry = PrometheusCollectorRegistry()
        let probe = StatusProbe(registry: registry, readyGates: ["grpc", "other"], logger: quietLogger)
        probe.openGate("grpc")
        probe.openGate("unknown")
        probe.setReady()
        #expect(!probe.isReady, "the other gate is still shut")
        probe.openGate("other")
        #expect(probe.isReady)
    }
}
