/// `/api/v1/status/tsdb` as Thanos' `statuspb.TSDBStatisticsEntry` decodes it.
public struct PrometheusTSDBStatus: Decodable, Sendable {
    public struct HeadStats: Decodable, Sendable {
        public var numSeries: UInt64
        public var numLabelPairs: Int64
        public var chunkCount: Int64
        public var minTime: Int64
        public var maxTime: Int64

        enum CodingKeys: String, CodingKey { case numSeries, numLabelPairs, chunkCount, minTime, maxTime }

        public init() {
            numSeries = 0
            numLabelPairs = 0
            chunkCount = 0
            minTime = 0
            maxTime = 0
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            numSeries = try c.decodeIfPresent(UInt64.self, forKey: .numSeries) ?? 0
            numLabelPairs = try c.decodeIfPresent(Int64.self, forKey: .numLabelPairs) ?? 0
            chunkCount = try c.decodeIfPresent(Int64.self, forKey: .chunkCount) ?? 0
            minTime = try c.decodeIfPresent(Int64.self, forKey: .minTime) ?? 0
            maxTime = try c.decodeIfPresent(Int64.self, forKey: .maxTime) ?? 0
        }
    }

    public struct Stat: Decodable, Sendable, Equatable {
        public var name: String
        public var value: UInt64

        public init(name: String, value: UInt64) {
            self.name = name
            self.value = value
        }

        enum CodingKeys: String, CodingKey { case name, value }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
            value = try c.decodeIfPresent(UInt64.self, forKey: .value) ?? 0
        }
    }

    public var headStats: HeadStats
    public var seriesCountByMetricName: [Stat]
    public var labelValueCountByLabelName: [Stat]
    public var memoryInBytesByLabelName: [Stat]
    public var seriesCountByLabelValuePair: [Stat]

    enum CodingKeys: String, CodingKey {
        case headStats, seriesCountByMetricName, labelValueCountByLabelName, memoryInBytesByLabelName,
            seriesCountByLabelValuePair
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        headStats = try c.decodeIfPresent(HeadStats.self, forKey: .headStats) ?? HeadStats()
        seriesCountByMetricName = try c.decodeIfPresent([Stat].self, forKey: .seriesCountByMetricName) ?? []
        labelValueCountByLabelName = try c.decodeIfPresent([Stat].self, forKey: .labelValueCountByLabelName) ?? []
        memoryInBytesByLabelName = try c.decodeIfPresent([Stat].self, forKey: .memoryInBytesByLabelName) ?? []
        seriesCountByLabelValuePair = try c.decodeIfPresent([Stat].self, forKey: .seriesCountByLabelValuePair) ?? []
    }
}

extension PrometheusClient {
    /// GET `/api/v1/status/tsdb`, with `limit` when > 0 (Prometheus 2.42 ignores it and answers
    /// its top 10; callers cut the lists themselves, as Thanos does). No data is an error, as in
    /// Thanos ("empty data field in TSDB status response").
    public func tsdbStatus(limit: Int, timeout: Duration) async throws(PrometheusAPIError) -> PrometheusTSDBStatus {
        let query: [(name: String, value: String)] = limit > 0 ? [(name: "limit", value: "\(limit)")] : []
        guard
            let status = try await tracedAPIData(
                "/api/v1/status/tsdb", query: query, as: PrometheusTSDBStatus.self, timeout: timeout)
        else {
            throw PrometheusAPIError(kind: .decoding, message: "empty data field in TSDB status response")
        }
        return status
    }
}
