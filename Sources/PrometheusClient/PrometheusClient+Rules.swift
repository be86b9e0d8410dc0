/// `/api/v1/rules` as Thanos' `rulespb` decodes it (`pkg/rules/rulespb/custom.go`): a rule's
/// `type` picks recording or alerting, states are upper-cased and looked up, absent fields are
/// Go's zero values (a missing time is Go's zero time).
public struct PrometheusRuleGroup: Decodable, Sendable {
    public var name: String
    public var file: String
    public var rules: [PrometheusRule]
    public var interval: Double
    public var limit: Int64
    public var evaluationTime: Double
    public var lastEvaluation: PrometheusTimestamp

    enum CodingKeys: String, CodingKey { case name, file, rules, interval, limit, evaluationTime, lastEvaluation }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        file = try c.decodeIfPresent(String.self, forKey: .file) ?? ""
        rules = try c.decodeIfPresent([PrometheusRule].self, forKey: .rules) ?? []
        interval = try c.decodeIfPresent(Double.self, forKey: .interval) ?? 0
        limit = try c.decodeIfPresent(Int64.self, forKey: .limit) ?? 0
        evaluationTime = try c.decodeIfPresent(Double.self, forKey: .evaluationTime) ?? 0
        lastEvaluation = try c.decodeIfPresent(PrometheusTimestamp.self, forKey: .lastEvaluation) ?? .goZero
    }
}

public enum PrometheusRule: Decodable, Sendable {
    case recording(PrometheusRecordingRule)
    case alerting(PrometheusAlertingRule)

    enum CodingKeys: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decodeIfPresent(String.self, forKey: .type) ?? ""
        switch type.lowercased() {
        case "recording": self = .recording(try PrometheusRecordingRule(from: decoder))
        case "alerting": self = .alerting(try PrometheusAlertingRule(from: decoder))
        case "": throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "rule: no type field provided")
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c, debugDescription: "rule: unknown type field provided \(type)")
        }
    }
}

/// Thanos' `AlertState` names (HEAD): a Prometheus state string upper-cased must be one of them.
public enum PrometheusAlertState: String, Decodable, Sendable {
    case unknown = "UNKNOWN", inactive = "INACTIVE", pending = "PENDING", firing = "FIRING"

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard !text.isEmpty else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "empty alertState") }
        guard let state = Self(rawValue: text.uppercased()) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown alertState: \"\(text)\"")
        }
        self = state
    }
}

public struct PrometheusRecordingRule: Decodable, Sendable {
    public var name: String
    public var query: String
    public var labels: [String: String]
    public var health: String
    public var lastError: String
    public var evaluationTime: Double
    public var lastEvaluation: PrometheusTimestamp

    enum CodingKeys: String, CodingKey { case name, query, labels, health, lastError, evaluationTime, lastEvaluation }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        query = try c.decodeIfPresent(String.self, forKey: .query) ?? ""
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        health = try c.decodeIfPresent(String.self, forKey: .health) ?? ""
        lastError = try c.decodeIfPresent(String.self, forKey: .lastError) ?? ""
        evaluationTime = try c.decodeIfPresent(Double.self, forKey: .evaluationTime) ?? 0
        lastEvaluation = try c.decodeIfPresent(PrometheusTimestamp.self, forKey: .lastEvaluation) ?? .goZero
    }
}

public struct PrometheusAlertingRule: Decodable, Sendable {
    public var state: PrometheusAlertState
    public var name: String
    public var query: String
    public var duration: Double
    public var keepFiringFor: Double
    public var labels: [String: String]
    public var annotations: [String: String]
    public var alerts: [PrometheusAlert]
    public var health: String
    public var lastError: String
    public var evaluationTime: Double
    public var lastEvaluation: PrometheusTimestamp

    enum CodingKeys: String, CodingKey {
        case state, name, query, duration, keepFiringFor, labels, annotations, alerts, health, lastError, evaluationTime,
            lastEvaluation
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        state = try c.decodeIfPresent(PrometheusAlertState.self, forKey: .state) ?? .unknown
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        query = try c.decodeIfPresent(String.self, forKey: .query) ?? ""
        duration = try c.decodeIfPresent(Double.self, forKey: .duration) ?? 0
        keepFiringFor = try c.decodeIfPresent(Double.self, forKey: .keepFiringFor) ?? 0
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        alerts = try c.decodeIfPresent([PrometheusAlert].self, forKey: .alerts) ?? []
        health = try c.decodeIfPresent(String.self, forKey: .health) ?? ""
        lastError = try c.decodeIfPresent(String.self, forKey: .lastError) ?? ""
        evaluationTime = try c.decodeIfPresent(Double.self, forKey: .evaluationTime) ?? 0
        lastEvaluation = try c.decodeIfPresent(PrometheusTimestamp.self, forKey: .lastEvaluation) ?? .goZero
    }
}

/// One alert instance of an alerting rule; `activeAt` stays nil when Prometheus leaves it out.
public struct PrometheusAlert: Decodable, Sendable {
    public var labels: [String: String]
    public var annotations: [String: String]
    public var state: PrometheusAlertState
    public var activeAt: PrometheusTimestamp?
    public var value: String

    enum CodingKeys: String, CodingKey { case labels, annotations, state, activeAt, value }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        state = try c.decodeIfPresent(PrometheusAlertState.self, forKey: .state) ?? .unknown
        activeAt = try c.decodeIfPresent(PrometheusTimestamp.self, forKey: .activeAt)
        value = try c.decodeIfPresent(String.self, forKey: .value) ?? ""
    }
}

extension PrometheusClient {
    /// GET `/api/v1/rules`, with `type` (`alert` or `record`) when given. No data (204) is no groups.
    public func rules(type: String?, timeout: Duration) async throws(PrometheusAPIError) -> [PrometheusRuleGroup] {
        struct Groups: Decodable, Sendable { let groups: [PrometheusRuleGroup]? }
        let query: [(name: String, value: String)] = type.map { [(name: "type", value: $0)] } ?? []
        return try await tracedAPIData("/api/v1/rules", query: query, as: Groups.self, timeout: timeout)?.groups ?? []
    }
}
