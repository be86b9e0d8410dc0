/// `/api/v1/targets` as Thanos' `targetspb` decodes it: `health` upper-cased must be UP, DOWN or
/// UNKNOWN (anything else fails the call); absent fields are Go's zero values.
public struct PrometheusTargets: Decodable, Sendable {
    public var activeTargets: [PrometheusActiveTarget]
    public var droppedTargets: [PrometheusDroppedTarget]

    public init() {
        activeTargets = []
        droppedTargets = []
    }

    enum CodingKeys: String, CodingKey { case activeTargets, droppedTargets }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        activeTargets = try c.decodeIfPresent([PrometheusActiveTarget].self, forKey: .activeTargets) ?? []
        droppedTargets = try c.decodeIfPresent([PrometheusDroppedTarget].self, forKey: .droppedTargets) ?? []
    }
}

/// Thanos' `TargetHealth` names; a missing `health` is DOWN (the enum's zero).
public enum PrometheusTargetHealth: String, Decodable, Sendable {
    case down = "DOWN", up = "UP", unknown = "UNKNOWN"

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard !text.isEmpty else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "empty targetHealth") }
        guard let health = Self(rawValue: text.uppercased()) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown targetHealth: \"\(text)\"")
        }
        self = health
    }
}

public struct PrometheusActiveTarget: Decodable, Sendable {
    public var discoveredLabels: [String: String]
    public var labels: [String: String]
    public var scrapePool: String
    public var scrapeUrl: String
    public var globalUrl: String
    public var lastError: String
    public var lastScrape: PrometheusTimestamp
    public var lastScrapeDuration: Double
    public var health: PrometheusTargetHealth

    enum CodingKeys: String, CodingKey {
        case discoveredLabels, labels, scrapePool, scrapeUrl, globalUrl, lastError, lastScrape, lastScrapeDuration, health
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        discoveredLabels = try c.decodeIfPresent([String: String].self, forKey: .discoveredLabels) ?? [:]
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        scrapePool = try c.decodeIfPresent(String.self, forKey: .scrapePool) ?? ""
        scrapeUrl = try c.decodeIfPresent(String.self, forKey: .scrapeUrl) ?? ""
        globalUrl = try c.decodeIfPresent(String.self, forKey: .globalUrl) ?? ""
        lastError = try c.decodeIfPresent(String.self, forKey: .lastError) ?? ""
        lastScrape = try c.decodeIfPresent(PrometheusTimestamp.self, forKey: .lastScrape) ?? .goZero
        lastScrapeDuration = try c.decodeIfPresent(Double.self, forKey: .lastScrapeDuration) ?? 0
        health = try c.decodeIfPresent(PrometheusTargetHealth.self, forKey: .health) ?? .down
    }
}

public struct PrometheusDroppedTarget: Decodable, Sendable {
    public var discoveredLabels: [String: String]

    enum CodingKeys: String, CodingKey { case discoveredLabels }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        discoveredLabels = try c.decodeIfPresent([String: String].self, forKey: .discoveredLabels) ?? [:]
    }
}

extension PrometheusClient {
    /// GET `/api/v1/targets`, with `state` (`active` or `dropped`) when given. No data is no targets.
    public func targets(state: String?, timeout: Duration) async throws(PrometheusAPIError) -> PrometheusTargets {
        let query: [(name: String, value: String)] = state.map { [(name: "state", value: $0)] } ?? []
        return try await tracedAPIData("/api/v1/targets", query: query, as: PrometheusTargets.self, timeout: timeout)
            ?? PrometheusTargets()
    }
}
