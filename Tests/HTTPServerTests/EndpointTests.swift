import HTTPServer
import Metrics
import Prometheus
import TestSupport
import Testing

@Suite("HTTP endpoints")
struct EndpointTests {
    @Test("/-/healthy and /-/ready follow the probe")
    func probeTransitions() async throws {
        try await RunningServer.with { server in
            // Listening makes the server healthy; nothing has made it ready yet.
            var healthy = try await RawHTTP.get("/-/healthy", port: server.port)
            #expect(healthy.status == 200)
            #expect(healthy.body == "OK")
            var ready = try await RawHTTP.get("/-/ready", port: server.port)
            #expect(ready.status == 503)
            #expect(ready.body == "NOT OK")

            server.probe.setReady()
            ready = try await RawHTTP.get("/-/ready", port: server.port)
            #expect(ready.status == 200)
            #expect(ready.body == "OK")
            #expect(ready.header("Content-Type") == "text/plain; charset=utf-8")

            server.probe.setNotReady(reason: "prometheus down")
            ready = try await RawHTTP.get("/-/ready", port: server.port)
            #expect(ready.status == 503)
            #expect(ready.body == "NOT OK")

            server.probe.setNotHealthy()
            healthy = try await RawHTTP.get("/-/healthy", port: server.port)
            #expect(healthy.status == 503)
            #expect(healthy.body == "NOT OK")
        }
    }

    @Test("HEAD answers like GET without a body")
    func head() async throws {
        try await RunningServer.with { server in
            server.probe.setReady()
            let ready = try await RawHTTP.get("/-/ready", port: server.port, method: "HEAD")
            #expect(ready.status == 200)
            #expect(ready.header("Content-Length") == "2")
            #expect(ready.body.isEmpty)
            let metrics = try await RawHTTP.get("/metrics", port: server.port, method: "HEAD")
            #expect(metrics.status == 200)
            #expect(metrics.body.isEmpty)
        }
    }

    @Test("an IPv6 address in Thanos' bracket form binds and serves", .enabled(if: hasIPv6Loopback))
    func ipv6() async throws {
        try await RunningServer.with(address: "[::1]:0") { server in
            let healthy = try await RawHTTP.get("/-/healthy", port: server.port, host: "::1")
            #expect(healthy.status == 200)
        }
    }

    @Test("unknown paths are 404, other methods 405")
    func notFound() async throws {
        try await RunningServer.with { server in
            let missing = try await RawHTTP.get("/api/v1/query", port: server.port)
            #expect(missing.status == 404)
            let post = try await RawHTTP.get("/-/ready", port: server.port, method: "DELETE")
            #expect(post.status == 405)
            #expect(post.header("Allow") == "GET, HEAD")
        }
    }

    @Test("/metrics exposes thanos_status and registry metrics, sorted and parseable by promtool", .needs(.promtool))
    func metrics() async throws {
        try await RunningServer.with { server in
            let uploads = server.registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "thanos", subsystem: "shipper", metricName: "uploads", unitName: "total",
                    helpText: "Uploaded blocks"))
            uploads.increment(by: Int64(3))
            // Through swift-metrics with an explicit factory: no global bootstrap in tests.
            let events = Metrics.Counter(
                label: "skiff_test_events_total", factory: PrometheusMetricsFactory(registry: server.registry))
            events.increment()

            var response = try await RawHTTP.get("/metrics", port: server.port)
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            #expect(response.body.contains(#"thanos_status{check="ready",component="sidecar"} 0.0"#))
            #expect(response.body.contains(#"thanos_status{check="healthy",component="sidecar"} 1.0"#))
            #expect(response.body.contains("# HELP thanos_shipper_uploads_total Uploaded blocks"))
            #expect(response.body.contains("thanos_shipper_uploads_total 3"))
            #expect(response.body.contains("skiff_test_events_total 1"))

            let families = response.body.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
                .map { $0.split(separator: " ")[2] }
            #expect(families == families.sorted())
            // The registry's three, plus what every scrape adds (ProcessMetricsTests checks those).
            #expect(families.filter { !$0.hasPrefix("process_") && $0 != "thanos_build_info" }.count == 3)

            server.probe.setReady()
            response = try await RawHTTP.get("/metrics", port: server.port)
            #expect(response.body.contains(#"thanos_status{check="ready",component="sidecar"} 1.0"#))

            let check = try await promtoolCheckMetrics(response.body)
            #expect(check.status == 0 || check.status == 3, "promtool: \(check.output)")
        }
    }
}
