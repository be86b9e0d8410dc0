import Foundation
import GRPCCore
import StoreProto
import TestSupport
import Testing

/// `thanos.Metadata/MetricMetadata` and `thanos.Exemplars/Exemplars` against Prometheus' API.
@Suite(.needs(.prometheus, .curl)) struct MetadataExemplarsTests {
    static func metas(_ json: Any?) -> [String: [[String]]] {
        (json as? [String: [[String: String]]] ?? [:]).mapValues { list in
            list.map { [$0["type"] ?? "", $0["help"] ?? "", $0["unit"] ?? ""] }
        }
    }

    static func metas(_ metadata: Thanos_MetricMetadata) -> [String: [[String]]] {
        metadata.metadata.mapValues { entry in entry.metas.map { [$0.type, $0.help, $0.unit] } }
    }

    @Test func theWholeMapInOneMessageWithoutExternalLabels() async throws {
        try await QuerierAPIs.with { apis in
            // A new metric may show up between two reads: retry until the JSON is the same on
            // both sides of the call.
            for attempt in 1...5 {
                let before = Self.metas(try await apis.fixture.data("/api/v1/metadata"))
                let answer = try await apis.metadata(limit: -1)
                let after = Self.metas(try await apis.fixture.data("/api/v1/metadata"))
                guard before == after else { continue }
                try #require(answer.count == 1)
                #expect(Self.metas(try #require(answer.first?.metadata)) == before, "attempt \(attempt)")
                #expect(before.count > 50)
                return
            }
            Issue.record("the metadata kept changing")
        }
    }

    @Test(arguments: [Int32(-1), 0, 1, 2])
    func metricAndLimitAreForwarded(limit: Int32) async throws {
        try await QuerierAPIs.with { apis in
            let one = try await apis.metadata(metric: "prometheus_build_info", limit: limit)
            let json = Self.metas(
                try await apis.fixture.data(
                    "/api/v1/metadata?metric=prometheus_build_info" + (limit >= 0 ? "&limit=\(limit)" : "")))
            #expect(Self.metas(try #require(one.first?.metadata)) == json)
            #expect(json.count == (limit == 0 ? 0 : 1))
            // Without a metric the limit caps the number of metric names (0: none at all).
            let capped = try #require(try await apis.metadata(limit: limit).first?.metadata)
            let all = Self.metas(try await apis.fixture.data("/api/v1/metadata"))
            if limit >= 0 {
                #expect(capped.metadata.count == Int(limit))
            } else {
                #expect(capped.metadata.count > 50)
            }
            for (name, metas) in Self.metas(capped) { #expect(all[name] == metas, "\(name)") }
        }
    }

    @Test func aMetricPrometheusDoesNotKnowIsAnEmptyMap() async throws {
        try await QuerierAPIs.with { apis in
            let answer = try await apis.metadata(metric: "no_such_metric", limit: -1)
            #expect(answer.count == 1)
            #expect(answer.first?.metadata.metadata.isEmpty == true)
        }
    }

    // MARK: Exemplars

    /// One message per series; the series labels carry the external labels (the internal
    /// cluster=internal loses), the exemplars' own labels do not.
    @Test func oneMessagePerSeriesWithTheExternalLabelsOnTheSeries() async throws {
        try await QuerierAPIs.with(scrape: false) { apis in
            let times = apis.fixture.exemplarTimes
            let start = times[0] - 1000
            let end = times[2] + 1000
            let answer = try await apis.exemplars("{__name__=\"rw_exemplar\"}", start: start, end: end)
            let query = "/api/v1/query_exemplars?query=%7B__name__%3D%22rw_exemplar%22%7D&start=\(start / 1000)&end=\(end / 1000)"
            let json = try await apis.fixture.data(query) as? [[String: Any]] ?? []
            try #require(answer.count == 2)
            #expect(json.count == 2)
            let external = QuerierFixture.external
            for (message, series) in zip(answer.map(\.data), json) {
                #expect(message.hasSeriesLabels)
                #expect(Expect.labels(message.seriesLabels) == Expect.labels(series["seriesLabels"], external: external))
                let exemplars = series["exemplars"] as? [[String: Any]] ?? []
                #expect(message.exemplars.count == exemplars.count)
                for (e, j) in zip(message.exemplars, exemplars) {
                    #expect(Expect.labels(e.labels) == Expect.labels(j["labels"]))
                    #expect(e.value == Double(j["value"] as? String ?? ""))
                    #expect(e.ts == Int64(((j["timestamp"] as? Double ?? 0) * 1000).rounded()))
                }
            }
            let a = try #require(answer.map(\.data).first { Expect.labels($0.seriesLabels).contains("series=a") })
            #expect(Expect.labels(a.seriesLabels) == ["__name__=rw_exemplar", "cluster=test", "region=eu-west", "series=a"])
            #expect(a.exemplars.map(\.ts) == [times[0], times[1]])
            #expect(a.exemplars.map(\.value) == [0.25, 1.5])
            #expect(a.exemplars.map { Expect.labels($0.labels) } == [["trace_id=a1"], ["span=x", "trace_id=a2"]])
        }
    }

    /// The range is sent as decimal seconds (a millisecond range that cuts between exemplars).
    @Test func theTimeRangeIsHonouredToTheMillisecond() async throws {
        try await QuerierAPIs.with(scrape: false) { apis in
            let times = apis.fixture.exemplarTimes
            let query = "{__name__=\"rw_exemplar\"}"
            // times[1] ends in .500 s: a range ending 1 ms before it leaves it out.
            let before = try await apis.exemplars(query, start: times[0], end: times[1] - 1)
            #expect(before.map { $0.data.exemplars.map(\.ts) } == [[times[0]]])
            let exact = try await apis.exemplars(query, start: times[1], end: times[1])
            #expect(exact.map { $0.data.exemplars.map(\.ts) } == [[times[1]]])
            let none = try await apis.exemplars(query, start: times[2] + 1, end: times[2] + 5000)
            #expect(none.isEmpty)
            let b = try await apis.exemplars("{series=\"b\"}", start: times[0], end: times[2])
            #expect(b.count == 1)
            #expect(b.first?.data.exemplars.map(\.value) == [7])
        }
    }

    @Test(arguments: ["{__name__=~\".+\"} +", "rw_exemplar{", ""])
    func aBadQueryIsInvalidArgument(query: String) async throws {
        try await QuerierAPIs.with(scrape: false) { apis in
            let times = apis.fixture.exemplarTimes
            let error = await #expect(throws: RPCError.self) {
                try await apis.exemplars(query, start: times[0], end: times[2])
            }
            #expect(error?.code == .invalidArgument, "\(String(describing: error))")
        }
    }
}
