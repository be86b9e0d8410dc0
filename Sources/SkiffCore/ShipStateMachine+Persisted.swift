extension ShipStateMachine {
    /// The machine as a ledger `blocks` row stores it, one column each. Only a failed block has
    /// a resume state, a quarantine flag and a next attempt time.
    public struct Persisted: Equatable, Sendable {
        public var state: ShipState
        /// In `failed`: the step a retry returns to; nil once the block is abandoned.
        public var resumeState: ShipState?
        public var quarantined: Bool
        public var attempts: Int
        public var nextAttemptAt: Int64?

        public init(
            state: ShipState, resumeState: ShipState? = nil, quarantined: Bool = false, attempts: Int = 0,
            nextAttemptAt: Int64? = nil
        ) {
            self.state = state
            self.resumeState = resumeState
            self.quarantined = quarantined
            self.attempts = attempts
            self.nextAttemptAt = nextAttemptAt
        }
    }

    /// The columns to store.
    public var persisted: Persisted {
        switch phase {
        case .progress, .committed, .abandoned, .cleaned, .ignored:
            Persisted(state: state, attempts: attempts)
        case .failed(let f):
            Persisted(
                state: .failed, resumeState: f.resume.state, quarantined: f.quarantined, attempts: attempts,
                nextAttemptAt: f.nextAttemptAt)
        }
    }

    /// Loads a stored row. The resume state, quarantine flag and next attempt time are read only
    /// in `failed` (rows from before the machine carried its data may have them elsewhere, e.g. a
    /// quarantined block adopted later kept its flag); a failed row without a next attempt time
    /// is due at once. Nil when a failed row's resume state is not a step (a damaged ledger: the
    /// schema's CHECK allows only steps).
    public init?(_ row: Persisted, policy: RetryPolicy = RetryPolicy()) {
        let phase: Phase
        switch row.state {
        case .discovered, .hashed, .chunksUploaded, .indexUploaded:
            guard let step = Step(row.state) else { return nil }
            phase = .progress(step)
        case .committed: phase = .committed
        case .failed:
            if let resume = row.resumeState {
                guard let step = Step(resume) else { return nil }
                phase = .failed(Failure(resume: step, quarantined: row.quarantined, nextAttemptAt: row.nextAttemptAt ?? 0))
            } else {
                phase = .abandoned
            }
        case .cleaned: phase = .cleaned
        case .ignored: phase = .ignored
        }
        self.init(phase, attempts: row.attempts, policy: policy)
    }
}
