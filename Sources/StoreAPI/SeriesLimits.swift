import GRPCCore
import Metrics

/// Thanos' `--store.limits.request-series` and `--store.limits.request-samples`: the most series,
/// and samples, one Series call may send; 0 means no limit. Samples are counted as Thanos counts
/// them, 120 per chunk (a chunk holds at most that many), so nothing is decoded to count them.
public struct SeriesLimits: Sendable, Equatable {
    public var series: UInt64
    public var samples: UInt64

    public init(series: UInt64 = 0, samples: UInt64 = 0) {
        self.series = series
        self.samples = samples
    }

    static let samplesPerChunk: UInt64 = 120
}

/// One Series call's running totals against its limits, counted per response as Thanos'
/// `limitedServer` counts them: a batch reserves all its series, then all its samples, and is not
/// sent when that crosses a limit. So the responses before the one that crosses a limit are sent,
/// then the call fails with "limit N violated (got M)" (M counts the whole refused response) and
/// `thanos_store_selects_dropped_total{reason}` counts it.
struct SeriesLimiter {
    let limits: SeriesLimits
    private var series: UInt64 = 0
    private var samples: UInt64 = 0

    init(_ limits: SeriesLimits) { self.limits = limits }

    /// The responses that fit, and the error to end the call with when one did not.
    mutating func admit(_ batch: [RawSeriesResponse]) -> (admitted: ArraySlice<RawSeriesResponse>, violation: RPCError?) {
        guard limits.series > 0 || limits.samples > 0 else { return (batch[...], nil) }
        for (index, response) in batch.enumerated() {
            series += UInt64(response.seriesCount)
            if limits.series > 0 && series > limits.series {
                return (batch[..<index], Self.violation("series", limit: limits.series, got: series))
            }
            samples += UInt64(response.chunkCount) * SeriesLimits.samplesPerChunk
            if limits.samples > 0 && samples > limits.samples {
                return (batch[..<index], Self.violation("samples", limit: limits.samples, got: samples))
            }
        }
        return (batch[...], nil)
    }

    private static func violation(_ what: String, limit: UInt64, got: UInt64) -> RPCError {
        Counter(label: "thanos_store_selects_dropped_total", dimensions: [("reason", what == "series" ? "series" : "chunks")])
            .increment()
        // Thanos returns a plain error here, which gRPC sends as Unknown with this message.
        return RPCError(code: .unknown, message: "failed to send \(what): limit \(limit) violated (got \(got))")
    }
}
