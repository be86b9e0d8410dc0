import SkiffCore

/// A series ready to send: its labels with the external labels applied, and the caller's payload.
public struct ResortedSeries<Payload> {
    public let labels: LabelSet
    public var payload: Payload

    public init(labels: LabelSet, payload: Payload) {
        self.labels = labels
        self.payload = payload
    }
}

extension ResortedSeries: Sendable where Payload: Sendable {}

/// Why a re-sorter cannot go on. Either way the caller should fail the Series call: what was
/// already sent cannot be taken back, and a silently mis-sorted stream breaks querier dedup.
public enum ResortError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A series arrived whose labels sort below a series already emitted.
    case outOfOrder(late: LabelSet, alreadySent: LabelSet)
    /// Buffering everything (after bad input) went past the caller's limit.
    case bufferLimitExceeded(limit: Int)

    public var description: String {
        switch self {
        case .outOfOrder(let late, let sent):
            "series \(late) arrived after \(sent) was sent, but sorts before it: the remote-read stream is not sorted"
        case .bufferLimitExceeded(let limit):
            "more than \(limit) series buffered to re-sort an unsorted remote-read stream"
        }
    }
}

/// One buffered series: K (the labels to send), payload, and arrival number for stable ties.
@usableFromInline
struct BufferedSeries<Payload> {
    @usableFromInline let key: LabelSet
    @usableFromInline var payload: Payload
    @usableFromInline let arrival: Int

    @inlinable
    init(key: LabelSet, payload: Payload, arrival: Int) {
        self.key = key
        self.payload = payload
        self.arrival = arrival
    }

    @inlinable
    var emitted: ResortedSeries<Payload> { ResortedSeries(labels: key, payload: payload) }

    /// Order by (key, arrival): a stable order whatever sort algorithm runs.
    @inlinable
    static func precedes(_ a: Self, _ b: Self) -> Bool {
        let c = LabelSet.compare(a.key, b.key)
        return c != 0 ? c < 0 : a.arrival < b.arrival
    }
}

extension BufferedSeries: Sendable where Payload: Sendable {}
