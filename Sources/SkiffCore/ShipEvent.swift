/// What the shipper must do next for a block (`ShipStateMachine.nextAction(now:)`).
public enum ShipAction: Equatable, Sendable {
    /// Check the bucket for meta.json (adopt), stage by hard links, hash every file, build meta.json.
    case stageAndHash
    /// Upload every `chunks/*` file not yet recorded as uploaded.
    case uploadChunks
    /// Upload `index` unless recorded as uploaded.
    case uploadIndex
    /// Verify every file in the bucket with its recorded size, then upload meta.json last.
    case verifyAndCommit
    /// The block dir is gone: remove partial objects (or adopt, if meta.json is in the bucket).
    case cleanPartialUpload
    /// The backoff is over: send `.retry`, which returns the block to its last durable step.
    case retry
    /// The backoff is not over: sleep until this time (Unix ms), then ask again. Newer blocks
    /// wait behind this one meanwhile.
    case wait(until: Int64)
    /// A quarantined block that is not due, or already tried in this pass (or, when the policy
    /// does not hold back newer blocks, any failed block not due or out of attempts): leave it;
    /// newer blocks go ahead.
    case skip
    /// The pass has spent its attempts on this block: stop the pass; newer blocks wait for the next.
    case stopPass
    /// Nothing to do: committed, cleaned or ignored.
    case done
}

/// What happened when the shipper performed an action.
public enum ShipEvent: Equatable, Sendable {
    case hashed
    case chunksUploaded
    case indexUploaded
    case committed
    /// `<ULID>/meta.json` is already in the bucket: the block is shipped without uploading.
    case adopted
    /// The action failed at `at` (Unix ms). `quarantine`: the block cannot be read and must not
    /// hold back newer ones. `jitter` in [0, 1) picks the retry time within the backoff window.
    /// Made by `failure(_:at:jitter:)`, which decides what an error code means.
    case failed(quarantine: Bool, at: Int64, jitter: Double)
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

    /// The event for an action that failed with an error of `code`, or nil when the error is not
    /// the block's: a broken ledger, a usage error or a bug stops the pass and is thrown.
    public static func failure(_ code: SkiffError.Code, at now: Int64, jitter: Double) -> ShipEvent? {
        switch code {
        case .blockVanished: .vanished
        case .corruptBlock: .failed(quarantine: true, at: now, jitter: jitter)
        case .bucket, .io, .prometheus, .injected, .notFound: .failed(quarantine: false, at: now, jitter: jitter)
        case .ledger, .invalidArgument, .invalidTransition: nil
        }
    }

    /// The event without its data, one case per event: what tests enumerate (`Kind.allCases`).
    public enum Kind: String, CaseIterable, Sendable {
        case hashed, chunksUploaded, indexUploaded, committed, adopted, failed, vanished, retry, cleaned, eligible,
            reship
    }

    public var kind: Kind {
        switch self {
        case .hashed: .hashed
        case .chunksUploaded: .chunksUploaded
        case .indexUploaded: .indexUploaded
        case .committed: .committed
        case .adopted: .adopted
        case .failed: .failed
        case .vanished: .vanished
        case .retry: .retry
        case .cleaned: .cleaned
        case .eligible: .eligible
        case .reship: .reship
        }
    }
}

/// A committed change of state, appended to the ledger's transition log.
public struct ShipTransition: Equatable, Sendable {
    public let from: ShipState
    public let to: ShipState
}

/// An event that makes no sense in the current phase: a bug in the caller, never data-dependent.
public struct InvalidTransition: Error, Equatable, CustomStringConvertible {
    public let phase: ShipStateMachine.Phase
    public let event: ShipEvent
    public var description: String { "event \(event.kind.rawValue) is not valid in state \(phase)" }
}

extension SkiffError {
    /// An invalid transition is a bug in skiff: neither a retry nor the operator can fix it.
    public init(_ invalid: InvalidTransition) {
        self.init(.invalidTransition, "internal error (a bug in skiff; please report it): \(invalid)", transient: false)
    }
}
