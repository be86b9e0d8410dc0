import Foundation
import GRPCCore
import GRPCInProcessTransport
import HTTPServer
import PrometheusClient
import QueryAPI
import SkiffCore
import StoreProto
import TestSupport
import Testing

/// The query API against Debian's real Prometheus 2.42 with external labels: each answer is
/// compared with what Prometheus' own /api/v1/query(_range) says for the query a Querier would
/// in effect evaluate, plus the external-label rules.
@Suite(.serialized, .needs(.prometheus)) struct QueryAPILiveTests {
    static let external = ["cluster": "eu", "replica": "a"]
    static let end = (Int64(Date().timeIntervalSince1970) / 60 - 1) * 60_000
    static let start = end - 3_600_000
    static let time = ParameterText.seconds(end)

    static let written: [RemoteWrite.Series] = [
        RemoteWrite.Series(labels: ["__name__": "q_up", "job": "a", "instance": "1"], samples: samples { _ in 1 }),
        RemoteWrite.Series(labels: ["__name__": "q_up", "job": "b", "instance": "2"], samples: samples { _ in 3 }),
        RemoteWrite.Series(
            labels: ["__name__": "q_requests_total", "job": "a"], samples: samples { Double(($0 - start) / 1000) }),
        // Internal labels named like the external ones.
        RemoteWrite.Series(
            labels: ["__name__": "q_clash", "cluster": "local", "replica": "x", "job": "c"], samples: samples { _ in 7 }),
    ]

    static func samples(_ value: (Int64) -> Double) -> [(timestampMillis: Int64, value: Double)] {
        stride(from: start, through: end, by: 15_000).map { ($0, value($0)) }
    }

    struct World {
        let prometheus: PrometheusServer
        let client: PrometheusClient
        let handler: QueryHTTPHandler
        let query: Thanos_Query.Client<InProcessTransport.Client>

        /// Our answer to a GET with these parameters: status and parsed body.
        func get(_ pairs: [(String, String)], path: String = "/api/v1/query") async throws -> (Int, JSONValue, String) {
            let answer = await handler.respond(
                HTTPRoute.Request(method: "GET", path: path, query: ParameterText.form(pairs)))
            return (answer.status, try JSONValue.parse(answer.body), String(decoding: answer.body, as: UTF8.self))
        }

        /// Prometheus' own answer.
        func direct(_ pairs: [(String, String)], path: String = "/api/v1/query") async throws -> JSONValue {
            try JSONValue.parse(try await client.postQuery(path, form: pairs.map { ($0.0, $0.1) }, timeout: .seconds(30)).body)
        }
    }

    static func withWorld(_ body: (World) async throws -> Void) async throws {
        try await withPrometheus(externalLabels: external) { prometheus, client in
            try await RemoteWrite.push(written, to: prometheus.url)
            let service = QueryService(
                client: client, externalLabels: { LabelSet(external) },
                configuration: QueryAPIConfiguration(storeAddress: "sidecar:10901"))
            let transport = InProcessTransport()
            try await withGRPCServer(transport: transport.server, services: [QueryGRPCService(service: service)]) { _ in
                try await withGRPCClient(transport: transport.client) { grpc in
                    try await body(
                        World(
                            prometheus: prometheus, client: client, handler: QueryHTTPHandler(service: service),
                            query: Thanos_Query.Client(wrapping: grpc)))
                }
            }
        }
    }

    /// A vector or matrix result as labels → values (sample values, in order).
    static func series(_ envelope: JSONValue) -> [[String: String]: [String]] {
        var out: [[String: String]: [String]] = [:]
        for item in envelope["data"]?["result"]?.arrayValue ?? [] {
            var labels: [String: String] = [:]
            for member in item["metric"]?.members ?? [] { labels[member.key] = member.value.stringValue }
            let points = item["value"].map { [$0] } ?? item["values"]?.arrayValue ?? []
            out[labels] = points.compactMap { $0.arrayValue?.last?.stringValue }
        }
        return out
    }

    /// Prometheus' series with labels added (external value wins) and some removed.
    static func labelled(
        _ series: [[String: String]: [String]], add: [String: String], remove: [String] = []
    )
        -> [[String: String]: [String]]
    {
        Dictionary(
            uniqueKeysWithValues: series.map { labels, values in
                var out = labels.merging(add) { _, new in new }
                for name in remove { out[name] = nil }
                return (out, values)
            })
    }

    @Test func selectorsCarryExternalLabelsAndDedupRemovesReplicas() async throws {
        try await Self.withWorld { world in
            let plain = Self.series(try await world.direct([("query", "q_up"), ("time", Self.time)]))
            #expect(plain.count == 2)
            let (status, deduped, text) = try await world.get([
                ("query", "q_up"), ("time", Self.time), ("replicaLabels[]", "replica"),
            ])
            #expect(status == 200 && deduped["status"]?.stringValue == "success", "\(text)")
            #expect(deduped["data"]?["resultType"]?.stringValue == "vector")
            #expect(Self.series(deduped) == Self.labelled(plain, add: ["cluster": "eu"]))
            let (_, all, _) = try await world.get([
                ("query", "q_up"), ("time", Self.time), ("replicaLabels[]", "replica"), ("dedup", "false"),
            ])
            #expect(Self.series(all) == Self.labelled(plain, add: Self.external))
            // The Querier's default replica labels are none: dedup alone strips nothing.
            let (_, none, _) = try await world.get([("query", "q_up"), ("time", Self.time)])
            #expect(Self.series(none) == Self.labelled(plain, add: Self.external))
            #expect(text.contains("\"analysis\":{}") && !text.contains("warnings"))
        }
    }

    @Test func externalValuesWinAndDedupStripsInternalReplicaLabels() async throws {
        try await Self.withWorld { world in
            let (_, deduped, _) = try await world.get([
                ("query", "q_clash"), ("time", Self.time), ("replicaLabels[]", "replica"),
            ])
            #expect(Self.series(deduped) == [["__name__": "q_clash", "job": "c", "cluster": "eu"]: ["7"]])
            let (_, all, _) = try await world.get([("query", "q_clash"), ("time", Self.time), ("dedup", "false")])
            #expect(Self.series(all) == [["__name__": "q_clash", "job": "c", "cluster": "eu", "replica": "a"]: ["7"]])
            // A matcher on the internal value of an external name sees the external value, as the sidecar does.
            let (_, local, _) = try await world.get([("query", "q_clash{cluster=\"local\"}"), ("time", Self.time)])
            #expect(local["data"]?["result"]?.arrayValue?.isEmpty == true)
            let (_, range, _) = try await world.get([
                ("query", "q_clash[1m]"), ("time", Self.time), ("replicaLabels[]", "replica"),
            ])
            #expect(Self.series(range).keys.map { $0 } == [["__name__": "q_clash", "job": "c", "cluster": "eu"]])
        }
    }

    @Test func aggregationsSeeTheExternalLabels() async throws {
        try await Self.withWorld { world in
            let (_, byCluster, _) = try await world.get([("query", "sum by (cluster) (q_up)"), ("time", Self.time)])
            #expect(Self.series(byCluster) == [["cluster": "eu"]: ["4"]])
            let (_, sum, _) = try await world.get([("query", "sum(q_up)"), ("time", Self.time)])
            #expect(Self.series(sum) == [[:]: ["4"]])
            let (_, without, _) = try await world.get([
                ("query", "sum without (job, instance) (q_up)"), ("time", Self.time), ("replicaLabels[]", "replica"),
            ])
            #expect(Self.series(without) == [["cluster": "eu"]: ["4"]])
            let (_, count, _) = try await world.get([
                ("query", "count by (replica) (q_up)"), ("time", Self.time), ("dedup", "false"),
            ])
            #expect(Self.series(count) == [["replica": "a"]: ["2"]])
        }
    }

    @Test func rateOverARangeAndBinaryOperations() async throws {
        try await Self.withWorld { world in
            let rate = Self.series(try await world.direct([("query", "rate(q_requests_total[5m])"), ("time", Self.time)]))
            #expect(rate.count == 1)
            let (_, ours, _) = try await world.get([("query", "rate(q_requests_total[5m])"), ("time", Self.time)])
            #expect(Self.series(ours) == Self.labelled(rate, add: Self.external))
            let ratio = Self.series(
                try await world.direct([("query", "q_up / on() group_left sum(q_up)"), ("time", Self.time)]))
            let (_, ourRatio, text) = try await world.get([
                ("query", "q_up / on(cluster) group_left sum by (cluster) (q_up)"), ("time", Self.time),
            ])
            #expect(ratio.count == 2 && Self.series(ourRatio) == Self.labelled(ratio, add: Self.external), "\(text)")
            let (_, scalar, _) = try await world.get([("query", "2 * 3 ^ 2"), ("time", Self.time)])
            #expect(scalar["data"]?["resultType"]?.stringValue == "scalar")
            #expect(scalar["data"]?["result"]?.arrayValue?.last?.stringValue == "18")
        }
    }

    @Test func matchersOnExternalLabelsSelectOrEmpty() async throws {
        try await Self.withWorld { world in
            let plain = Self.series(try await world.direct([("query", "q_up"), ("time", Self.time)]))
            let (_, selected, _) = try await world.get([("query", "q_up{cluster=\"eu\"}"), ("time", Self.time)])
            #expect(Self.series(selected) == Self.labelled(plain, add: Self.external))
            let (_, regex, _) = try await world.get([("query", "count(q_up{cluster=~\"e.*\", job=\"a\"})"), ("time", Self.time)])
            #expect(Self.series(regex) == [[:]: ["1"]])
            let (status, empty, text) = try await world.get([("query", "q_up{cluster=\"us\"}"), ("time", Self.time)])
            #expect(status == 200 && empty["data"]?["result"]?.arrayValue?.isEmpty == true, "\(text)")
            let (_, absent, _) = try await world.get([("query", "absent(q_up{cluster=\"us\", job=\"a\"})"), ("time", Self.time)])
            #expect(Self.series(absent) == [["cluster": "us", "job": "a"]: ["1"]])
            let (_, range, _) = try await world.get([("query", "q_up{job=\"a\"}[1m]"), ("time", Self.time)])
            #expect(range["data"]?["resultType"]?.stringValue == "matrix")
            #expect(
                Self.series(range).keys.map { $0 } == [
                    ["__name__": "q_up", "job": "a", "instance": "1", "cluster": "eu", "replica": "a"]
                ])
        }
    }

    @Test func storeMatchReadsOnlyTheAddress() async throws {
        try await Self.withWorld { world in
            let (_, elsewhere, _) = try await world.get([
                ("query", "sum(q_up)"), ("time", Self.time), ("storeMatch[]", "{__address__=\"elsewhere:10901\"}"),
            ])
            #expect(elsewhere["data"]?["result"]?.arrayValue?.isEmpty == true)
            let (_, here, _) = try await world.get([
                ("query", "sum(q_up)"), ("time", Self.time), ("storeMatch[]", "{__address__=~\"sidecar:.*\"}"),
            ])
            #expect(Self.series(here) == [[:]: ["4"]])
            // As in Thanos at HEAD, matchers on other labels do not choose stores.
            let (_, other, _) = try await world.get([
                ("query", "sum(q_up)"), ("time", Self.time), ("storeMatch[]", "{cluster=\"other\"}"),
            ])
            #expect(Self.series(other) == [[:]: ["4"]])
        }
    }

    @Test func rangeQueries() async throws {
        try await Self.withWorld { world in
            let window = [
                ("start", ParameterText.seconds(Self.end - 600_000)), ("end", Self.time), ("step", "60"),
            ]
            let plain = Self.series(try await world.direct([("query", "sum(q_up)")] + window, path: "/api/v1/query_range"))
            let (status, ours, text) = try await world.get(
                [("query", "sum by (cluster) (q_up)")] + window, path: "/api/v1/query_range")
            #expect(status == 200 && ours["data"]?["resultType"]?.stringValue == "matrix", "\(text)")
            #expect(Self.series(ours) == Self.labelled(plain, add: ["cluster": "eu"]))
            #expect(Self.series(ours).first?.value.count == 11)
            let (_, stats, statsText) = try await world.get(
                [("query", "q_up"), ("stats", "all")] + window, path: "/api/v1/query_range")
            #expect(stats["data"]?["stats"]?["samples"]?["totalQueryableSamples"] != nil, "\(statsText)")
        }
    }

    @Test func badInputAnswersPrometheusEnvelope() async throws {
        try await Self.withWorld { world in
            let prometheusError = try await world.direct([("query", "sum(q_up"), ("time", Self.time)])
            let message = try #require(prometheusError["error"]?.stringValue)
            let (status, _, text) = try await world.get([("query", "sum(q_up"), ("time", Self.time)])
            let unwrapped = message.replacingOccurrences(of: "invalid parameter \"query\": ", with: "")
            #expect(status == 400)
            #expect(text == "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\(GoQuote.quote(unwrapped))}")
            // A type error is reported about the query as written, not the rewritten one.
            let (typeStatus, typeError, _) = try await world.get([("query", "rate(q_up)"), ("time", Self.time)])
            #expect(typeStatus == 400 && typeError["error"]?.stringValue?.contains("label_replace") == false)
            let cases: [(String, [(String, String)], String)] = [
                (
                    "/api/v1/query_range", [("query", "q_up"), ("start", "20"), ("end", "10"), ("step", "1")],
                    "end timestamp must not be before start time"
                ),
                (
                    "/api/v1/query_range", [("query", "q_up"), ("start", "10"), ("end", "20"), ("step", "x")],
                    "'step' parameter: cannot parse \\\"x\\\" to a valid duration"
                ),
                (
                    "/api/v1/query_range", [("query", "q_up"), ("start", "10"), ("end", "20"), ("step", "0")],
                    "zero or negative query resolution step widths are not accepted. Try a positive integer"
                ),
                (
                    "/api/v1/query", [("query", "q_up"), ("max_source_resolution", "-3600")],
                    "negative 'max_source_resolution' is not accepted. Try a positive integer"
                ),
                (
                    "/api/v1/query", [("query", "q_up"), ("time", "noon")],
                    "Invalid time value for 'time': cannot parse \\\"noon\\\" to a valid timestamp"
                ),
            ]
            for (path, pairs, expected) in cases {
                let (status, _, text) = try await world.get(pairs, path: path)
                #expect(status == 400)
                #expect(text == "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"\(expected)\"}")
            }
            // many-to-many matching fails while evaluating: execution, 422.
            let (execStatus, exec, _) = try await world.get([("query", "q_up * on() q_up"), ("time", Self.time)])
            #expect(execStatus == 422 && exec["errorType"]?.stringValue == "execution")
            let post = await world.handler.respond(
                HTTPRoute.Request(
                    method: "POST", path: "/api/v1/query", query: "", contentType: "application/x-www-form-urlencoded",
                    body: Array(ParameterText.form([("query", "sum(q_up)"), ("time", Self.time)]).utf8)))
            let posted = try JSONValue.parse(post.body)
            #expect(post.status == 200 && Self.series(posted) == [[:]: ["4"]])
            let put = await world.handler.respond(HTTPRoute.Request(method: "PUT", path: "/api/v1/query", query: ""))
            #expect(put.status == 405)
        }
    }

    // MARK: gRPC

    enum Frame: Equatable {
        case warnings(String)
        case series([String])
        case batch([[String]])
        case stats
    }

    static func frames(_ result: Thanos_QueryResponse.OneOf_Result?) -> Frame? {
        func labels(_ s: Prometheus_TimeSeries) -> [String] {
            s.labels.map { "\($0.name)=\($0.value)" } + s.samples.map { "\($0.value)@\($0.timestamp)" }
        }
        switch result {
        case .warnings(let w)?: return .warnings(w)
        case .timeseries(let s)?: return .series(labels(s))
        case .timeseriesBatch(let b)?: return .batch(b.series.map(labels))
        case .stats?: return .stats
        case nil: return nil
        }
    }

    @Test func grpcQueryFrames() async throws {
        try await Self.withWorld { world in
            let request = Thanos_QueryRequest.with {
                $0.query = "sum by (cluster, job) (q_up)"
                $0.timeSeconds = Self.end / 1000
                $0.enableDedup = true
                $0.replicaLabels = ["replica"]
            }
            let single = try await world.query.query(request) { response in
                var out: [Frame] = []
                for try await message in response.messages { if let f = Self.frames(message.result) { out.append(f) } }
                return out
            }
            let at = Self.end
            #expect(
                Set(single.dropLast().map { "\($0)" })
                    == Set(
                        [
                            Frame.series(["cluster=eu", "job=a", "1.0@\(at)"]),
                            Frame.series(["cluster=eu", "job=b", "3.0@\(at)"]),
                        ].map { "\($0)" }))
            #expect(single.count == 3 && single.last == .stats)
            var batched = request
            batched.responseBatchSize = 64
            batched.lookbackDeltaSeconds = 60
            let frames = try await world.query.query(batched) { response in
                var out: [Frame] = []
                for try await message in response.messages { if let f = Self.frames(message.result) { out.append(f) } }
                return out
            }
            #expect(frames.count == 3, "\(frames)")
            #expect(frames.first.map { if case .warnings(let w) = $0 { w.contains("lookback_delta") } else { false } } == true)
            if case .batch(let series) = frames[1] { #expect(series.count == 2) } else { Issue.record("\(frames)") }
            #expect(frames.last == .stats)
        }
    }

    @Test func grpcQueryErrors() async throws {
        try await Self.withWorld { world in
            func run(_ request: Thanos_QueryRequest) async throws -> [Frame] {
                try await world.query.query(request) { response in
                    var out: [Frame] = []
                    for try await message in response.messages { if let f = Self.frames(message.result) { out.append(f) } }
                    return out
                }
            }
            let bad = await #expect(throws: RPCError.self) { try await run(.with { $0.query = "sum(" }) }
            #expect(bad?.code == .unknown)
            let failing = Thanos_QueryRequest.with {
                $0.query = "q_up * on() q_up"
                $0.timeSeconds = Self.end / 1000
            }
            let aborted = await #expect(throws: RPCError.self) { try await run(failing) }
            #expect(aborted?.code == .aborted)
            var partial = failing
            partial.enablePartialResponse = true
            let frames = try await run(partial)
            #expect(frames.count == 1 && frames.first.map { if case .warnings = $0 { true } else { false } } == true)
        }
    }

    @Test func grpcQueryRangeBatches() async throws {
        try await Self.withWorld { world in
            let request = Thanos_QueryRangeRequest.with {
                $0.query = "q_up"
                $0.startTimeSeconds = (Self.end - 600_000) / 1000
                $0.endTimeSeconds = Self.end / 1000
                $0.intervalSeconds = 60
                $0.responseBatchSize = 1
            }
            let frames = try await world.query.queryRange(request) { response in
                var out: [Thanos_QueryRangeResponse.OneOf_Result] = []
                for try await message in response.messages { if let r = message.result { out.append(r) } }
                return out
            }
            #expect(frames.count == 3, "\(frames)")
            for frame in frames.dropLast() {
                guard case .timeseries(let series) = frame else {
                    Issue.record("\(frame)")
                    continue
                }
                #expect(series.samples.count == 11)
                #expect(series.labels.contains { $0.name == "cluster" && $0.value == "eu" })
            }
            if case .stats = frames.last {} else { Issue.record("no final stats frame: \(frames)") }
        }
    }
}

/// A real Prometheus and a client of it for `body`, both stopped afterwards whatever happens.
func withPrometheus(
    externalLabels: [String: String], _ body: (PrometheusServer, PrometheusClient) async throws -> Void
) async throws {
    let prometheus = try await PrometheusServer.start(externalLabels: externalLabels)
    let client: PrometheusClient
    do { client = try PrometheusClient(url: prometheus.url) } catch {
        await prometheus.stop()
        throw error
    }
    do { try await body(prometheus, client) } catch {
        await client.shutdown()
        await prometheus.stop()
        throw error
    }
    await client.shutdown()
    await prometheus.stop()
}

/// Parameter text for requests.
enum ParameterText {
    static func seconds(_ millis: Int64) -> String { String(format: "%.3f", Double(millis) / 1000) }

    static func form(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return pairs.map {
            ($0.0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "="
                + ($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }
}
