/// The per-block ship state machine: a pure value, no I/O. The shipper asks for `nextAction`,
/// performs it, feeds the outcome back as an `Event`, and commits the returned `Transition` to
/// the ledger before doing anything that depends on it.
///
/// ```
/// discovered -> hashed -> chunks_uploaded -> index_uploaded -> committed
///      \           \            \                  \
///       +-----------+------------+------------------+--> failed --retry--> back to the last durable state
///                                                          +--> cleaned (dir vanished: partial objects removed)
/// ignored (empty block, compacted block without --shipper.upload-compacted)
/// adopted: meta.json already in the bucket -> committed, from any unfinished state (or cleaned)
/// reship: committed, but gone from the bucket with the local dir still there -> discovered
/// ```

/// A block's durable lifecycle state, as stored in the ledger.
public enum ShipState: String, Sendable, CaseIterable, Codable {
    case discovered
    case hashed
    case chunksUploaded = "chunks_uploaded"
    case indexUploaded = "index_uploaded"
    case committed
    case failed
    case cleaned
    case ignored

    /// No further work, ever (unless an ignored block becomes eligible).
    public var isFinal: Bool {
        switch self {
        case .committed, .cleaned, .ignored: true
        case .discovered, .hashed, .chunksUploaded, .indexUploaded, .failed: false
        }
    }

    /// The progress states a failed block can return to.
    public var isProgress: Bool {
        switch self {
        case .discovered, .hashed, .chunksUploaded, .indexUploaded: true
        case .committed, .failed, .cleaned, .ignored: false
        }
    }
}

/// What the shipper must do next for a block.
public enum ShipAction: Equatable, Sendable {
    /// Check the bucket for meta.json (adopt), stage by hard links, hash every file, build meta.json.
    case stageAndHash
    /// Upload every `chunks/*` file not yet recorded as uploaded.
    case uploadChunks
    /// Upload `index` unless recorded as uploaded.
    case uploadIndex
    /// Verify every file in the bucket with its recorded size, then upload meta.json last.
    case verifyAndCommit
    /// Wait out the backoff for this attempt number, then send `.retry`.
    case retry(attempt: Int)
    /// The block dir is gone: remove partial objects (or adopt, if meta.json is in the bucket).
    case cleanPartialUpload
    /// Nothing to do.
    case none
}

/// What happened when the shipper performed an action.
public enum ShipEvent: Equatable, Sendable {
    case hashed
    case chunksUploaded
    case indexUploaded
    case committed
    /// `<ULID>/meta.json` is already in the bucket: the block is shipped without uploading.
    case adopted
    /// The action failed. `quarantine` marks an unreadable block that must not hold back newer ones.
    case failed(quarantine: Bool)
    /// The block dir (and any staging copy) is gone before the block could be committed.
    case vanished
    /// The backoff after a failure elapsed.
    case retry
    /// The partial objects of an abandoned block were removed.
    case cleaned
    /// An ignored block became eligible (e.g. `--shipper.upload-compacted` was turned on).
    case eligible
    /// The reconciler found a committed block missing or damaged in the bucket while its local
    /// dir is intact: ship it again from the start.
    case reship
}

/// A committed change of state, appended to the ledger's transition log.
public struct ShipTransition: Equatable, Sendable {
    public let from: ShipState
    public let to: ShipState
}

/// An event that makes no sense in the current state: a bug in the caller, never data-dependent.
public struct InvalidTransition: Error, Equatable, CustomStringConvertible {
    public let state: ShipState
    public let event: ShipEvent
    public var description: String { "event \(event) is not valid in state \(state.rawValue)" }
}

public struct ShipStateMachine: Equatable, Sendable {
    public private(set) var state: ShipState
    /// In `failed`: the progress state a retry returns to; nil once the block is abandoned.
    public private(set) var resumeState: ShipState?
    /// Failed attempts so far.
    public private(set) var failures: Int
    /// In `failed`: the block is unreadable and must not hold back newer blocks.
    public private(set) var quarantined: Bool

    public init(state: ShipState, resumeState: ShipState? = nil, failures: Int = 0, quarantined: Bool = false) {
        self.state = state
        self.resumeState = resumeState
        self.failures = failures
        self.quarantined = quarantined
    }

    /// The state a newly found block starts in.
    public static func initial(ignored: Bool) -> ShipStateMachine {
        ShipStateMachine(state: ignored ? .ignored : .discovered)
    }

    public var nextAction: ShipAction {
        switch state {
        case .discovered: .stageAndHash
        case .hashed: .uploadChunks
        case .chunksUploaded: .uploadIndex
        case .indexUploaded: .verifyAndCommit
        case .failed: resumeState == nil ? .cleanPartialUpload : .retry(attempt: failures)
        case .committed, .cleaned, .ignored: .none
        }
    }

    /// Applies an event; returns the transition to commit to the ledger.
    public mutating func handle(_ event: ShipEvent) throws(InvalidTransition) -> ShipTransition {
        let from = state
        let invalid = InvalidTransition(state: state, event: event)
        switch (state, event) {
        case (.discovered, .hashed): state = .hashed
        case (.hashed, .chunksUploaded): state = .chunksUploaded
        case (.chunksUploaded, .indexUploaded): state = .indexUploaded
        case (.indexUploaded, .committed): state = .committed

        case (.discovered, .adopted), (.hashed, .adopted), (.chunksUploaded, .adopted), (.indexUploaded, .adopted),
            (.failed, .adopted), (.cleaned, .adopted):
            state = .committed
            resumeState = nil

        case (.discovered, .failed(let quarantine)), (.hashed, .failed(let quarantine)),
            (.chunksUploaded, .failed(let quarantine)), (.indexUploaded, .failed(let quarantine)):
            resumeState = state
            state = .failed
            failures += 1
            quarantined = quarantine

        case (.discovered, .vanished), (.hashed, .vanished), (.chunksUploaded, .vanished),
            (.indexUploaded, .vanished), (.failed, .vanished):
            state = .failed
            resumeState = nil
            quarantined = false

        case (.failed, .retry):
            guard let resume = resumeState else { throw invalid }
            state = resume
            resumeState = nil
            quarantined = false

        case (.failed, .cleaned):
            guard resumeState == nil else { throw invalid }
            state = .cleaned

        case (.ignored, .eligible): state = .discovered

        case (.committed, .reship):
            state = .discovered
            failures = 0

        case (.discovered, _), (.hashed, _), (.chunksUploaded, _), (.indexUploaded, _), (.failed, _),
            (.committed, _), (.cleaned, _), (.ignored, _):
            throw invalid
        }
        return ShipTransition(from: from, to: state)
    }
}

/// Exponential backoff with full jitter, bounded. Pure: the random fraction is a parameter.
public struct Backoff: Sendable, Equatable {
    public var baseMillis: Int64
    public var capMillis: Int64

    public init(baseMillis: Int64 = 1_000, capMillis: Int64 = 300_000) {
        self.baseMillis = baseMillis
        self.capMillis = capMillis
    }

    /// Delay before retry number `attempt` (1-based). `jitter` in [0, 1) picks a point in the
    /// upper half of the window, so retries spread out but never collapse to zero.
    public func delayMillis(attempt: Int, jitter: Double) -> Int64 {
        let exponent = min(max(attempt - 1, 0), 30)
        let window = min(capMillis, baseMillis << Int64(exponent))
        return window / 2 + Int64(Double(window / 2) * min(max(jitter, 0), 0.999_999))
    }
}
