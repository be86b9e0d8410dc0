import SkiffCore
import StoreProto
import SwiftProtobuf

/// Prometheus' JSON result as the `prometheus_copy.TimeSeries` Thanos' gRPC query API sends.
enum SeriesConversion {
    /// Series of a vector, a matrix or a scalar (one series without labels); nothing for a string.
    /// Native histograms are left out (and counted) as the JSON form carries them differently.
    static func series(resultType: String, result: JSONValue) -> (series: [Prometheus_TimeSeries], histograms: Int) {
        var histograms = 0
        switch resultType {
        case "scalar":
            guard let sample = result.arrayValue, let point = self.sample(sample) else { return ([], 0) }
            return ([Prometheus_TimeSeries.with { $0.samples = [point] }], 0)
        case "vector", "matrix":
            var out: [Prometheus_TimeSeries] = []
            for item in result.arrayValue ?? [] {
                var series = Prometheus_TimeSeries()
                series.labels = (item["metric"]?.members ?? []).map { member in
                    Prometheus_Label.with {
                        $0.name = member.key
                        $0.value = member.value.stringValue ?? ""
                    }
                }
                if let value = item["value"]?.arrayValue, let point = sample(value) { series.samples = [point] }
                for value in item["values"]?.arrayValue ?? [] {
                    if let pair = value.arrayValue, let point = sample(pair) { series.samples.append(point) }
                }
                if item["histogram"] != nil { histograms += 1 }
                histograms += item["histograms"]?.arrayValue?.count ?? 0
                out.append(series)
            }
            return (out, histograms)
        default:
            return ([], 0)
        }
    }

    /// `[<unix seconds>, "<value>"]`.
    static func sample(_ pair: [JSONValue]) -> Prometheus_Sample? {
        guard pair.count == 2, case .number(let time) = pair[0], let text = pair[1].stringValue,
            let millis = millis(time)
        else { return nil }
        return Prometheus_Sample.with {
            $0.timestamp = millis
            $0.value = value(text)
        }
    }

    /// Prometheus writes times as `strconv.FormatFloat(t, 'f', -1, 64)` of ms/1000: digits, an
    /// optional point and at most three decimals. Read exactly, without a float round trip.
    static func millis(_ text: String) -> Int64? {
        let negative = text.hasPrefix("-")
        let body = negative ? text.dropFirst() : text[...]
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int64(parts[0]) else {
            return Double(text).flatMap { Int64(exactly: ($0 * 1000).rounded()) }
        }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = String(parts[1].prefix(3))
            guard let f = Int64(digits.padding(toLength: 3, withPad: "0", startingAt: 0)) else { return nil }
            fraction = f
        }
        let value = whole * 1000 + fraction
        return negative ? -value : value
    }

    /// A sample value: a float in Go's text form, "NaN", "+Inf" or "-Inf".
    static func value(_ text: String) -> Double {
        switch text {
        case "NaN": .nan
        case "+Inf", "Inf": .infinity
        case "-Inf": -.infinity
        default: Double(text) ?? .nan
        }
    }
}
