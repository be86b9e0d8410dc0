import SkiffCore

/// The time ranges of the blocks this ledger ships, to find one that a bucket block overlaps in
/// O(log n): sorted by start, with the running maximum of the ends.
struct TimeOverlap: Sendable {
    private let ranges: [(min: Int64, max: Int64, ulid: ULID)]
    private let maxEnd: [Int64]

    init(_ ranges: [(min: Int64, max: Int64, ulid: ULID)]) {
        self.ranges = ranges.sorted { ($0.min, $0.ulid) < ($1.min, $1.ulid) }
        var running = Int64.min
        maxEnd = self.ranges.map { range in
            running = max(running, range.max)
            return running
        }
    }

    /// A block other than `ulid` whose [min, max) range overlaps [min, max), if any.
    func overlapping(_ ulid: ULID, min: Int64, max: Int64) -> ULID? {
        // Ranges starting before `max`: the first `end` of them; one of those ending after `min` overlaps.
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].min < max { low = mid + 1 } else { high = mid }
        }
        var i = low - 1
        while i >= 0 && maxEnd[i] > min {
            if ranges[i].max > min && ranges[i].ulid != ulid { return ranges[i].ulid }
            i -= 1
        }
        return nil
    }
}
