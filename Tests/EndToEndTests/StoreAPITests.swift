import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import PromWire
import SkiffCore
import StoreProto
import TestSupport
import Testing

/// `skiff sidecar`'s StoreAPI against Debian's real Prometheus 2.42: known samples are
/// remote-written, then read back through Skiff's gRPC server with a generated client, the XOR
/// chunks decoded, and the samples, labels, order and external-label rules checked.
@Suite(.serialized, .needs(.prometheus, .curl, .openssl)) struct StoreAPITests {
    static let external = ["cluster": "test", "region": "eu-west", "replica": "0"]
    /// Samples every 15 s over 3 h, ending a minute ago: blocks and head both answer.
    static let end = (Int64(Date().timeIntervalSince1970) / 60 - 1) * 60_000
    static let start = end - 3 * 3_600_000
    static let step: Int64 = 15_000

    /// What is written: the #12605 pair ({__name__="up"} sorts before {__name__="up", a="1"} in
    /// Prometheus, after it once the external labels are added), jobs for negative and regex
    /// matchers, and a series whose internal `region` clashes with the external one.
    static var written: [RemoteWrite.Series] {
        func series(_ labels: [String: String], _ value: @escaping (Int64) -> Double) -> RemoteWrite.Series {
            RemoteWrite.Series(labels: labels, samples: stride(from: start, through: end, by: Int(step)).map { ($0, value($0)) })
        }
        return [
            series(["__name__": "up"]) { Double($0 / step % 7) },
            series(["__name__": "up", "a": "1"]) { Double($0 / step % 5) + 0.5 },
            series(["__name__": "up", "job": "api", "instance": "x"]) { _ in 1 },
            series(["__name__": "up", "job": "db", "instance": "y"]) { Double($0 % 1_000_000) / 7 },
            series(["__name__": "clash", "region": "local"]) { _ in 3 },
            // 1 s resolution: ~90 chunks, far more than one 2 KiB frame holds.
            RemoteWrite.Series(
                labels: ["__name__": "long"],
                samples: stride(from: start, through: end, by: 1000).map { ($0, Double($0 % 86_400_000) / 1000) }),
            // An internal label equal to an external one, and a series it reorders.
            series(["__name__": "eq", "region": "eu-west", "z": "1"]) { _ in 1 },
            series(["__name__": "eq", "x": "1"]) { _ in 2 },
            // An internal replica label `rr`: without it, the first two collapse into one label set
            // and sort after the third (Prometheus sends them first: "rr" < "s").
            series(["__name__": "rep", "rr": "1", "x": "1"]) { _ in 4 },
            series(["__name__": "rep", "rr": "2", "x": "1"]) { _ in 5 },
            series(["__name__": "rep", "s": "1"]) { _ in 6 },
        ]
    }

    struct World {
        let prometheus: PrometheusServer
        let sidecar: SkiffProcess.Running
        let grpcPort: Int
        let httpPort: Int
        let root: TempDir
        /// Between the sidecar and Prometheus, when started `proxied`.
        let proxy: FaultProxy?

        static func start(
            samples: Bool = false, proxied: Bool = false, extraPrometheusFlags: [String] = [], sidecarFlags: [String] = []
        ) async throws -> World {
            let root = try TempDir()
            let prometheus = try await PrometheusServer.start(
                externalLabels: StoreAPITests.external,
                extraFlags: ["--storage.remote.read-max-bytes-in-frame=2048"] + extraPrometheusFlags)
            try await RemoteWrite.push(StoreAPITests.written, to: prometheus.url)
            let proxy = proxied ? try await FaultProxy.start(upstreamPort: prometheus.port) : nil
            let port = try HTTPProbe.freePort()
            let httpPort = try HTTPProbe.freePort()
            let sidecar = try SkiffProcess.start(
                [
                    "sidecar", "--tsdb.path", prometheus.dataDir,
                    "--prometheus.url", proxy.map { "http://127.0.0.1:\($0.port)" } ?? prometheus.url,
                    "--http-address", "127.0.0.1:\(httpPort)", "--grpc-address", "127.0.0.1:\(port)",
                    "--prometheus.get_config_interval", "300ms", "--grpc-grace-period", "1s", "--http-grace-period", "1s",
                    "--log.level", "debug",
                ] + sidecarFlags,
                environment: samples ? ["SKIFF_REMOTE_READ_RESPONSE": "samples"] : [:])
            return World(prometheus: prometheus, sidecar: sidecar, grpcPort: port, httpPort: httpPort, root: root, proxy: proxy)
        }

        func stop() async {
            sidecar.terminate()
            _ = try? await sidecar.wait(timeout: .seconds(20))
            try? await proxy?.stop()
            await prometheus.stop()
            root.remove()
        }
    }

    static func withWorld(samples: Bool = false, proxied: Bool = false, _ body: (World) async throws -> Void) async throws {
        let world = try await World.start(samples: samples, proxied: proxied)
        do {
            try await body(world)
        } catch {
            print(world.sidecar.stderrSoFar)
            await world.stop()
            throw error
        }
        await world.stop()
    }

    /// A Store client on the port, retried while the server is not listening yet.
    static func withStore<T: Sendable>(
        port: Int, security: HTTP2ClientTransport.Posix.TransportSecurity = .plaintext,
        _ body: (Thanos_Store.Client<HTTP2ClientTransport.Posix>, Thanos_Info_Info.Client<HTTP2ClientTransport.Posix>)
            async throws -> T
    ) async throws -> T {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: security)
        return try await withGRPCClient(transport: transport) { client in
            try await body(Thanos_Store.Client(wrapping: client), Thanos_Info_Info.Client(wrapping: client))
        }
    }

    /// Waits until Info answers (the server listens once Prometheus' labels are known).
    static func waitForInfo(port: Int) async throws -> Thanos_Info_InfoResponse {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                return try await withStore(port: port) { _, info in try await info.info(Thanos_Info_InfoRequest()) }
            } catch  where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    struct DecodedSeries: Equatable, CustomStringConvertible {
        let labels: [String]
        let samples: [XORChunk.Sample]
        var description: String { "\(labels) (\(samples.count) samples)" }
    }

    static func matcher(_ name: String, _ type: Thanos_LabelMatcher.TypeEnum, _ value: String) -> Thanos_LabelMatcher {
        .with {
            $0.name = name
            $0.type = type
            $0.value = value
        }
    }

    /// Calls Series and decodes every chunk; samples outside [start, end] are dropped, as the querier does.
    /// `configure` sets further request fields (batches, limit, replica labels, shards); series
    /// in `batch` responses are decoded like single ones.
    static func series(
        port: Int, _ matchers: [Thanos_LabelMatcher], start: Int64 = start, end: Int64 = end, skipChunks: Bool = false,
        _ configure: (inout Thanos_SeriesRequest) -> Void = { _ in }
    ) async throws -> [DecodedSeries] {
        try await withStore(port: port) { store, _ in
            var request = Thanos_SeriesRequest.with {
                $0.minTime = start
                $0.maxTime = end
                $0.matchers = matchers
                $0.skipChunks = skipChunks
            }
            configure(&request)
            return try await store.series(request) { response in
                var out: [DecodedSeries] = []
                for try await message in response.messages {
                    let group: [Thanos_Series]
                    switch message.result {
                    case .series(let s): group = [s]
                    case .batch(let b): group = b.series
                    default: continue
                    }
                    for s in group {
                        var samples: [XORChunk.Sample] = []
                        for chunk in s.chunks {
                            #expect(chunk.raw.type == .xor)
                            samples += try XORChunk.decode([UInt8](chunk.raw.data)).filter {
                                $0.timestamp >= start && $0.timestamp <= end
                            }
                        }
                        out.append(DecodedSeries(labels: s.labels.map { "\($0.name)=\($0.value)" }, samples: samples))
                    }
                }
                return out
            }
        }
    }

    static func expected(_ labels: [String: String]) -> DecodedSeries {
        let merged = labels.merging(external) { _, ext in ext }
        let series = written.first {
            $0.labels.map(\.name) == labels.keys.sorted() && $0.labels.allSatisfy { labels[$0.name] == $0.value }
        }!
        return DecodedSeries(
            labels: merged.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "\($0)=\(merged[$0]!)" },
            samples: series.samples.map { XORChunk.Sample(timestamp: $0.timestampMillis, value: $0.value) })
    }

    @Test(arguments: [false, true]) func seriesAreExactSortedAndCarryExternalLabels(samples: Bool) async throws {
        try await Self.withWorld(samples: samples) { world in
            _ = try await Self.waitForInfo(port: world.grpcPort)
            let up = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "up")])
            // Sorted by the full label set after adding the external labels: {a="1"} before the bare series.
            // Prometheus sends {up} first; with the external labels it sorts last (its next label is
            // "region", after "instance"), and {a="1"} first.
            #expect(
                up == [
                    Self.expected(["__name__": "up", "a": "1"]),
                    Self.expected(["__name__": "up", "job": "api", "instance": "x"]),
                    Self.expected(["__name__": "up", "job": "db", "instance": "y"]), Self.expected(["__name__": "up"]),
                ], "\(up)")
            // Regex on an external label is evaluated here (Prometheus alone would return nothing).
            let regex = try await Self.series(
                port: world.grpcPort, [Self.matcher("cluster", .re, "te.*"), Self.matcher("job", .re, "a.i|db")])
            #expect(
                regex.map(\.labels) == [
                    Self.expected(["__name__": "up", "job": "api", "instance": "x"]).labels,
                    Self.expected(["__name__": "up", "job": "db", "instance": "y"]).labels,
                ])
            let negative = try await Self.series(
                port: world.grpcPort, [Self.matcher("__name__", .eq, "up"), Self.matcher("job", .neq, "api")])
            #expect(negative.count == 3 && !negative.contains { $0.labels.contains("job=api") })
            // A non-matching external matcher: empty, no error.
            #expect(
                try await Self.series(
                    port: world.grpcPort, [Self.matcher("__name__", .eq, "up"), Self.matcher("region", .eq, "us")]
                ).isEmpty)
            // An internal label clashing with an external one: the external value wins.
            let clash = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "clash")])
            #expect(clash.map(\.labels) == [["__name__=clash", "cluster=test", "region=eu-west", "replica=0"]])
            #expect(clash.first?.samples.count == Self.written[4].samples.count)
            // A series split over many 2 KiB frames comes back whole.
            let long = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "long")])
            #expect(long == [Self.expected(["__name__": "long"])], "\(long)")
            if !samples {
                let served = world.sidecar.stderrSoFar.split(separator: "\n").last { $0.contains("series served") } ?? ""
                #expect(served.contains("series=1") && !served.contains("frames=1 "), "\(served)")
                // Thanos' frames-per-answer histogram, Thanos' buckets: five streamed reads so far (the
                // external matcher that matched nothing never reached Prometheus), the long series in
                // several frames.
                let metrics = await HTTPProbe.get(port: world.httpPort, path: "/metrics")?.body ?? ""
                let frames = metrics.split(separator: "\n").filter { $0.hasPrefix("prometheus_store_received_frames") }
                func value(_ series: String) -> Double? {
                    frames.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
                }
                #expect(value("prometheus_store_received_frames_count") == 5, "\(frames)")
                #expect((value("prometheus_store_received_frames_sum") ?? 0) > 5, "\(frames)")
                #expect(
                    frames.filter { $0.contains("_bucket{") }.map { $0.split(separator: "\"")[1] }
                        == ["10.0", "100.0", "1000.0", "10000.0", "100000.0", "+Inf"], "\(frames)")
            }
            // A window inside the range: only those samples (chunks may reach outside it).
            let window = try await Self.series(
                port: world.grpcPort, [Self.matcher("__name__", .eq, "up"), Self.matcher("a", .eq, "1")],
                start: Self.start + 3_600_000, end: Self.start + 3_600_000 + 10 * Self.step)
            #expect(window.first?.samples.count == 11)
        }
    }

    @Test func onlyExternalMatchersAreInvalidAndLabelAPIsWork() async throws {
        try await Self.withWorld { world in
            let info = try await Self.waitForInfo(port: world.grpcPort)
            #expect(info.componentType == "sidecar")
            #expect(
                info.labelSets.first?.labels.map { "\($0.name)=\($0.value)" } == ["cluster=test", "region=eu-west", "replica=0"])
            #expect(info.store.maxTime == Int64.max)
            #expect(info.store.minTime <= Self.start)
            try await Self.withStore(port: world.grpcPort) { store, _ in
                let legacy = try await store.info(Thanos_InfoRequest())
                #expect(legacy.storeType == .sidecar && legacy.labels.count == 3)
                await #expect {
                    _ = try await store.series(
                        .with {
                            $0.matchers = [Self.matcher("cluster", .eq, "test")]
                            $0.maxTime = Self.end
                        }
                    ) { r in
                        for try await _ in r.messages {}
                    }
                } throws: { error in
                    (error as? RPCError)?.code == .invalidArgument
                        && (error as? RPCError)?.message.contains("no matchers specified (excluding external labels)") == true
                }
                let names = try await store.labelNames(
                    .with {
                        $0.start = Self.start
                        $0.end = Self.end
                    })
                #expect(
                    names.names == ["__name__", "a", "cluster", "instance", "job", "region", "replica", "rr", "s", "x", "z"],
                    "\(names.names)")
                let jobs = try await store.labelValues(
                    .with {
                        $0.label = "job"
                        $0.start = Self.start
                        $0.end = Self.end
                    })
                #expect(jobs.values == ["api", "db"])
                let filtered = try await store.labelValues(
                    .with {
                        $0.label = "job"
                        $0.start = Self.start
                        $0.end = Self.end
                        $0.matchers = [Self.matcher("instance", .eq, "y")]
                    })
                #expect(filtered.values == ["db"])
                let region = try await store.labelValues(
                    .with {
                        $0.label = "region"
                        $0.start = Self.start
                        $0.end = Self.end
                    })
                #expect(region.values == ["eu-west"])
                let none = try await store.labelNames(
                    .with {
                        $0.start = Self.start
                        $0.end = Self.end
                        $0.matchers = [Self.matcher("cluster", .eq, "elsewhere")]
                    })
                #expect(none.names.isEmpty)
                await #expect {
                    _ = try await store.labelValues(.with { $0.label = "" })
                } throws: { ($0 as? RPCError)?.code == .invalidArgument }
                // Prometheus' 400 (a bad label name) becomes InvalidArgument carrying its body, as in Thanos.
                await #expect {
                    _ = try await store.labelValues(
                        .with {
                            $0.label = "bad-name"
                            $0.start = Self.start
                            $0.end = Self.end
                        })
                } throws: { error in
                    let rpc = error as? RPCError
                    return rpc?.code == .invalidArgument && rpc?.message.contains("expected 2xx response, got 400") == true
                }
                // skip_chunks: label sets from /api/v1/series, sorted, external labels applied.
                let labelsOnly = try await Self.series(
                    port: world.grpcPort, [Self.matcher("__name__", .eq, "up")], skipChunks: true)
                #expect(
                    labelsOnly.map(\.labels) == [
                        Self.expected(["__name__": "up", "a": "1"]).labels,
                        Self.expected(["__name__": "up", "job": "api", "instance": "x"]).labels,
                        Self.expected(["__name__": "up", "job": "db", "instance": "y"]).labels,
                        Self.expected(["__name__": "up"]).labels,
                    ])
                #expect(labelsOnly.allSatisfy { $0.samples.isEmpty })
            }
            // go-grpc-prometheus' metrics, as Thanos' dashboards read them.
            let metrics = await HTTPProbe.get(port: world.httpPort, path: "/metrics")?.body ?? ""
            #expect(
                metrics.contains(
                    #"grpc_server_handled_total{grpc_service="thanos.Store",grpc_method="Series",grpc_type="server_stream",grpc_code="OK"} 1"#
                ), "\(metrics)")
            #expect(
                metrics.contains(
                    #"grpc_server_handled_total{grpc_service="thanos.Store",grpc_method="Series",grpc_type="server_stream",grpc_code="InvalidArgument"} 1"#
                ), "\(metrics)")
            #expect(
                metrics.contains(
                    #"grpc_server_started_total{grpc_service="thanos.Store",grpc_method="LabelValues",grpc_type="unary"}"#),
                "\(metrics)")
            #expect(metrics.contains("grpc_server_handling_seconds"), "\(metrics)")
        }
    }

    /// The gRPC server listens only once Prometheus' labels are known; the HTTP server meanwhile answers.
    /// An internal label equal in name and value to an external one is invisible in what
    /// Prometheus sends (it merges its external labels in), yet it orders the stream:
    /// {region="eu-west", z="1"} comes before {x="1"} (region < x), while with the external labels
    /// added {…, x="1"} sorts first. Skiff learns of such names from the label-names API and sorts
    /// that answer whole instead of failing it mid-stream.
    @Test func internalLabelsEqualToExternalOnesStillComeSorted() async throws {
        try await Self.withWorld { world in
            _ = try await Self.waitForInfo(port: world.grpcPort)
            let eq = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "eq")])
            #expect(
                eq.map(\.labels) == [
                    ["__name__=eq", "cluster=test", "region=eu-west", "replica=0", "x=1"],
                    ["__name__=eq", "cluster=test", "region=eu-west", "replica=0", "z=1"],
                ])
            #expect(eq.allSatisfy { $0.samples.count == Self.written[7].samples.count })
            #expect(world.sidecar.stderrSoFar.contains("internal labels named like external labels"))
            // Series without such labels still stream (nothing said about sorting whole).
            _ = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "up")])
            #expect(world.sidecar.stderrSoFar.components(separatedBy: "internal labels named like external labels").count == 2)
        }
    }

    /// When the label-names check itself fails (here Prometheus' /api/v1/labels answers 503 through
    /// a proxy), Skiff cannot know whether the stream may reorder, so it sorts the answer whole:
    /// still complete and in order, and the failure is logged.
    @Test func failedLabelNamesCheckSortsTheAnswerWhole() async throws {
        try await Self.withWorld(proxied: true) { world in
            let proxy = try #require(world.proxy)
            _ = try await Self.waitForInfo(port: world.grpcPort)
            proxy.inject(.status(503, code: "Unavailable"), when: .pathContains("/api/v1/labels"))
            let eq = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "eq")])
            #expect(
                eq.map(\.labels) == [
                    ["__name__=eq", "cluster=test", "region=eu-west", "replica=0", "x=1"],
                    ["__name__=eq", "cluster=test", "region=eu-west", "replica=0", "z=1"],
                ])
            #expect(proxy.stats.faultsApplied == 1)
            #expect(world.sidecar.stderrSoFar.contains("label names check failed"), "\(world.sidecar.stderrSoFar)")
        }
    }

    /// A querier that gives up stops the remote read behind its call. Prometheus is made to hang
    /// mid-answer (a proxy stops relaying its body after 4 KiB), so only cancellation can end the
    /// read: the client cancels, and skiff must drop its connection to Prometheus at once (not when
    /// some timeout fires), count the call as Canceled, and go on serving.
    @Test func cancellingSeriesStopsTheRemoteRead() async throws {
        try await Self.withWorld(proxied: true) { world in
            let proxy = try #require(world.proxy)
            _ = try await Self.waitForInfo(port: world.grpcPort)
            proxy.inject(.stallResponse(afterBytes: 4096), when: .pathContains("/api/v1/read"))
            let reads = { proxy.stats.requestsSeen(method: "POST", pathPrefix: "/api/v1/read") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "long")]) }
                let deadline = ContinuousClock.now + .seconds(30)
                while reads().isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                try #require(reads().count == 1, "the remote read never reached the proxy")
                try await Task.sleep(for: .milliseconds(500))
                #expect(reads()[0].connectionClosedByClient == false, "the read should still be waiting for Prometheus")
                group.cancelAll()
                await #expect(throws: (any Error).self) { try await group.next() }
            }
            let cancelled = ContinuousClock.now
            while !reads()[0].connectionClosedByClient, ContinuousClock.now - cancelled < .seconds(10) {
                try await Task.sleep(for: .milliseconds(20))
            }
            let waited = ContinuousClock.now - cancelled
            #expect(reads()[0].connectionClosedByClient, "skiff still holds the connection of the abandoned remote read")
            #expect(waited < .seconds(3), "skiff took \(waited) to drop the abandoned remote read")
            // Nothing stuck: the next call (no fault now) is answered in full.
            let long = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "long")])
            #expect(long == [Self.expected(["__name__": "long"])])
            let metrics = await HTTPProbe.get(port: world.httpPort, path: "/metrics")?.body ?? ""
            #expect(
                metrics.contains(
                    #"grpc_server_handled_total{grpc_service="thanos.Store",grpc_method="Series",grpc_type="server_stream",grpc_code="Canceled"} 1"#
                ), "\(metrics)")
        }
    }

    @Test func notListeningUntilPrometheusIsUp() async throws {
        let prometheus = try await PrometheusServer.start(externalLabels: Self.external)
        await prometheus.halt()
        let grpcPort = try HTTPProbe.freePort()
        let httpPort = try HTTPProbe.freePort()
        let sidecar = try SkiffProcess.start([
            "sidecar", "--tsdb.path", prometheus.dataDir, "--prometheus.url", prometheus.url,
            "--http-address", "127.0.0.1:\(httpPort)", "--grpc-address", "127.0.0.1:\(grpcPort)",
            "--prometheus.get_config_interval", "300ms", "--grpc-grace-period", "1s", "--http-grace-period", "1s",
        ])
        do {
            let healthy = try await HTTPProbe.waitFor(port: httpPort, path: "/-/healthy", within: .seconds(30)) {
                $0?.status == 200
            }
            #expect(healthy != nil)
            await #expect(throws: (any Error).self) {
                _ = try await Self.withStore(port: grpcPort) { _, info in try await info.info(Thanos_Info_InfoRequest()) }
            }
            try await prometheus.restart()
            let info = try await Self.waitForInfo(port: grpcPort)
            #expect(info.labelSets.count == 1, "\(sidecar.stderrSoFar)")
        } catch {
            sidecar.kill9()
            await prometheus.stop()
            throw error
        }
        sidecar.terminate()
        let result = try await sidecar.wait(timeout: .seconds(20))
        #expect(result.status == 0, "\(result)")
        await prometheus.stop()
    }

    /// Mutual TLS as Thanos' --grpc-server-tls-*: a client without a certificate is refused.
    @Test func tlsWithClientCARefusesClientsWithoutACertificate() async throws {
        let pki = try await TestPKI.shared()
        let world = try await World.start(sidecarFlags: [
            "--grpc-server-tls-cert", pki.serverCertificate, "--grpc-server-tls-key", pki.serverKey,
            "--grpc-server-tls-client-ca", pki.caCertificate,
        ])
        do {
            func security(withCertificate: Bool) -> HTTP2ClientTransport.Posix.TransportSecurity {
                .tls(
                    .defaults {
                        $0.trustRoots = .certificates([.file(path: pki.caCertificate, format: .pem)])
                        if withCertificate {
                            $0.certificateChain = [.file(path: pki.clientCertificate, format: .pem)]
                            $0.privateKey = .file(path: pki.clientKey, format: .pem)
                        }
                    })
            }
            let deadline = ContinuousClock.now + .seconds(60)
            var info: Thanos_Info_InfoResponse?
            while info == nil && ContinuousClock.now < deadline {
                info = try? await Self.withStore(port: world.grpcPort, security: security(withCertificate: true)) { _, client in
                    try await client.info(Thanos_Info_InfoRequest())
                }
                if info == nil { try await Task.sleep(for: .milliseconds(300)) }
            }
            #expect(info?.componentType == "sidecar", "\(world.sidecar.stderrSoFar)")
            await #expect(throws: (any Error).self) {
                _ = try await Self.withStore(port: world.grpcPort, security: security(withCertificate: false)) { _, client in
                    try await client.info(Thanos_Info_InfoRequest())
                }
            }
        } catch {
            await world.stop()
            throw error
        }
        await world.stop()
    }

    /// `--request.logging-config`: the allowlisted gRPC method is logged with its code and time,
    /// other methods are not; HTTP requests follow the `http` block.
    @Test func requestLoggingFollowsTheConfig() async throws {
        let config = """
            grpc:
              config:
                - service: thanos.info.Info
                  method: Info
              options: {level: DEBUG, decision: {log_start: true, log_end: true}}
            http:
              options: {level: DEBUG, decision: {log_end: true}}
            """
        let world = try await World.start(sidecarFlags: ["--request.logging-config", config])
        do {
            _ = try await Self.waitForInfo(port: world.grpcPort)
            _ = try await Self.withStore(port: world.grpcPort) { store, _ in
                try await store.labelNames(.with { $0.end = Int64.max })
            }
            _ = await HTTPProbe.get(port: world.httpPort, path: "/-/healthy")
            let deadline = ContinuousClock.now + .seconds(10)
            while !world.sidecar.stderrSoFar.contains("http.status_code=200") && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            let lines = world.sidecar.stderrSoFar.split(separator: "\n")
            let finished = lines.filter { $0.contains("msg=\"finished call\"") && $0.contains("protocol=grpc") }
            #expect(finished.contains { $0.contains("grpc.method=Info") && $0.contains("grpc.code=OK") }, "\(lines)")
            #expect(!finished.contains { $0.contains("grpc.method=LabelNames") }, "\(finished)")
            #expect(lines.contains { $0.contains("msg=\"started call\"") && $0.contains("grpc.method=Info") })
            #expect(lines.contains { $0.contains("protocol=http") && $0.contains("thanos.method_name=/-/healthy") })
        } catch {
            await world.stop()
            throw error
        }
        await world.stop()
    }

    /// `--tracing.config` with OTLP over HTTP: a Series call's server span and its remote read to
    /// Prometheus reach a receiver (Tests/Companions/otlp_receiver.py), with the service name.
    @Test(.needs(.python3)) func seriesSpansReachAnOTLPReceiver() async throws {
        let root = try TempDir()
        defer { root.remove() }
        let receiver = try OTLPReceiver(directory: root)
        defer { receiver.stop() }
        let config = receiver.tracingConfig(serviceName: "skiff-e2e")
        let world = try await World.start(sidecarFlags: ["--tracing.config", config])
        do {
            _ = try await Self.waitForInfo(port: world.grpcPort)
            let series = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "up")])
            #expect(!series.isEmpty)
        } catch {
            await world.stop()
            throw error
        }
        // Stopping flushes the exporter's batch.
        await world.stop()
        let text = receiver.received
        #expect(text.contains("thanos.Store/Series"), "\(text.utf8.count) bytes received")
        #expect(text.contains("prometheus POST"), "\(text.utf8.count) bytes received")
        #expect(text.contains("skiff-e2e"), "\(text.utf8.count) bytes received")
    }
}
