/// One series of `/api/v1/query_exemplars`: its labels and exemplars.
public struct PrometheusExemplarSeries: Decodable, Sendable {
    public var seriesLabels: [String: String]
    public var exemplars: [PrometheusExemplar]

    enum CodingKeys: String, CodingKey { case seriesLabels, exemplars }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seriesLabels = try c.decodeIfPresent([String: String].self, forKey: .seriesLabels) ?? [:]
        exemplars = try c.decodeIfPresent([PrometheusExemplar].self, forKey: .exemplars) ?? []
    }
}

/// An exemplar: `value` comes as a string ("1.5", "NaN", "+Inf"), `timestamp` as float seconds,
/// kept in milliseconds as Prometheus' `model.Time` reads it (Prometheus writes at most 3 decimals).
public struct PrometheusExemplar: Decodable, Sendable {
    public var labels: [String: String]
    public var value: Double
    public var timestampMillis: Int64

    enum CodingKeys: String, CodingKey { case labels, value, timestamp }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        let text = try c.decodeIfPresent(String.self, forKey: .value) ?? "0"
        guard let value = Double(text) else {
            throw DecodingError.dataCorruptedError(forKey: .value, in: c, debugDescription: "not a sample value: \(text)")
        }
        self.value = value
        let seconds = try c.decodeIfPresent(Double.self, forKey: .timestamp) ?? 0
        timestampMillis = Int64((seconds * 1000).rounded())
    }
}

extension PrometheusClient {
    /// GET `/api/v1/query_exemplars?query=&start=&end=`, the times given in milliseconds and sent
    /// as Thanos sends them (`formatTime`: decimal seconds, Go's `FormatFloat(_, 'f', -1, 64)`).
    public func exemplars(
        query: String, startMillis: Int64, endMillis: Int64, timeout: Duration
    )
        async throws(PrometheusAPIError) -> [PrometheusExemplarSeries]
    {
        let parameters = [
            (name: "query", value: query), (name: "start", value: Self.goSeconds(startMillis)),
            (name: "end", value: Self.goSeconds(endMillis)),
        ]
        return try await tracedAPIData(
            "/api/v1/query_exemplars", query: parameters, as: [PrometheusExemplarSeries].self, timeout: timeout) ?? []
    }

    /// Thanos' `formatTime(timestamp.Time(ms))`: `float64(t.Unix()) + float64(t.Nanosecond())/1e9`
    /// (Unix seconds rounded down, so the nanoseconds are never negative), printed as the
    /// shortest decimal that reads back to the same double, never in exponent form.
    package static func goSeconds(_ millis: Int64) -> String {
        var seconds = millis / 1000
        var rest = millis % 1000
        if rest < 0 {
            seconds -= 1
            rest += 1000
        }
        return goFormatFloat(Double(seconds) + Double(rest * 1_000_000) / 1e9)
    }

    /// Go's `strconv.FormatFloat(d, 'f', -1, 64)` for finite values: Swift's description is the
    /// same shortest round-trip digits, but may use an exponent and writes "1.0" for 1.
    package static func goFormatFloat(_ d: Double) -> String {
        let text = "\(d)"
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        }
        let exponent = Int(text[text.index(after: e)...]) ?? 0
        var mantissa = String(text[..<e])
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa.removeFirst() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0])
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        if fraction == "0" { fraction = "" }
        let digits = whole + fraction
        let point = whole.count + exponent  // digits before the decimal point
        let out: String
        if point <= 0 {
            out = "0." + String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            out = digits + String(repeating: "0", count: point - digits.count)
        } else {
            out = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
        }
        return (negative ? "-" : "") + out
    }
}
