/// The per-block ship state machine: a pure value, no I/O. The shipper asks for
/// `nextAction(now:)`, performs it, feeds the outcome back as a `ShipEvent`, and commits the
/// returned `ShipTransition` (with the machine's `persisted` columns) to the ledger before doing
/// anything that depends on it. The machine owns the retry policy: which failures quarantine or
/// abandon a block (`ShipEvent.failure`), how long it backs off, when the shipper waits, and how
/// many attempts one sync pass makes.
///
/// ```
/// discovered -> hashed -> chunks_uploaded -> index_uploaded -> committed
///      \           \            \                  \
///       +-----------+------------+------------------+--> failed --retry--> back to the last durable step
///                                                    \
///                                                     +--> abandoned (dir vanished) --> cleaned (partial objects removed)
/// ignored (empty block, compacted block without --shipper.upload-compacted) --eligible--> discovered
/// adopted: meta.json already in the bucket -> committed, from any unfinished state (or cleaned)
/// reship: committed, but gone from the bucket with the local dir still there -> discovered
/// ```
///
/// `abandoned` is stored as `failed` with no resume state, so the ledger's state names are
/// those of `ShipState`.

/// A block's durable lifecycle state, as stored in the ledger's `state` column.
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
}

public struct ShipStateMachine: Equatable, Sendable {
    /// A durable step of an upload in progress: where a block is, and where a retry returns to.
    public enum Step: CaseIterable, Sendable {
        case discovered
        case hashed
        case chunksUploaded
        case indexUploaded

        public var state: ShipState {
            switch self {
            case .discovered: .discovered
            case .hashed: .hashed
            case .chunksUploaded: .chunksUploaded
            case .indexUploaded: .indexUploaded
            }
        }

        /// The step stored as `state`, or nil for a state that is not a step.
        public init?(_ state: ShipState) {
            switch state {
            case .discovered: self = .discovered
            case .hashed: self = .hashed
            case .chunksUploaded: self = .chunksUploaded
            case .indexUploaded: self = .indexUploaded
            case .committed, .failed, .cleaned, .ignored: return nil
            }
        }
    }

    /// What a failed block keeps: where a retry resumes, whether it is quarantined, and when it
    /// may be tried again.
    public struct Failure: Equatable, Sendable {
        /// The durable step a retry returns to.
        public let resume: Step
        /// The block cannot be read: it is retried on the long backoff, once per pass, and does
        /// not hold back newer blocks.
        public let quarantined: Bool
        /// The earliest time of the next attempt (Unix ms).
        public let nextAttemptAt: Int64

        public init(resume: Step, quarantined: Bool, nextAttemptAt: Int64) {
            self.resume = resume
            self.quarantined = quarantined
            self.nextAttemptAt = nextAttemptAt
        }
    }

    /// Where a block is. Each case carries exactly the data it needs, so no value is illegal.
    public enum Phase: Equatable, Sendable, CustomStringConvertible {
        /// Uploading, at this durable step.
        case progress(Step)
        case committed
        /// An action failed; the block is retried from `Failure.resume`.
        case failed(Failure)
        /// The block dir vanished before commit: no retry can succeed, and its partial objects
        /// are to be removed (or the block adopted if its meta.json landed).
        case abandoned
        /// An abandoned block's partial objects were removed.
        case cleaned
        /// Not shipped (empty, or compacted without `--shipper.upload-compacted`).
        case ignored

        /// The ledger's name for this phase.
        public var state: ShipState {
            switch self {
            case .progress(let step): step.state
            case .committed: .committed
            case .failed, .abandoned: .failed
            case .cleaned: .cleaned
            case .ignored: .ignored
            }
        }

        public var description: String {
            switch self {
            case .progress, .committed, .cleaned, .ignored: state.rawValue
            case .failed(let f): "failed (resumes at \(f.resume.state.rawValue)\(f.quarantined ? ", quarantined" : ""))"
            case .abandoned: "failed (abandoned)"
            }
        }
    }

    /// How failed blocks are retried; the shipper fills it from its flags.
    public struct RetryPolicy: Equatable, Sendable {
        /// Backoff between retries of a failed block.
        public var backoff: Backoff
        /// Backoff for quarantined (unreadable) blocks.
        public var quarantineBackoff: Backoff
        /// Failed attempts one sync pass makes on a block before it gives up until the next pass.
        public var attemptsPerPass: Int
        /// Whether a failed (not quarantined) block holds back newer ones, so commits stay oldest
        /// first as the Compactor expects. False is `--shipper.allow-out-of-order-uploads`: such a
        /// block never waits out its backoff within a pass (that would hold newer blocks back
        /// too); it is retried when due, up to `attemptsPerPass`, and otherwise skipped until the
        /// next pass while newer blocks go on.
        public var holdsBackNewer: Bool

        public init(
            backoff: Backoff = Backoff(baseMillis: 1_000, capMillis: 300_000),
            quarantineBackoff: Backoff = Backoff(baseMillis: 60_000, capMillis: 3_600_000),
            attemptsPerPass: Int = 5, holdsBackNewer: Bool = true
        ) {
            self.backoff = backoff
            self.quarantineBackoff = quarantineBackoff
            self.attemptsPerPass = attemptsPerPass
            self.holdsBackNewer = holdsBackNewer
        }
    }

    public private(set) var phase: Phase
    /// Failed attempts since the block was found (or re-shipped). It outlives the failure, so
    /// the backoff grows from one failure to the next, and the ledger keeps it on every row.
    public private(set) var attempts: Int
    public var policy: RetryPolicy
    /// Failures since this value was made. The shipper loads the machine from the ledger once per
    /// sync pass, so this counts the pass's failures against `policy.attemptsPerPass`.
    public private(set) var failuresThisPass = 0
    /// The shipper sets this when a quarantined block's files changed after it failed (the
    /// operator fixed or replaced it): it is then retried at once, in this pass, instead of after
    /// the long backoff. Not persisted: the shipper looks again on every pass.
    public var changedSinceFailure = false

    public init(_ phase: Phase, attempts: Int = 0, policy: RetryPolicy = RetryPolicy()) {
        self.phase = phase
        self.attempts = max(attempts, 0)
        self.policy = policy
    }

    /// The state a newly found block starts in.
    public static func initial(ignored: Bool) -> ShipStateMachine {
        ShipStateMachine(ignored ? .ignored : .progress(.discovered))
    }

    /// The state as the ledger names it.
    public var state: ShipState { phase.state }

    /// What the shipper must do next, at wall-clock time `now` (Unix ms).
    public func nextAction(now: Int64) -> ShipAction {
        switch phase {
        case .progress(.discovered): .stageAndHash
        case .progress(.hashed): .uploadChunks
        case .progress(.chunksUploaded): .uploadIndex
        case .progress(.indexUploaded): .verifyAndCommit
        case .failed(let failure): retryAction(failure, now: now)
        case .abandoned: .cleanPartialUpload
        case .committed, .cleaned, .ignored: .done
        }
    }

    private func retryAction(_ failure: Failure, now: Int64) -> ShipAction {
        if failure.quarantined {
            // Unreadable: one attempt per pass once due, and never in the way of newer blocks.
            return failuresThisPass == 0 && (now >= failure.nextAttemptAt || changedSinceFailure) ? .retry : .skip
        }
        let due = now >= failure.nextAttemptAt
        guard policy.holdsBackNewer else {
            // Out of order: newer blocks go ahead of this one rather than wait with it.
            return failuresThisPass < policy.attemptsPerPass && due ? .retry : .skip
        }
        // Any other failure holds back newer blocks (commits stay oldest first) until the pass
        // has spent its attempts.
        if failuresThisPass >= policy.attemptsPerPass { return .stopPass }
        return due ? .retry : .wait(until: failure.nextAttemptAt)
    }

    /// Applies an event; returns the transition to commit to the ledger. Every (phase, event)
    /// pair is decided below: a new event or phase does not compile until it is.
    public mutating func handle(_ event: ShipEvent) throws(InvalidTransition) -> ShipTransition {
        let from = state
        switch (phase, event) {
        // The upload, one durable step at a time.
        case (.progress(.discovered), .hashed): phase = .progress(.hashed)
        case (.progress(.hashed), .chunksUploaded): phase = .progress(.chunksUploaded)
        case (.progress(.chunksUploaded), .indexUploaded): phase = .progress(.indexUploaded)
        case (.progress(.indexUploaded), .committed): phase = .committed

        // meta.json is already in the bucket: shipped, from anything unfinished.
        case (.progress, .adopted), (.failed, .adopted), (.abandoned, .adopted), (.cleaned, .adopted):
            phase = .committed

        case (.progress(let step), .failed(let quarantine, let now, let jitter)):
            attempts += 1
            failuresThisPass += 1
            changedSinceFailure = false  // a new failure: only a later change counts
            let backoff = quarantine ? policy.quarantineBackoff : policy.backoff
            let next = now + backoff.delayMillis(attempt: attempts, jitter: jitter)
            phase = .failed(Failure(resume: step, quarantined: quarantine, nextAttemptAt: next))

        case (.progress, .vanished), (.failed, .vanished): phase = .abandoned
        case (.failed(let failure), .retry): phase = .progress(failure.resume)
        case (.abandoned, .cleaned): phase = .cleaned
        case (.ignored, .eligible): phase = .progress(.discovered)
        case (.committed, .reship):
            phase = .progress(.discovered)
            attempts = 0

        // Every other pair is a bug in the caller. Valid events are named in each comment.
        // discovered: hashed, adopted, failed, vanished.
        case (.progress(.discovered), .chunksUploaded), (.progress(.discovered), .indexUploaded),
            (.progress(.discovered), .committed),
            // hashed: chunksUploaded, adopted, failed, vanished.
            (.progress(.hashed), .hashed), (.progress(.hashed), .indexUploaded), (.progress(.hashed), .committed),
            // chunks_uploaded: indexUploaded, adopted, failed, vanished.
            (.progress(.chunksUploaded), .hashed), (.progress(.chunksUploaded), .chunksUploaded),
            (.progress(.chunksUploaded), .committed),
            // index_uploaded: committed, adopted, failed, vanished.
            (.progress(.indexUploaded), .hashed), (.progress(.indexUploaded), .chunksUploaded),
            (.progress(.indexUploaded), .indexUploaded),
            // any step:
            (.progress, .retry), (.progress, .cleaned), (.progress, .eligible), (.progress, .reship),
            // committed: reship.
            (.committed, .hashed), (.committed, .chunksUploaded), (.committed, .indexUploaded),
            (.committed, .committed), (.committed, .adopted), (.committed, .failed), (.committed, .vanished),
            (.committed, .retry), (.committed, .cleaned), (.committed, .eligible),
            // failed: adopted, vanished, retry.
            (.failed, .hashed), (.failed, .chunksUploaded), (.failed, .indexUploaded), (.failed, .committed),
            (.failed, .failed), (.failed, .cleaned), (.failed, .eligible), (.failed, .reship),
            // abandoned: adopted, cleaned.
            (.abandoned, .hashed), (.abandoned, .chunksUploaded), (.abandoned, .indexUploaded),
            (.abandoned, .committed), (.abandoned, .failed), (.abandoned, .vanished), (.abandoned, .retry),
            (.abandoned, .eligible), (.abandoned, .reship),
            // cleaned: adopted.
            (.cleaned, .hashed), (.cleaned, .chunksUploaded), (.cleaned, .indexUploaded), (.cleaned, .committed),
            (.cleaned, .failed), (.cleaned, .vanished), (.cleaned, .retry), (.cleaned, .cleaned),
            (.cleaned, .eligible), (.cleaned, .reship),
            // ignored: eligible.
            (.ignored, .hashed), (.ignored, .chunksUploaded), (.ignored, .indexUploaded), (.ignored, .committed),
            (.ignored, .adopted), (.ignored, .failed), (.ignored, .vanished), (.ignored, .retry),
            (.ignored, .cleaned), (.ignored, .reship):
            throw InvalidTransition(phase: phase, event: event)
        }
        return ShipTransition(from: from, to: state)
    }
}
