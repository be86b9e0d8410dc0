import SkiffCore
import TSDB

/// How the shipper behaves; the CLI fills it from flags.
public struct ShipperConfig: Sendable {
    /// The Prometheus data dir (`--tsdb.path`).
    public var tsdbPath: String
    /// External labels written into every shipped meta.json.
    public var labels: LabelSet
    /// Ship blocks with compaction level > 1 too (`--shipper.upload-compacted`).
    public var uploadCompacted: Bool
    /// The uploaded-blocks file in `tsdbPath` (`--shipper.meta-file-name`).
    public var metaFileName = ShipperMetaFile.fileName
    /// How failed blocks are retried (backoffs, attempts per pass, whether a failure holds back
    /// newer blocks); the state machine applies it.
    public var retryPolicy: ShipStateMachine.RetryPolicy
    /// Files of one block uploaded at once (`--shipper.upload-concurrency`); below 1 is taken
    /// as 1, as Thanos takes its default 0. Each upload streams from its staged file, so memory
    /// grows with this, not with file sizes.
    public var uploadConcurrency: Int

    /// `--shipper.allow-out-of-order-uploads`: a block whose upload fails is left for the next
    /// pass while newer blocks go on, instead of holding them back (the machine's
    /// `RetryPolicy.holdsBackNewer`, the one place this is decided).
    public var allowOutOfOrderUploads: Bool {
        get { !retryPolicy.holdsBackNewer }
        set { retryPolicy.holdsBackNewer = !newValue }
    }

    public init(
        tsdbPath: String, labels: LabelSet, uploadCompacted: Bool = false,
        backoff: Backoff = ShipStateMachine.RetryPolicy().backoff,
        quarantineBackoff: Backoff = ShipStateMachine.RetryPolicy().quarantineBackoff,
        attemptsPerPass: Int = ShipStateMachine.RetryPolicy().attemptsPerPass,
        uploadConcurrency: Int = 1, allowOutOfOrderUploads: Bool = false
    ) {
        self.tsdbPath = tsdbPath
        self.labels = labels
        self.uploadCompacted = uploadCompacted
        self.retryPolicy = ShipStateMachine.RetryPolicy(
            backoff: backoff, quarantineBackoff: quarantineBackoff, attemptsPerPass: attemptsPerPass,
            holdsBackNewer: !allowOutOfOrderUploads)
        self.uploadConcurrency = uploadConcurrency
    }

    /// Why a block is not shipped, or nil when it is eligible.
    public func ignoreReason(_ meta: BlockMeta) -> String? {
        if meta.numSamples == 0 { return "empty block (0 samples)" }
        if meta.level > 1 && !uploadCompacted {
            return "compaction level \(meta.level) > 1 (pass --shipper.upload-compacted to ship compacted blocks)"
        }
        return nil
    }
}

/// What one sync pass did.
public struct SyncSummary: Sendable, Equatable {
    public var committed: [ULID] = []
    public var adopted: [ULID] = []
    public var cleaned: [ULID] = []
    public var quarantined: [ULID] = []
    public var newlyIgnored: [ULID] = []
    /// Failed attempts in this pass (a block retried three times counts three).
    public var failures = 0
    /// Bytes uploaded in this pass (chunks, index and meta.json).
    public var uploadedBytes: Int64 = 0
    /// The block that stopped the pass (newer blocks wait behind it), with its error.
    public var blockedBy: (ulid: ULID, error: SkiffError)?
    /// Blocks that failed in this pass and were left for the next one while newer blocks went
    /// on (`--shipper.allow-out-of-order-uploads`), each with its last error. Thanos counts such
    /// a pass as a failed sync.
    public var skippedAfterFailure: [(ulid: ULID, error: SkiffError)] = []

    public init() {}

    /// Counts what a committed event did to `ulid`. Every event is named, so a new one must be decided here.
    mutating func count(_ event: ShipEvent, _ ulid: ULID) {
        switch event {
        case .committed: committed.append(ulid)
        case .adopted: adopted.append(ulid)
        case .cleaned: cleaned.append(ulid)
        case .failed(let quarantine, _, _):
            failures += 1
            if quarantine { quarantined.append(ulid) }
        case .hashed, .chunksUploaded, .indexUploaded, .vanished, .retry, .eligible, .reship: break
        }
    }

    public static func == (a: SyncSummary, b: SyncSummary) -> Bool {
        a.committed == b.committed && a.adopted == b.adopted && a.cleaned == b.cleaned
            && a.quarantined == b.quarantined && a.newlyIgnored == b.newlyIgnored && a.uploadedBytes == b.uploadedBytes
            && a.blockedBy?.ulid == b.blockedBy?.ulid && a.skippedAfterFailure.map(\.ulid) == b.skippedAfterFailure.map(\.ulid)
    }
}
