import GRPCCore
import PrometheusClient
import SkiffCore
import StoreAPI
import StoreLogic
import StoreProto

/// `thanos.Status/TSDBStatistics` over Prometheus' `/api/v1/status/tsdb`, as Thanos' sidecar
/// getter and status server (`cmd/thanos/sidecar.go`, `pkg/status/status.go`) answer: "not
/// ready" until the external labels are known; an empty map when a request matcher does not
/// match them (the matchers are not forwarded); otherwise `{"": statistics}` in one message.
public struct StatusService: Thanos_Status.SimpleServiceProtocol {
    let upstream: PrometheusUpstream
    /// Thanos' `--prometheus.get_config_timeout`, which bounds this call instead of the upstream's.
    let timeout: Duration

    public init(upstream: PrometheusUpstream, timeout: Duration = .seconds(30)) {
        self.upstream = upstream
        self.timeout = timeout
    }

    public func tsdbStatistics(
        request: Thanos_TSDBStatisticsRequest, response: RPCWriter<Thanos_TSDBStatisticsResponse>,
        context: ServerContext
    ) async throws {
        var statistics: [String: Thanos_TSDBStatisticsEntry] = [:]
        if let entry = try await entry(request, context: context), request.tenant.isEmpty {
            statistics[""] = entry
        }
        try await response.write(.with { $0.statistics = .with { $0.statistics = statistics } })
    }

    /// The one tenant's entry, or nil when the matchers rule this Prometheus out.
    private func entry(
        _ request: Thanos_TSDBStatisticsRequest, context: ServerContext
    ) async throws
        -> Thanos_TSDBStatisticsEntry?
    {
        guard let external = upstream.state.externalLabels() else { throw PrometheusUpstream.plainGoError("not ready") }
        // All converted before any is matched, as Thanos does: a bad one fails the call.
        var matchers: [Matcher] = []
        for proto in request.matchers {
            guard let type = MatchType(rawValue: proto.type.rawValue) else {
                throw PrometheusUpstream.plainGoError(
                    "failed to convert matchers: unrecognized label matcher type \(proto.type.rawValue)")
            }
            do throws(MatcherError) {
                matchers.append(try Matcher(type, name: proto.name, value: proto.value))
            } catch {
                throw PrometheusUpstream.plainGoError("failed to convert matchers: \(error.description)")
            }
        }
        if !matchers.allSatisfy({ $0.matches(external) }) { return nil }
        let limit = Int(request.limit)
        let timeout = self.timeout
        let status: PrometheusTSDBStatus
        do {
            status = try await upstream.call(context) { client, _ async throws(PrometheusAPIError) in
                try await client.tsdbStatus(limit: limit, timeout: timeout)
            }
        } catch let error as RPCError where error.code != .cancelled {
            // Thanos wraps the client's gRPC error: same code, its message prefixed.
            throw RPCError(code: error.code, message: "failed to get tsdb status from prometheus: \(error.message)")
        }
        return Self.entry(status, limit: limit)
    }

    /// What Thanos' round trip through `tsdb.Stats` (`ToTSDBStats`, then the status server) leaves
    /// of Prometheus' answer: the lists cut to `limit` when it is > 0, `chunk_count` dropped (a
    /// TODO in Thanos), `max_time` at least 0, the label pairs and lists only when Prometheus sent
    /// any list or label pairs.
    static func entry(_ status: PrometheusTSDBStatus, limit: Int) -> Thanos_TSDBStatisticsEntry {
        func cut(_ stats: [PrometheusTSDBStatus.Stat]) -> [Thanos_Statistic] {
            let kept = limit > 0 ? Array(stats.prefix(limit)) : stats
            return kept.map { s in
                .with {
                    $0.name = s.name
                    $0.value = s.value
                }
            }
        }
        let head = status.headStats
        let hasIndexStats =
            !status.seriesCountByMetricName.isEmpty || !status.labelValueCountByLabelName.isEmpty
            || !status.memoryInBytesByLabelName.isEmpty || !status.seriesCountByLabelValuePair.isEmpty
            || head.numLabelPairs > 0
        return .with {
            $0.headStatistics = .with {
                $0.numSeries = head.numSeries
                $0.minTime = head.minTime
                $0.maxTime = max(0, head.maxTime)
                if hasIndexStats { $0.numLabelPairs = head.numLabelPairs }
            }
            if hasIndexStats {
                $0.seriesCountByMetricName = cut(status.seriesCountByMetricName)
                $0.labelValueCountByLabelName = cut(status.labelValueCountByLabelName)
                $0.memoryInBytesByLabelName = cut(status.memoryInBytesByLabelName)
                $0.seriesCountByLabelValuePair = cut(status.seriesCountByLabelValuePair)
            }
        }
    }
}
