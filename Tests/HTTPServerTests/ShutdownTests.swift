import HTTPServer
import NIOCore
import Prometheus
import ServiceLifecycle
import SkiffCore
import TestSupport
import Testing

/// Serialized: three of these tests fill a registry with 10 MB and render it, seconds of CPU on the
/// 2-thread cooperative pool each; run side by side they delay each other's shutdown by more than
/// the 2 s the grace-period bound allows.
@Suite("Graceful shutdown", .serialized)
struct ShutdownTests {
    /// What a shutdown run observed.
    private struct Observed {
        var port: Int
        /// From graceful shutdown being triggered to `run()` returning.
        var elapsed: Duration
        /// `/-/ready` asked right after the trigger: its status, or nil when the connection was refused.
        var readyDuringShutdown: Int?
        /// With `drainAfterTrigger`: what the slow scraper finally received.
        var scraped: RawResponse?
    }

    /// Starts a server in a ServiceGroup, optionally parks a slow scrape on it, triggers graceful
    /// shutdown, probes `/-/ready` once, and times how long `run()` takes to return.
    private static func observeShutdown(
        grace: Duration, holdRequestOpen: Bool, drainAfterTrigger: Bool = false, drainSlowly: Bool = false,
        probe: StatusProbe,
        registry: PrometheusCollectorRegistry
    ) async throws -> Observed {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let server = SidecarHTTPServer(
            address: "127.0.0.1:0", probe: probe, registry: registry, gracePeriod: grace, logger: quietLogger,
            onListening: { portContinuation.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [server], logger: quietLogger))

        return try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { tasks in
            tasks.addTask {
                defer { portContinuation.finish() }
                try await group.run()
                return .now
            }
            tasks.addTask {  // watchdog: no test outlives this
                try await Task.sleep(for: grace + .seconds(60))  // a hang guard only; timing is asserted on `elapsed`
                throw TestTimeout(what: "server shutdown")
            }
            let port = try #require(await ports.first(where: { _ in true }))
            probe.setReady()
            #expect(try await RawHTTP.get("/-/ready", port: port).status == 200)

            var parked: ParkedClient?
            if holdRequestOpen {
                // A 10 MB /metrics answer cannot fit in the socket buffers of a client that never reads
                // (the kernel took about 2.8 MB here), so the request stays in flight until the server
                // gives up on it.
                for i in 0..<1_000 {
                    registry.makeGauge(
                        descriptor: MetricNameDescriptor(
                            metricName: "skiff_test_padding", unitName: "", helpText: "Bulk for a slow scrape."),
                        labels: [("i", "\(i)"), ("pad", String(repeating: "x", count: 10_000))]
                    ).set(to: 1)
                }
                let client = try ParkedClient(
                    port: port, request: "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                parked = client
                // Shut down only once the response is being written: before that, the connection
                // may still sit in the accept backlog, which closing the listener simply resets.
                for attempt in 0... {
                    if client.hasReceivedData { break }
                    if attempt == 500 { throw TestTimeout(what: "first bytes of the slow scrape") }
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            defer { parked?.close() }

            let start = ContinuousClock.now
            await group.triggerGracefulShutdown()
            let ready = try? await RawHTTP.get("/-/ready", port: port).status
            var scraped: RawResponse?
            if drainAfterTrigger, let parked { scraped = try RawHTTP.parse(try await parked.drain(slowly: drainSlowly)) }
            guard let end = try await tasks.next() else { throw TestTimeout(what: "server never returned") }
            tasks.cancelAll()
            return Observed(port: port, elapsed: end - start, readyDuringShutdown: ready, scraped: scraped)
        }
    }

    @Test("idle server: run() returns within the grace period, then not ready, not healthy, refusing")
    func idleShutdown() async throws {
        let registry = PrometheusCollectorRegistry()
        let probe = StatusProbe(registry: registry, logger: quietLogger)
        let grace = Duration.seconds(15)
        let observed = try await Self.observeShutdown(
            grace: grace, holdRequestOpen: false, probe: probe, registry: registry)
        #expect(observed.elapsed < grace, "took \(observed.elapsed)")  // typically a few milliseconds
        #expect(observed.readyDuringShutdown != 200)
        #expect(probe.isReady == false)
        #expect(probe.isHealthy == false)
        await #expect(throws: (any Error).self) { _ = try await RawHTTP.get("/-/ready", port: observed.port) }
    }

    @Test("an in-flight request is waited for at most the grace period", arguments: [0.0, 1.0])
    func gracePeriodBoundsInFlight(graceSeconds: Double) async throws {
        let grace = Duration.seconds(graceSeconds)
        let registry = PrometheusCollectorRegistry()
        let probe = StatusProbe(registry: registry, logger: quietLogger)
        let observed = try await Self.observeShutdown(
            grace: grace, holdRequestOpen: true, probe: probe, registry: registry)
        #expect(observed.elapsed >= grace * 0.9, "returned after \(observed.elapsed), before the grace period")
        #expect(observed.elapsed < grace + .seconds(2), "returned after \(observed.elapsed)")
        // The listener closes at once; a connection that still got through would be told NOT OK.
        #expect(observed.readyDuringShutdown == nil || observed.readyDuringShutdown == 503)
        #expect(probe.isReady == false)
        #expect(probe.isHealthy == false)
    }

    /// Slowly: a scraper slower than the server, whose last writes are still queued when the
    /// response ends. Hummingbird closes right after writing the end during shutdown, and a close
    /// drops queued writes: the body came up to 60 KB short now and then (see ConnectionTracker).
    @Test(
        "a slow scrape in flight at shutdown still gets its whole answer within the grace period",
        arguments: [false, true])
    func inFlightScrapeCompletes(slowly: Bool) async throws {
        let registry = PrometheusCollectorRegistry()
        let probe = StatusProbe(registry: registry, logger: quietLogger)
        let grace = Duration.seconds(30)
        let observed = try await Self.observeShutdown(
            grace: grace, holdRequestOpen: true, drainAfterTrigger: true, drainSlowly: slowly, probe: probe,
            registry: registry)
        #expect(observed.elapsed < grace, "took \(observed.elapsed)")
        let scraped = try #require(observed.scraped)
        #expect(scraped.status == 200)
        #expect(scraped.body.utf8.count == Int(scraped.header("Content-Length") ?? ""))
        #expect(scraped.body.hasSuffix("\n"))
    }

    @Test("a bad address makes run() throw")
    func badAddress() async {
        let registry = PrometheusCollectorRegistry()
        let server = SidecarHTTPServer(
            address: "localhost", probe: StatusProbe(registry: registry, logger: quietLogger), registry: registry,
            gracePeriod: .zero, logger: quietLogger)
        await #expect(throws: ListenAddressError.self) { try await server.run() }
    }
}
