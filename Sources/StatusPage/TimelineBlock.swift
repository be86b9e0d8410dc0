import Ledger
import SkiffCore

/// How a block is drawn on the timeline: the six states an operator tells apart at a glance.
public enum TimelineState: String, Sendable, CaseIterable {
    case committed
    case inProgress = "in-progress"
    case failed
    case quarantined
    /// Ignored by the shipper, or abandoned (its dir vanished before it was shipped).
    case ignored
    /// Committed in the ledger, but the last reconcile did not find it in the bucket.
    case missing

    public var label: String {
        switch self {
        case .committed: "committed"
        case .inProgress: "in progress"
        case .failed: "failed"
        case .quarantined: "quarantined"
        case .ignored: "ignored"
        case .missing: "missing from bucket"
        }
    }

    /// Distinct hues that stay apart for the common colour blindnesses (Okabe-Ito's palette).
    public var colour: String {
        switch self {
        case .committed: "#009e73"
        case .inProgress: "#0072b2"
        case .failed: "#d55e00"
        case .quarantined: "#cc79a7"
        case .ignored: "#999999"
        case .missing: "#e69f00"
        }
    }

    /// A block's state on the timeline. A reconcile's "missing" wins over the ledger's
    /// "committed": the ledger says what we did, the reconcile what the bucket holds now.
    public init(_ block: BlockRecord, missingFromBucket: Bool) {
        if block.quarantined {
            self = .quarantined
        } else if missingFromBucket && block.state == .committed {
            self = .missing
        } else {
            switch block.state {
            case .committed: self = .committed
            case .failed: self = .failed
            case .ignored, .cleaned: self = .ignored
            case .discovered, .hashed, .chunksUploaded, .indexUploaded: self = .inProgress
            }
        }
    }
}

/// One bar of the timeline: a block's time range, compaction level and state.
public struct TimelineBlock: Sendable, Equatable {
    public var ulid: String
    public var minTime: Int64
    public var maxTime: Int64
    public var level: Int
    public var state: TimelineState
    /// Shown in the bar's tooltip (the last error of a failed block); from disk, so escaped.
    public var note: String?

    public init(ulid: String, minTime: Int64, maxTime: Int64, level: Int, state: TimelineState, note: String? = nil) {
        self.ulid = ulid
        self.minTime = minTime
        self.maxTime = maxTime
        self.level = level
        self.state = state
        self.note = note
    }
}
