import Foundation
import GRPCCore
import GRPCInProcessTransport
import PrometheusAPIs
import PrometheusClient
import SkiffCore
import StoreAPI
import StoreProto
import SwiftProtobuf
import TestSupport
import Testing

/// The Querier-facing services on a gRPC server over grpc-swift's in-process transport, reading a
/// real Prometheus (`QuerierFixture`), so a failure points at the services themselves.
struct QuerierAPIs {
    let fixture: QuerierFixture
    let grpc: GRPCClient<InProcessTransport.Client>
    var rulesClient: Thanos_Rules.Client<InProcessTransport.Client> { .init(wrapping: grpc) }
    var targetsClient: Thanos_Targets.Client<InProcessTransport.Client> { .init(wrapping: grpc) }
    var metadataClient: Thanos_Metadata.Client<InProcessTransport.Client> { .init(wrapping: grpc) }
    var exemplarsClient: Thanos_Exemplars.Client<InProcessTransport.Client> { .init(wrapping: grpc) }
    var statusClient: Thanos_Status.Client<InProcessTransport.Client> { .init(wrapping: grpc) }
    var info: Thanos_Info_Info.Client<InProcessTransport.Client> { .init(wrapping: grpc) }

    static var external: LabelSet { LabelSet(QuerierFixture.external) }

    /// `labels` is what the state says (nil: not known yet); `prometheusURL` replaces the
    /// fixture's Prometheus as the services' upstream (for failures).
    static func with(
        scrape: Bool = true, labels: LabelSet? = external, prometheusURL: String? = nil,
        _ body: (QuerierAPIs) async throws -> Void
    ) async throws {
        let fixture = try await QuerierFixture.start(scrape: scrape)
        let client: PrometheusClient
        do { client = try PrometheusClient(url: prometheusURL ?? fixture.prometheus.url) } catch {
            await fixture.stop()
            throw error
        }
        do {
            let state = StoreState(externalLabels: { labels }, minTimeMillis: { 1000 })
            let upstream = PrometheusUpstream(client: client, state: state)
            let transport = InProcessTransport()
            try await withGRPCServer(
                transport: transport.server,
                services: [
                    RulesService(upstream: upstream), TargetsService(upstream: upstream), MetadataService(upstream: upstream),
                    ExemplarsService(upstream: upstream), StatusService(upstream: upstream), InfoService(state: state),
                ]
            ) { _ in
                try await withGRPCClient(transport: transport.client) { grpc in
                    try await body(QuerierAPIs(fixture: fixture, grpc: grpc))
                }
            }
        } catch {
            await client.shutdown()
            await fixture.stop()
            throw error
        }
        await client.shutdown()
        await fixture.stop()
    }

    // MARK: Calls, every message of the stream collected

    func rules(_ type: Thanos_RulesRequest.TypeEnum) async throws -> [Thanos_RulesResponse] {
        try await rulesClient.rules(.with { $0.type = type }) { try await Array($0.messages) }
    }

    func targets(_ state: Thanos_TargetsRequest.State) async throws -> [Thanos_TargetsResponse] {
        try await targetsClient.targets(.with { $0.state = state }) { try await Array($0.messages) }
    }

    func metadata(metric: String = "", limit: Int32) async throws -> [Thanos_MetricMetadataResponse] {
        try await metadataClient.metricMetadata(
            .with {
                $0.metric = metric
                $0.limit = limit
            }
        ) { try await Array($0.messages) }
    }

    func exemplars(_ query: String, start: Int64, end: Int64) async throws -> [Thanos_ExemplarsResponse] {
        try await exemplarsClient.exemplars(
            .with {
                $0.query = query
                $0.start = start
                $0.end = end
            }
        ) { try await Array($0.messages) }
    }

    func status(
        limit: Int32 = 0, tenant: String = "", matchers: [(String, Thanos_LabelMatcher.TypeEnum, String)] = []
    )
        async throws -> [Thanos_TSDBStatisticsResponse]
    {
        try await statusClient.tsdbStatistics(
            .with {
                $0.limit = limit
                $0.tenant = tenant
                $0.matchers = matchers.map { m in
                    .with {
                        $0.name = m.0
                        $0.type = m.1
                        $0.value = m.2
                    }
                }
            }
        ) { try await Array($0.messages) }
    }
}

extension Array {
    init<S: AsyncSequence>(_ sequence: S) async throws where S.Element == Element {
        self = []
        for try await element in sequence { append(element) }
    }
}

// MARK: - Expectations, computed from Prometheus' JSON independently of the code under test

enum Expect {
    /// A JSON label object as Thanos sends it: sorted by name, `external` added, external wins.
    static func labels(_ json: Any?, external: [String: String] = [:]) -> [String] {
        var map = json as? [String: String] ?? [:]
        for (name, value) in external { map[name] = value }
        return map.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }.map { "\($0.key)=\($0.value)" }
    }

    static func labels(_ set: Thanos_ZLabelSet) -> [String] { set.labels.map { "\($0.name)=\($0.value)" } }

    /// Go's RFC 3339 time as Unix seconds and nanoseconds; Go's zero time is -62135596800.
    static func time(_ json: Any?) -> Google_Protobuf_Timestamp? {
        guard let text = json as? String else { return nil }
        if text.hasPrefix("0001-01-01T00:00:00") { return .with { $0.seconds = -62_135_596_800 } }
        guard let dot = text.firstIndex(of: "."), text.hasSuffix("Z") else { return nil }
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: String(text[..<dot]) + "Z") else { return nil }
        let digits = text[text.index(after: dot)..<text.index(before: text.endIndex)]
        let nanos = Int32(digits.padding(toLength: 9, withPad: "0", startingAt: 0)) ?? -1
        return .with {
            $0.seconds = Int64(date.timeIntervalSince1970)
            $0.nanos = nanos
        }
    }

    static func seconds(_ t: Google_Protobuf_Timestamp) -> Double { Double(t.seconds) + Double(t.nanos) / 1e9 }
}
