import Testing

@testable import SkiffCore

@Suite struct ShipStateMachineTests {
    typealias Machine = ShipStateMachine
    static let policy = Machine.RetryPolicy(
        backoff: Backoff(baseMillis: 1_000, capMillis: 8_000), quarantineBackoff: Backoff(baseMillis: 60_000, capMillis: 60_000),
        attemptsPerPass: 3)
    /// The same policy under `--shipper.allow-out-of-order-uploads`.
    static let outOfOrder = {
        var p = policy
        p.holdsBackNewer = false
        return p
    }()

    static func failure(quarantine: Bool = false, at now: Int64 = 10_000) -> ShipEvent {
        .failed(quarantine: quarantine, at: now, jitter: 0)
    }

    @Test func happyPathWalksEveryStep() throws {
        var m = Machine.initial(ignored: false)
        var seen: [ShipAction] = []
        for event: ShipEvent in [.hashed, .chunksUploaded, .indexUploaded, .committed] {
            seen.append(m.nextAction(now: 0))
            _ = try m.handle(event)
        }
        #expect(seen == [.stageAndHash, .uploadChunks, .uploadIndex, .verifyAndCommit])
        #expect(m.phase == .committed)
        #expect(m.nextAction(now: 0) == .done)
    }

    @Test(arguments: Machine.Step.allCases)
    func aFailureWaitsOutItsBackoffThenResumesFromTheLastDurableStep(_ step: Machine.Step) throws {
        var m = Machine(.progress(step), policy: Self.policy)
        let t = try m.handle(Self.failure(at: 10_000))
        #expect(t == ShipTransition(from: step.state, to: .failed))
        // Attempt 1 of a 1 s base: half the window plus jitter 0, 500 ms.
        #expect(m.phase == .failed(.init(resume: step, quarantined: false, nextAttemptAt: 10_500)))
        #expect(m.attempts == 1)
        #expect(m.nextAction(now: 10_000) == .wait(until: 10_500))
        #expect(m.nextAction(now: 10_500) == .retry)
        _ = try m.handle(.retry)
        #expect(m.phase == .progress(step))
        // The count outlives the failure, so the next backoff is longer.
        _ = try m.handle(Self.failure(at: 20_000))
        #expect(m.attempts == 2)
        #expect(m.persisted.nextAttemptAt == 21_000)
    }

    @Test func aPassGivesUpAfterItsAttemptsAndTheNextPassStartsAfresh() throws {
        var m = Machine(.progress(.hashed), policy: Self.policy)
        for attempt in 1...Self.policy.attemptsPerPass {
            _ = try m.handle(Self.failure(at: Int64(attempt) * 100_000))
            if attempt < Self.policy.attemptsPerPass {
                #expect(m.nextAction(now: .max) == .retry)
                _ = try m.handle(.retry)
            }
        }
        #expect(m.nextAction(now: .max) == .stopPass)
        // The next pass loads the machine from the ledger: a fresh count, the same failure.
        let next = try #require(Machine(m.persisted, policy: Self.policy))
        #expect(next.phase == m.phase && next.attempts == m.attempts)
        #expect(next.nextAction(now: .max) == .retry)
    }

    @Test func aQuarantinedBlockIsTriedOncePerPassWhenDueAndNeverBlocks() throws {
        var m = Machine(.progress(.discovered), policy: Self.policy)
        _ = try m.handle(Self.failure(quarantine: true, at: 0))
        #expect(
            m.persisted == .init(state: .failed, resumeState: .discovered, quarantined: true, attempts: 1, nextAttemptAt: 30_000))
        #expect(m.nextAction(now: 0) == .skip)
        #expect(m.nextAction(now: .max) == .skip)  // already failed in this pass
        var next = try #require(Machine(m.persisted, policy: Self.policy))
        #expect(next.nextAction(now: 29_999) == .skip)
        #expect(next.nextAction(now: 30_000) == .retry)
        _ = try next.handle(.retry)
        #expect(next.phase == .progress(.discovered))
        #expect(!next.persisted.quarantined)
    }

    @Test func outOfOrderAFailedBlockNeverWaitsNorStopsThePass() throws {
        var m = Machine(.progress(.hashed), policy: Self.outOfOrder)
        _ = try m.handle(Self.failure(at: 10_000))
        // Not due: newer blocks go on rather than wait behind it.
        #expect(m.nextAction(now: 10_000) == .skip)
        #expect(m.nextAction(now: 10_500) == .retry)
        for attempt in 2...Self.policy.attemptsPerPass {
            _ = try m.handle(.retry)
            _ = try m.handle(Self.failure(at: Int64(attempt) * 100_000))
        }
        // Out of attempts: skipped until the next pass, which does not stop.
        #expect(m.nextAction(now: .max) == .skip)
        let next = try #require(Machine(m.persisted, policy: Self.outOfOrder))
        #expect(next.nextAction(now: .max) == .retry)
        #expect(next.nextAction(now: 0) == .skip)
    }

    /// Out of order asks for exactly what holding back asks for, except that every wait and every
    /// stopped pass becomes a skip: from every phase, at every count of this pass's failures, due
    /// or not.
    @Test func outOfOrderTurnsOnlyWaitsAndStoppedPassesIntoSkips() throws {
        var starts = Self.machines
        for step in Machine.Step.allCases {
            for quarantine in [false, true] {
                var m = Machine(.progress(step), policy: Self.policy)
                for failures in 1...Self.policy.attemptsPerPass + 1 {
                    _ = try m.handle(Self.failure(quarantine: quarantine, at: Int64(failures) * 100_000))
                    starts.append(m)
                    _ = try m.handle(.retry)
                }
            }
        }
        var seen = Set<String>()
        for start in starts {
            for now: Int64 in [0, 7, 100_000, .max] {
                var holding = start
                holding.policy = Self.policy
                var outOfOrder = start
                outOfOrder.policy = Self.outOfOrder
                let held = holding.nextAction(now: now)
                let expected: ShipAction
                switch held {
                case .wait, .stopPass: expected = .skip
                case .stageAndHash, .uploadChunks, .uploadIndex, .verifyAndCommit, .cleanPartialUpload, .retry, .skip, .done:
                    expected = held
                }
                #expect(outOfOrder.nextAction(now: now) == expected, "\(start.phase) at \(now)")
                seen.insert(String("\(held)".prefix { $0 != "(" }))
            }
        }
        #expect(seen.isSuperset(of: ["wait", "stopPass", "retry", "skip"]), "\(seen)")
    }

    @Test func errorCodesAreClassifiedByTheMachine() {
        #expect(ShipEvent.failure(.blockVanished, at: 5, jitter: 0.5) == .vanished)
        #expect(ShipEvent.failure(.corruptBlock, at: 5, jitter: 0.5) == .failed(quarantine: true, at: 5, jitter: 0.5))
        for code: SkiffError.Code in [.bucket, .io, .injected, .notFound] {
            #expect(ShipEvent.failure(code, at: 5, jitter: 0.5) == .failed(quarantine: false, at: 5, jitter: 0.5))
        }
        for code: SkiffError.Code in [.ledger, .invalidArgument, .invalidTransition] {
            #expect(ShipEvent.failure(code, at: 5, jitter: 0.5) == nil, "\(code) is not the block's failure")
        }
    }

    @Test(arguments: Machine.Step.allCases)
    func vanishedBlocksAreCleanedNotRetried(_ step: Machine.Step) throws {
        for start in [Machine.Phase.progress(step), .failed(.init(resume: step, quarantined: false, nextAttemptAt: 0))] {
            var m = Machine(start, attempts: 1)
            _ = try m.handle(.vanished)
            #expect(m.phase == .abandoned)
            #expect(m.persisted == .init(state: .failed, attempts: 1))
            #expect(m.nextAction(now: 0) == .cleanPartialUpload)
            #expect(throws: InvalidTransition.self) { try m.handle(.retry) }
            #expect(try m.handle(.cleaned) == ShipTransition(from: .failed, to: .cleaned))
        }
    }

    @Test func reshipStartsACommittedBlockOver() throws {
        var m = Machine(.committed, attempts: 2)
        #expect(try m.handle(.reship) == ShipTransition(from: .committed, to: .discovered))
        #expect(m.nextAction(now: 0) == .stageAndHash)
        #expect(m.attempts == 0)
    }

    @Test func ignoredBlockBecomesDiscoveredWhenEligible() throws {
        var m = Machine.initial(ignored: true)
        #expect(m.nextAction(now: 0) == .done)
        _ = try m.handle(.eligible)
        #expect(m.phase == .progress(.discovered))
    }

    @Test func anInvalidTransitionIsReportedAsABugNotALedgerError() {
        var m = Machine(.committed)
        #expect(throws: InvalidTransition(phase: .committed, event: .hashed)) { try m.handle(.hashed) }
        let error = SkiffError(InvalidTransition(phase: .committed, event: .hashed))
        #expect(error.code == .invalidTransition && !error.transient)
        #expect(error.message.contains("event hashed is not valid in state committed"))
    }

    @Test func rowsFromTheLedgerLoadIgnoringColumnsThatBelongToFailed() throws {
        // Written before the machine carried its data: a quarantined block adopted later kept its flag.
        let adopted = try #require(Machine(.init(state: .committed, quarantined: true, attempts: 2)))
        #expect(adopted.phase == .committed && adopted.attempts == 2)
        #expect(adopted.persisted == .init(state: .committed, attempts: 2))
        // A failure without a next attempt time is due at once.
        let due = try #require(Machine(.init(state: .failed, resumeState: .hashed, attempts: 1)))
        #expect(due.nextAction(now: 0) == .retry)
        // A resume state that is not a step cannot be loaded.
        #expect(Machine(.init(state: .failed, resumeState: .committed)) == nil)
    }

    // MARK: - Every (state, event) pair, enumerated from the types

    /// Every phase, from every row the ledger can hold: each `ShipState`, and for `failed` each
    /// resume step (or none) with and without quarantine. A new phase must load from some row,
    /// so it is enumerated here too (`everyPhaseATransitionReachesIsEnumerated` checks).
    static let machines: [Machine] = {
        var out: [Machine] = []
        for state in ShipState.allCases {
            let resumes: [ShipState?] = state == .failed ? [nil] + Machine.Step.allCases.map(\.state) : [nil]
            for resume in resumes {
                for quarantined in state == .failed && resume != nil ? [false, true] : [false] {
                    let row = Machine.Persisted(
                        state: state, resumeState: resume, quarantined: quarantined, attempts: 1, nextAttemptAt: 7)
                    out.append(Machine(row)!)
                }
            }
        }
        return out
    }()

    /// Examples of each event kind. A new `ShipEvent` case needs a `Kind` (`ShipEvent.kind` is an
    /// exhaustive switch), and a new `Kind` does not compile here until it has examples.
    static func events(_ kind: ShipEvent.Kind) -> [ShipEvent] {
        switch kind {
        case .hashed: [.hashed]
        case .chunksUploaded: [.chunksUploaded]
        case .indexUploaded: [.indexUploaded]
        case .committed: [.committed]
        case .adopted: [.adopted]
        case .failed: [false, true].map { ShipEvent.failed(quarantine: $0, at: 100, jitter: 0.5) }
        case .vanished: [.vanished]
        case .retry: [.retry]
        case .cleaned: [.cleaned]
        case .eligible: [.eligible]
        case .reship: [.reship]
        }
    }

    static let allEvents = ShipEvent.Kind.allCases.flatMap(events)

    /// The phase's name in the table below (`abandoned` is stored as failed, but is its own phase).
    static func name(_ phase: Machine.Phase) -> String {
        switch phase {
        case .progress, .committed, .failed, .cleaned, .ignored: phase.state.rawValue
        case .abandoned: "abandoned"
        }
    }

    static let valid: Set<String> = [
        "discovered/hashed", "hashed/chunksUploaded", "chunks_uploaded/indexUploaded", "index_uploaded/committed",
        "discovered/adopted", "hashed/adopted", "chunks_uploaded/adopted", "index_uploaded/adopted", "failed/adopted",
        "abandoned/adopted", "cleaned/adopted",
        "discovered/failed", "hashed/failed", "chunks_uploaded/failed", "index_uploaded/failed",
        "discovered/vanished", "hashed/vanished", "chunks_uploaded/vanished", "index_uploaded/vanished", "failed/vanished",
        "failed/retry", "abandoned/cleaned", "ignored/eligible", "committed/reship",
    ]

    /// Every (phase, event) pair not listed as valid is rejected and leaves the machine as it
    /// was; every valid one reports the stored states it moves between, and its result survives
    /// a round trip through the ledger's columns.
    @Test func everyPairIsDecidedAsTheTableSays() throws {
        #expect(Set(Self.machines.map { Self.name($0.phase) }).count == ShipState.allCases.count + 1)
        var seen = Set<String>()
        for policy in [Self.policy, Self.outOfOrder] {
            for var machine in Self.machines {
                machine.policy = policy
                for event in Self.allEvents {
                    let pair = "\(Self.name(machine.phase))/\(event.kind.rawValue)"
                    seen.insert(pair)
                    var m = machine
                    switch Result(catching: { () throws(InvalidTransition) in try m.handle(event) }) {
                    case .success(let t):
                        #expect(Self.valid.contains(pair), "\(pair) was accepted")
                        #expect(t == ShipTransition(from: machine.state, to: m.state), "\(pair)")
                        let loaded = try #require(Machine(m.persisted), "\(pair)")
                        #expect(loaded.phase == m.phase && loaded.attempts == m.attempts, "\(pair)")
                    case .failure(let error):
                        #expect(!Self.valid.contains(pair), "\(pair) was refused")
                        #expect(error == InvalidTransition(phase: machine.phase, event: event))
                        #expect(m == machine, "\(pair) changed the machine")
                    }
                }
            }
        }
        #expect(seen.isSuperset(of: Self.valid))
        #expect(seen.count == (ShipState.allCases.count + 1) * ShipEvent.Kind.allCases.count)
    }

    @Test func everyPhaseATransitionReachesIsEnumerated() {
        let names = Set(Self.machines.map { Self.name($0.phase) })
        for machine in Self.machines {
            for event in Self.allEvents {
                var m = machine
                guard (try? m.handle(event)) != nil else { continue }
                #expect(names.contains(Self.name(m.phase)), "\(machine.phase) + \(event.kind)")
            }
        }
    }

    /// Whatever the machine asks for, the events its action can end in are accepted.
    @Test func everyActionIsAnsweredByAnEventTheMachineAccepts() throws {
        for policy in [Self.policy, Self.outOfOrder] {
            for var machine in Self.machines {
                machine.policy = policy
                let action = machine.nextAction(now: .max)
                let outcomes: [ShipEvent]
                switch action {
                case .stageAndHash: outcomes = [.hashed, .adopted, Self.failure(), .vanished]
                case .uploadChunks: outcomes = [.chunksUploaded, .adopted, Self.failure(), .vanished]
                case .uploadIndex: outcomes = [.indexUploaded, .adopted, Self.failure(), .vanished]
                case .verifyAndCommit: outcomes = [.committed, .adopted, Self.failure(), .vanished]
                case .cleanPartialUpload: outcomes = [.cleaned, .adopted]
                case .retry: outcomes = [.retry]
                case .wait, .skip, .stopPass, .done: outcomes = []
                }
                for event in outcomes {
                    var m = machine
                    #expect(throws: Never.self, "\(machine.phase): \(action) -> \(event.kind)") { try m.handle(event) }
                }
            }
        }
    }
}
