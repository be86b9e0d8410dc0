import SkiffCore

/// The fallback when internal labels clash with external ones: hold every series, sort by the
/// labels with the external labels applied (external wins), emit at the end. Memory grows with
/// the response, as in Thanos (resortingServer / HEAD's flushable server).
///
/// The streaming sorter cannot be used then: a clashing internal label is replaced by the
/// external value, which breaks the order argument (and cannot be told apart from the merged-in
/// external label in Prometheus' answer). The caller should log a warning naming the clashing
/// label. Like Thanos, two internal series that differ only in that label collapse into one label
/// set (thanos#3459); they are emitted one after the other, in arrival order (stable sort).
public struct BufferingResorter<Payload> {
    public let external: LabelSet
    private var buffer: [BufferedSeries<Payload>] = []

    public init(external: LabelSet) { self.external = external }

    public var buffered: Int { buffer.count }

    /// Adds one series with its labels as received from Prometheus.
    public mutating func push(labels: LabelSet, payload: Payload) {
        buffer.append(BufferedSeries(key: labels.withExternal(external), payload: payload, arrival: buffer.count))
    }

    /// Everything, sorted by labels (with external applied), ties in arrival order.
    public mutating func finish() -> [ResortedSeries<Payload>] {
        buffer.sort(by: BufferedSeries.precedes)
        defer { buffer = [] }
        return buffer.map(\.emitted)
    }
}

extension BufferingResorter: Sendable where Payload: Sendable {}
