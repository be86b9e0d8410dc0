import Foundation
import Testing

@testable import SkiffCore

@Suite struct ShipStateMachineTests {
    @Test func happyPathWalksEveryProgressState() throws {
        var m = ShipStateMachine.initial(ignored: false)
        var seen: [ShipAction] = []
        for event: ShipEvent in [.hashed, .chunksUploaded, .indexUploaded, .committed] {
            seen.append(m.nextAction)
            _ = try m.handle(event)
        }
        #expect(seen == [.stageAndHash, .uploadChunks, .uploadIndex, .verifyAndCommit])
        #expect(m.state == .committed)
        #expect(m.nextAction == .none)
    }

    @Test(arguments: [ShipState.discovered, .hashed, .chunksUploaded, .indexUploaded])
    func failureResumesFromTheLastDurableState(_ state: ShipState) throws {
        var m = ShipStateMachine(state: state)
        let t = try m.handle(.failed(quarantine: false))
        #expect(t == ShipTransition(from: state, to: .failed))
        #expect(m.resumeState == state)
        #expect(m.failures == 1)
        #expect(m.nextAction == .retry(attempt: 1))
        _ = try m.handle(.retry)
        #expect(m.state == state)
        _ = try m.handle(.failed(quarantine: false))
        #expect(m.failures == 2)
    }

    @Test func quarantineIsRememberedUntilRetry() throws {
        var m = ShipStateMachine(state: .discovered)
        _ = try m.handle(.failed(quarantine: true))
        #expect(m.quarantined)
        _ = try m.handle(.retry)
        #expect(!m.quarantined)
        #expect(m.state == .discovered)
    }

    @Test(arguments: [ShipState.discovered, .hashed, .chunksUploaded, .indexUploaded, .failed])
    func vanishedBlocksAreCleanedNotRetried(_ state: ShipState) throws {
        var m = ShipStateMachine(state: state, resumeState: state == .failed ? .hashed : nil)
        _ = try m.handle(.vanished)
        #expect(m.state == .failed)
        #expect(m.resumeState == nil)
        #expect(m.nextAction == .cleanPartialUpload)
        #expect(throws: InvalidTransition.self) { try m.handle(.retry) }
        _ = try m.handle(.cleaned)
        #expect(m.state == .cleaned)
    }

    @Test(arguments: [ShipState.discovered, .hashed, .chunksUploaded, .indexUploaded, .failed, .cleaned])
    func adoptionCommitsFromAnyUnfinishedState(_ state: ShipState) throws {
        var m = ShipStateMachine(state: state, resumeState: state == .failed ? .discovered : nil)
        #expect(try m.handle(.adopted) == ShipTransition(from: state, to: .committed))
    }

    @Test func reshipStartsACommittedBlockOver() throws {
        var m = ShipStateMachine(state: .committed, failures: 2)
        #expect(try m.handle(.reship) == ShipTransition(from: .committed, to: .discovered))
        #expect(m.nextAction == .stageAndHash)
        #expect(m.failures == 0)
    }

    @Test func failedBlockWithAResumeStateCannotBeCleaned() {
        var m = ShipStateMachine(state: .failed, resumeState: .hashed, failures: 1)
        #expect(throws: InvalidTransition.self) { try m.handle(.cleaned) }
    }

    @Test func ignoredBlockBecomesDiscoveredWhenEligible() throws {
        var m = ShipStateMachine.initial(ignored: true)
        #expect(m.nextAction == .none)
        _ = try m.handle(.eligible)
        #expect(m.state == .discovered)
    }

    /// Every (state, event) pair not listed as valid must be rejected: the machine never skips a step.
    @Test func everyOtherPairIsInvalid() {
        let events: [ShipEvent] = [
            .hashed, .chunksUploaded, .indexUploaded, .committed, .adopted, .failed(quarantine: false),
            .failed(quarantine: true), .vanished, .retry, .cleaned, .eligible, .reship,
        ]
        let valid: Set<String> = [
            "discovered/hashed", "hashed/chunksUploaded", "chunksUploaded/indexUploaded", "indexUploaded/committed",
            "discovered/adopted", "hashed/adopted", "chunksUploaded/adopted", "indexUploaded/adopted", "failed/adopted",
            "cleaned/adopted", "committed/reship",
            "discovered/failed", "hashed/failed", "chunksUploaded/failed", "indexUploaded/failed",
            "discovered/vanished", "hashed/vanished", "chunksUploaded/vanished", "indexUploaded/vanished",
            "failed/vanished", "failed/retry", "ignored/eligible",
        ]
        for state in ShipState.allCases {
            for event in events {
                var m = ShipStateMachine(state: state, resumeState: state == .failed ? .hashed : nil)
                let name = "\(state)/\(event)".replacingOccurrences(of: "(quarantine: false)", with: "")
                    .replacingOccurrences(of: "(quarantine: true)", with: "")
                let ok = (try? m.handle(event)) != nil
                #expect(ok == valid.contains(name), "\(name)")
            }
        }
    }

    @Test func backoffGrowsIsBoundedAndJittered() {
        let b = Backoff(baseMillis: 1_000, capMillis: 10_000)
        #expect(b.delayMillis(attempt: 1, jitter: 0) == 500)
        #expect(b.delayMillis(attempt: 1, jitter: 0.999) >= 999)
        #expect(b.delayMillis(attempt: 3, jitter: 0) == 2_000)
        #expect(b.delayMillis(attempt: 50, jitter: 0.5) <= 10_000)
        #expect(b.delayMillis(attempt: 50, jitter: 0) == 5_000)
    }
}
