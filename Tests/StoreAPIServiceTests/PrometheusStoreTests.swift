import Foundation
import GRPCCore
import GRPCInProcessTransport
import PromWire
import PrometheusClient
import SkiffCore
import StoreAPI
import StoreLogic
import StoreProto
import Synchronization
import TestSupport
import Testing

/// `PrometheusStore`, `RemoteReader` and `SeriesSink` in-process: the services on a gRPC server
/// over grpc-swift's in-process transport, reading a real Prometheus (no binary, no sockets
/// between client and server), so a failure points at the StoreAPI code itself.
@Suite(.serialized, .needs(.prometheus)) struct PrometheusStoreTests {
    static let external = ["cluster": "test", "region": "eu-west"]
    static let end = (Int64(Date().timeIntervalSince1970) / 60 - 1) * 60_000
    static let start = end - 3_600_000

    static let written: [RemoteWrite.Series] = [
        // Prometheus sends {up} before {up, a="1"}; with the external labels added {up} sorts last.
        RemoteWrite.Series(labels: ["__name__": "up"], samples: samples { Double($0 / 15_000 % 7) }),
        RemoteWrite.Series(labels: ["__name__": "up", "a": "1"], samples: samples { _ in 1 }),
        RemoteWrite.Series(labels: ["__name__": "up", "region": "local"], samples: samples { _ in 2 }),
    ]

    static func samples(_ value: (Int64) -> Double) -> [(timestampMillis: Int64, value: Double)] {
        stride(from: start, through: end, by: 15_000).map { ($0, value($0)) }
    }

    /// A real Prometheus with `written`, and Store and Info clients of services serving it in-process.
    static func withStore(
        labelsKnown: Bool = true, limits: SeriesLimits = SeriesLimits(),
        _ body: (Thanos_Store.Client<InProcessTransport.Client>, Thanos_Info_Info.Client<InProcessTransport.Client>) async throws
            -> Void
    ) async throws {
        let prometheus = try await PrometheusServer.start(externalLabels: external)
        let client = try PrometheusClient(url: prometheus.url)
        do {
            try await RemoteWrite.push(written, to: prometheus.url)
            let state = StoreState(
                externalLabels: { labelsKnown ? LabelSet(external) : nil }, minTimeMillis: { Int64.min })
            let transport = InProcessTransport()
            try await withGRPCServer(
                transport: transport.server,
                services: [
                    PrometheusStore(client: client, state: state, logger: quietLogger, limits: limits),
                    InfoService(state: state),
                ]
            ) { _ in
                try await withGRPCClient(transport: transport.client) { grpc in
                    try await body(Thanos_Store.Client(wrapping: grpc), Thanos_Info_Info.Client(wrapping: grpc))
                }
            }
        } catch {
            await client.shutdown()
            await prometheus.stop()
            throw error
        }
        await client.shutdown()
        await prometheus.stop()
    }

    static func request(_ matchers: [(String, Thanos_LabelMatcher.TypeEnum, String)]) -> Thanos_SeriesRequest {
        .with {
            $0.minTime = start
            $0.maxTime = end
            $0.matchers = matchers.map { m in
                .with {
                    $0.name = m.0
                    $0.type = m.1
                    $0.value = m.2
                }
            }
        }
    }

    @Test func seriesAreSortedCarryExternalLabelsAndDecode() async throws {
        try await Self.withStore { store, _ in
            let answer = try await store.series(Self.request([("__name__", .eq, "up")])) { response in
                var out: [(labels: [String], samples: Int)] = []
                for try await message in response.messages {
                    guard case .series(let series) = message.result else { continue }
                    let samples = try series.chunks.reduce(0) { $0 + (try XORChunk.decode([UInt8]($1.raw.data)).count) }
                    out.append((series.labels.map { "\($0.name)=\($0.value)" }, samples))
                }
                return out
            }
            #expect(
                answer.map(\.labels) == [
                    ["__name__=up", "a=1", "cluster=test", "region=eu-west"],
                    // The internal region="local" loses to the external value, as in Thanos.
                    ["__name__=up", "cluster=test", "region=eu-west"],
                    ["__name__=up", "cluster=test", "region=eu-west"],
                ])
            #expect(answer.allSatisfy { $0.samples >= 240 }, "\(answer.map(\.samples))")
        }
    }

    @Test func labelNamesIncludeTheExternalOnes() async throws {
        try await Self.withStore { store, _ in
            let names = try await store.labelNames(
                .with {
                    $0.start = Self.start
                    $0.end = Self.end
                }
            ).names
            #expect(Set(["__name__", "a", "cluster", "region"]).isSubset(of: Set(names)), "\(names)")
        }
    }

    @Test func requestsWithoutInternalMatchersAreInvalidArguments() async throws {
        try await Self.withStore { store, _ in
            let error = await #expect(throws: RPCError.self) {
                try await store.series(Self.request([("cluster", .eq, "test")])) { response in
                    for try await _ in response.messages {}
                }
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "no matchers specified (excluding external labels)")
        }
    }

    /// Thanos HEAD fails Info with a plain error, "Not ready" (gRPC Unknown), until then.
    @Test func infoFailsNotReadyUntilTheLabelsAreKnown() async throws {
        try await Self.withStore(labelsKnown: false) { _, info in
            let error = await #expect(throws: RPCError.self) { try await info.info(Thanos_Info_InfoRequest()) }
            #expect(error?.code == .unknown)
            #expect(error?.message == "Not ready")
        }
    }

    /// `--store.limits.request-series` / `-samples`: the series before the limit are sent, then the
    /// call fails with Thanos' message; at the limit exactly, the call succeeds.
    @Test func seriesAndSampleLimitsEndTheCallAsThanosDoes() async throws {
        func run(_ limits: SeriesLimits) async throws -> (series: Int, error: RPCError?) {
            let outcome = Mutex<(series: Int, error: RPCError?)>((0, nil))
            try await Self.withStore(limits: limits) { store, _ in
                do {
                    try await store.series(Self.request([("__name__", .eq, "up")])) { response in
                        for try await message in response.messages {
                            if case .series = message.result { outcome.withLock { $0.series += 1 } }
                        }
                    }
                } catch let error as RPCError { outcome.withLock { $0.error = error } }
            }
            return outcome.withLock { $0 }
        }
        let exact = try await run(SeriesLimits(series: 3))
        #expect(exact.series == 3 && exact.error == nil)
        let series = try await run(SeriesLimits(series: 2))
        #expect(series.series == 2)
        #expect(series.error?.message == "failed to send series: limit 2 violated (got 3)")
        // An hour of 15 s samples is two chunks of 120 at most per series here: 240 samples each.
        let samples = try await run(SeriesLimits(samples: 1))
        #expect(samples.series == 0)
        #expect(samples.error?.message.hasPrefix("failed to send samples: limit 1 violated (got ") == true)
    }

    /// The limits count whole responses when the client asks for batches (Thanos' limitedServer
    /// reserves a batch at once), and hold together with the request's own `limit`.
    @Test func seriesAndSampleLimitsCountWholeBatches() async throws {
        func run(
            _ limits: SeriesLimits, _ configure: @escaping @Sendable (inout Thanos_SeriesRequest) -> Void
        ) async throws
            -> (series: Int, responses: Int, error: RPCError?)
        {
            let outcome = Mutex<(series: Int, responses: Int, error: RPCError?)>((0, 0, nil))
            try await Self.withStore(limits: limits) { store, _ in
                var request = Self.request([("__name__", .eq, "up")])
                configure(&request)
                do {
                    try await store.series(request) { response in
                        for try await message in response.messages {
                            guard case .batch(let batch) = message.result else { continue }
                            outcome.withLock {
                                $0.series += batch.series.count
                                $0.responses += 1
                            }
                        }
                    }
                } catch let error as RPCError { outcome.withLock { $0.error = error } }
            }
            return outcome.withLock { $0 }
        }
        let crossing = try await run(SeriesLimits(series: 2)) { $0.responseBatchSize = 2 }
        #expect(crossing.series == 2 && crossing.responses == 1)
        #expect(crossing.error?.message == "failed to send series: limit 2 violated (got 3)")
        let first = try await run(SeriesLimits(series: 1)) { $0.responseBatchSize = 2 }
        #expect(first.series == 0)
        #expect(first.error?.message == "failed to send series: limit 1 violated (got 2)")
        let samples = try await run(SeriesLimits(samples: 480)) { $0.responseBatchSize = 64 }
        #expect(samples.series == 0)
        #expect(samples.error?.message.hasPrefix("failed to send samples: limit 480 violated (got ") == true)
        // The request's limit keeps the answer under the store's. The bare {up} and the one whose
        // internal region lost to the external value have one label set: the querier merges them
        // into one series, so they count once, as the limit's second series.
        let limited = try await run(SeriesLimits(series: 3)) {
            $0.responseBatchSize = 64
            $0.limit = 2
        }
        #expect(limited.series == 3 && limited.responses == 1 && limited.error == nil, "\(limited)")
        let one = try await run(SeriesLimits(series: 1)) {
            $0.responseBatchSize = 64
            $0.limit = 1
        }
        #expect(one.series == 1 && one.responses == 1 && one.error == nil, "\(one)")
    }
}
