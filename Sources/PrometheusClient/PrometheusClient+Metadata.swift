/// One metadata entry of `/api/v1/metadata` (Thanos' `metadatapb.Meta`).
public struct PrometheusMetricMeta: Decodable, Sendable, Equatable {
    public var type: String
    public var help: String
    public var unit: String

    public init(type: String, help: String, unit: String) {
        self.type = type
        self.help = help
        self.unit = unit
    }

    enum CodingKeys: String, CodingKey { case type, help, unit }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? ""
        help = try c.decodeIfPresent(String.self, forKey: .help) ?? ""
        unit = try c.decodeIfPresent(String.self, forKey: .unit) ?? ""
    }
}

extension PrometheusClient {
    /// GET `/api/v1/metadata`: `metric` when not empty, `limit` when >= 0 (0 is sent too, and then
    /// Prometheus answers nothing), as Thanos' `MetricMetadataInGRPC` builds the query.
    public func metricMetadata(
        metric: String, limit: Int, timeout: Duration
    ) async throws(PrometheusAPIError)
        -> [String: [PrometheusMetricMeta]]
    {
        var query: [(name: String, value: String)] = []
        if !metric.isEmpty { query.append((name: "metric", value: metric)) }
        if limit >= 0 { query.append((name: "limit", value: "\(limit)")) }
        return try await tracedAPIData(
            "/api/v1/metadata", query: query, as: [String: [PrometheusMetricMeta]].self, timeout: timeout) ?? [:]
    }
}
