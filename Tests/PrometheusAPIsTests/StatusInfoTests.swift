import Foundation
import GRPCCore
import SkiffCore
import StoreProto
import TestSupport
import Testing

/// `thanos.Status/TSDBStatistics` against `/api/v1/status/tsdb`, `thanos.info.Info`, and how
/// failures reach the client.
@Suite(.needs(.prometheus, .curl)) struct StatusInfoTests {
    static func stats(_ json: Any?, limit: Int) -> [String] {
        let list = (json as? [[String: Any]] ?? []).map { "\($0["name"] as? String ?? "")=\($0["value"] as? Int ?? -1)" }
        return limit > 0 ? Array(list.prefix(limit)) : list
    }

    static func stats(_ list: [Thanos_Statistic]) -> [String] { list.map { "\($0.name)=\($0.value)" } }

    /// Only remote-written series, so the TSDB does not change between the two reads.
    @Test(arguments: [Int32(0), 1, 3, -1])
    func theTenantlessEntryAsThanosRoundTripsIt(limit: Int32) async throws {
        try await QuerierAPIs.with(scrape: false) { apis in
            let answer = try await apis.status(limit: limit)
            let json = try await apis.fixture.data("/api/v1/status/tsdb") as? [String: Any] ?? [:]
            try #require(answer.count == 1)
            let statistics = try #require(answer.first?.statistics.statistics)
            #expect(Array(statistics.keys) == [""])
            let entry = try #require(statistics[""])
            let head = json["headStats"] as? [String: Any] ?? [:]
            #expect(entry.hasHeadStatistics)
            #expect(entry.headStatistics.numSeries == UInt64(head["numSeries"] as? Int ?? -1))
            #expect(entry.headStatistics.numSeries == 2)
            #expect(entry.headStatistics.numLabelPairs == Int64(head["numLabelPairs"] as? Int ?? -1))
            #expect(entry.headStatistics.minTime == Int64(head["minTime"] as? Int ?? -1))
            #expect(entry.headStatistics.maxTime == Int64(head["maxTime"] as? Int ?? -1))
            #expect(entry.headStatistics.minTime == apis.fixture.exemplarTimes[0])
            // Thanos' round trip through tsdb.Stats drops the chunk count.
            #expect((head["chunkCount"] as? Int ?? 0) > 0)
            #expect(entry.headStatistics.chunkCount == 0)
            let cut = Int(limit)
            #expect(Self.stats(entry.seriesCountByMetricName) == Self.stats(json["seriesCountByMetricName"], limit: cut))
            #expect(Self.stats(entry.labelValueCountByLabelName) == Self.stats(json["labelValueCountByLabelName"], limit: cut))
            #expect(Self.stats(entry.memoryInBytesByLabelName) == Self.stats(json["memoryInBytesByLabelName"], limit: cut))
            #expect(
                Self.stats(entry.seriesCountByLabelValuePair) == Self.stats(json["seriesCountByLabelValuePair"], limit: cut))
            if limit > 0 { #expect(entry.labelValueCountByLabelName.count == min(Int(limit), 3)) }
        }
    }

    /// Request matchers are checked against the external labels only (never forwarded): a
    /// mismatch is an empty map, a match (or a matcher on a name that is not external, matching
    /// "") the entry.
    @Test func matchersSelectOrEmptyByTheExternalLabels() async throws {
        try await QuerierAPIs.with(scrape: false) { apis in
            let cases: [([(String, Thanos_LabelMatcher.TypeEnum, String)], Bool)] = [
                ([("cluster", .eq, "test")], true),
                ([("cluster", .eq, "other")], false),
                ([("region", .re, "eu-.*"), ("cluster", .neq, "x")], true),
                ([("region", .nre, "eu-.*")], false),
                ([("__name__", .eq, "rw_exemplar")], false),  // not external: "" does not match
                ([("job", .eq, "")], true),
            ]
            for (matchers, selected) in cases {
                let answer = try await apis.status(matchers: matchers)
                #expect(answer.count == 1)
                #expect(answer.first?.statistics.statistics.keys.sorted() == (selected ? [""] : []), "\(matchers)")
            }
            // A tenant other than "" has no entry (Thanos' status server filters by tenant).
            #expect(try await apis.status(tenant: "team-a").first?.statistics.statistics.isEmpty == true)
            let error = await #expect(throws: RPCError.self) { try await apis.status(matchers: [("a", .re, "(")]) }
            #expect(error?.code == .unknown)
            #expect(error?.message.hasPrefix("failed to convert matchers") == true)
        }
    }

    @Test func notReadyUntilTheExternalLabelsAreKnown() async throws {
        try await QuerierAPIs.with(scrape: false, labels: nil) { apis in
            let status = await #expect(throws: RPCError.self) { try await apis.status() }
            #expect(status?.code == .unknown)
            #expect(status?.message == "not ready")
            let info = await #expect(throws: RPCError.self) { try await apis.info.info(Thanos_Info_InfoRequest()) }
            #expect(info?.code == .unknown)
            #expect(info?.message == "Not ready")
        }
    }

    @Test func infoAdvertisesEveryAPIAsThanosHEADDoes() async throws {
        try await QuerierAPIs.with(scrape: false) { apis in
            let info = try await apis.info.info(Thanos_Info_InfoRequest())
            #expect(info.componentType == "sidecar")
            #expect(info.labelSets.map(Expect.labels) == [["cluster=test", "region=eu-west"]])
            #expect(info.hasStore)
            #expect(info.store.minTime == 1000)
            #expect(info.store.maxTime == Int64.max)
            #expect(info.store.supportsSharding)
            #expect(info.store.supportsWithoutReplicaLabels)
            #expect(!info.store.supportsProjections)
            #expect(info.store.tsdbInfos.count == 1)
            #expect(info.store.tsdbInfos.first.map { Expect.labels($0.labels) } == ["cluster=test", "region=eu-west"])
            #expect(info.store.tsdbInfos.first?.minTime == 1000)
            #expect(info.store.tsdbInfos.first?.maxTime == Int64.max)
            #expect(info.hasRules && info.hasMetricMetadata && info.hasTargets && info.hasStatus)
            #expect(info.hasExemplars)
            #expect(info.exemplars.minTime == 0 && info.exemplars.maxTime == 0)
            #expect(!info.hasQuery)
        }
        try await QuerierAPIs.with(scrape: false, labels: LabelSet()) { apis in
            let info = try await apis.info.info(Thanos_Info_InfoRequest())
            #expect(info.labelSets.isEmpty)
            #expect(info.store.tsdbInfos.isEmpty)
            #expect(info.hasRules && info.hasStatus)
        }
    }

    /// No answer from Prometheus is Internal, as in Thanos (no HTTP status to map).
    @Test func anUnreachablePrometheusIsInternalForEveryAPI() async throws {
        let closed = try HTTPProbe.freePort()
        try await QuerierAPIs.with(scrape: false, prometheusURL: "http://127.0.0.1:\(closed)") { apis in
            let times = apis.fixture.exemplarTimes
            let calls: [(String, () async throws -> Void)] = [
                ("rules", { _ = try await apis.rules(.all) }), ("targets", { _ = try await apis.targets(.any) }),
                ("metadata", { _ = try await apis.metadata(limit: -1) }),
                ("exemplars", { _ = try await apis.exemplars("up", start: times[0], end: times[2]) }),
                ("status", { _ = try await apis.status() }),
            ]
            for (name, call) in calls {
                let error = await #expect(throws: RPCError.self, "\(name)") { try await call() }
                #expect(error?.code == .internalError, "\(name): \(String(describing: error))")
            }
            let status = await #expect(throws: RPCError.self) { try await apis.status() }
            #expect(status?.message.hasPrefix("failed to get tsdb status from prometheus: ") == true)
        }
    }
}
