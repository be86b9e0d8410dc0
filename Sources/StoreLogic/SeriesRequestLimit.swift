import SkiffCore

/// `SeriesRequest.limit`: at most that many series, the first ones of the sorted answer, then the
/// call ends normally (no error, no warning). Thanos' sidecar only passes `limit` on to
/// Prometheus for `skip_chunks` (which Prometheus 2.42 ignores); the querier's proxy then stops
/// after `limit` *deduplicated* series (`proxy.go`: `if r.Limit > 0 && i > int(r.Limit) break`
/// after `NewResponseDeduplicator`). Applying it here gives the querier the same result while
/// Skiff stops reading Prometheus early: consecutive series with equal labels (replicas that
/// collapsed once their replica label was removed) merge into one in the querier, so they count
/// once, and the copies of the last admitted series are all sent.
public struct SeriesRequestLimit: Sendable {
    /// 0 or negative: no limit, as in Thanos.
    public let limit: Int64
    private var distinct: Int64 = 0
    private var last: LabelSet?
    private var reached = false

    public init(_ limit: Int64) { self.limit = limit }

    public var isLimited: Bool { limit > 0 }

    /// Whether the series with `labels`, the next of the sorted answer, is sent. Once this says
    /// no, every later series is past the limit too.
    public mutating func admit(_ labels: LabelSet) -> Bool {
        guard limit > 0, !reached else { return !reached }
        if let last, last == labels { return true }
        guard distinct < limit else {
            reached = true
            return false
        }
        distinct += 1
        last = labels
        return true
    }
}
