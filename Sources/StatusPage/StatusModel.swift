import Ledger
import SkiffCore

/// Time from a block's end to its commit over the committed blocks, nearest-rank percentiles
/// (the same definition as `skiff report lag`).
public struct LagStats: Sendable, Equatable {
    public var blocks: Int
    public var medianMillis: Int64
    public var p90Millis: Int64
    public var maxMillis: Int64

    public init?(lagsMillis: [Int64]) {
        guard !lagsMillis.isEmpty else { return nil }
        let sorted = lagsMillis.sorted()
        let n = sorted.count
        blocks = n
        medianMillis = sorted[(n + 1) / 2 - 1]
        p90Millis = sorted[max(1, Int((Double(n) * 0.9).rounded(.up))) - 1]
        maxMillis = sorted[n - 1]
    }
}

/// A block being uploaded: how far it got.
public struct UploadProgress: Sendable, Equatable {
    public var ulid: String
    public var state: String
    public var uploadedBytes: Int64
    public var totalBytes: Int64?
}

/// Everything the status page shows, computed from the ledger and the sidecar's state. Pure: the
/// same reading and instant give the same model.
public struct StatusModel: Sendable {
    public var now: Int64
    public var prometheus: PrometheusStatus?
    public var reloader: ReloaderStatus?
    public var bucket: String?
    public var counts: [TimelineState: Int]
    public var bytesShipped: Int64
    public var lag: LagStats?
    public var oldestUnshippedAgeMillis: Int64?
    public var uploads: [UploadProgress]
    /// Failed, quarantined and missing blocks, newest first, with how the timeline shows them.
    public var attention: [(block: BlockRecord, state: TimelineState)]
    public var timeline: [TimelineBlock]
    public var reconcile: ReconcileSummary?
    public var failures: [FailureGroup]

    public init(
        reading: LedgerReading, prometheus: PrometheusStatus?, reloader: ReloaderStatus? = nil, bucket: String?, now: Int64
    ) {
        self.now = now
        self.prometheus = prometheus
        self.reloader = reloader
        self.bucket = bucket
        reconcile = reading.reconcile
        failures = reading.failures
        let missing = Set(
            (reading.reconcile?.findings ?? []).filter { $0.status == ReconcileSummary.missingStatus }.map(\.ulid))
        var counts = Dictionary(uniqueKeysWithValues: TimelineState.allCases.map { ($0, 0) })
        var timeline: [TimelineBlock] = []
        timeline.reserveCapacity(reading.blocks.count)
        var lags: [Int64] = []
        var shipped: Int64 = 0
        var oldestUnshipped: Int64?
        var attention: [(block: BlockRecord, state: TimelineState)] = []
        for block in reading.blocks {
            let (minTime, maxTime) = (Humanize.clamp(block.minTime), Humanize.clamp(block.maxTime))
            let state = TimelineState(block, missingFromBucket: missing.contains(block.ulid.string))
            counts[state, default: 0] += 1
            timeline.append(
                TimelineBlock(
                    ulid: block.ulid.string, minTime: minTime, maxTime: maxTime, level: block.level,
                    state: state, note: state == .ignored ? block.reason : block.lastError))
            if block.state == .committed {
                shipped += block.totalBytes ?? 0
                if let committedAt = block.committedAt { lags.append(Humanize.clamp(committedAt) - maxTime) }
            }
            // A block is due once its range has ended: its age is how late its upload is.
            if !block.state.isFinal { oldestUnshipped = min(oldestUnshipped ?? maxTime, maxTime) }
            if [.failed, .quarantined, .missing].contains(state) { attention.append((block, state)) }
        }
        self.counts = counts
        self.timeline = timeline
        bytesShipped = shipped
        lag = LagStats(lagsMillis: lags)
        oldestUnshippedAgeMillis = oldestUnshipped.map { max(0, Humanize.clamp(now) - $0) }
        uploads = reading.blocks
            .filter { [.hashed, .chunksUploaded, .indexUploaded].contains($0.state) && !$0.quarantined }
            .sorted { $0.updatedAt > $1.updatedAt }
            .map {
                UploadProgress(
                    ulid: $0.ulid.string, state: $0.state.rawValue, uploadedBytes: $0.uploadedBytes, totalBytes: $0.totalBytes)
            }
        self.attention = attention.sorted { $0.block.updatedAt > $1.block.updatedAt }
    }
}
