import SkiffCore

/// `SeriesRequest.shard_info` as Thanos applies it (`storepb.ShardMatcher`): a series belongs to
/// shard `shardIndex` of `totalShards` when XXH64 of its chosen labels, each written as
/// `name 0xff value 0xff`, is `shardIndex` modulo `totalShards`. The chosen labels are those named
/// in `labels` with `by`, or all the others without `by`; they are hashed in the series' label
/// order, over its complete label set (external labels applied, replica labels removed).
///
/// Unlike Prometheus' `HashForLabels`, nothing is special about `__name__`, and `by` with no
/// names hashes nothing (every series lands in one shard): Thanos' exact behaviour, which a
/// querier that shards a query across stores relies on.
public struct ShardMatcher: Sendable {
    public let shardIndex: Int64
    public let totalShards: Int64
    public let by: Bool
    /// The `labels` of the request, byte-wise sorted for look-up.
    private let names: [String]
    /// Reused between series so hashing allocates nothing once warm.
    private var buffer: [UInt8] = []

    /// Nil when the request is not sharded (`total_shards` below 1), as Thanos' `Matcher()`.
    public init?(shardIndex: Int64, totalShards: Int64, by: Bool, labels: [String]) {
        guard totalShards >= 1 else { return nil }
        self.shardIndex = shardIndex
        self.totalShards = totalShards
        self.by = by
        names = labels.sorted(by: ByteOrder.less)
        buffer.reserveCapacity(256)
    }

    /// Whether `labels` belongs to this shard.
    public mutating func matches(_ labels: LabelSet) -> Bool {
        // Go compares `hash % uint64(total) == uint64(index)`: a negative index matches nothing.
        Self.hash(labels, names: names, by: by, into: &buffer) % UInt64(totalShards) == UInt64(bitPattern: shardIndex)
    }

    /// The shard hash of `labels` (exposed for tests and the reference comparison).
    public static func hash(_ labels: LabelSet, by: Bool, names: [String]) -> UInt64 {
        var buffer: [UInt8] = []
        return hash(labels, names: names.sorted(by: ByteOrder.less), by: by, into: &buffer)
    }

    private static func hash(_ labels: LabelSet, names: [String], by: Bool, into buffer: inout [UInt8]) -> UInt64 {
        buffer.removeAll(keepingCapacity: true)
        for label in labels where contains(names, label.name) == by {
            buffer.append(contentsOf: label.name.utf8)
            buffer.append(0xFF)
            buffer.append(contentsOf: label.value.utf8)
            buffer.append(0xFF)
        }
        return XXHash64.hash(buffer)
    }

    /// Binary search: requests name a handful of labels, but nothing stops one naming many.
    private static func contains(_ sorted: [String], _ name: String) -> Bool {
        var lo = 0
        var hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = ByteOrder.compare(sorted[mid], name)
            if c == 0 { return true }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return false
    }
}
