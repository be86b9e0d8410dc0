import Logging
import SkiffCore
import Testing

@testable import Sidecar

/// The readiness signal the gRPC server and the shipper await instead of polling.
@Suite struct SidecarStateTests {
    let labels = LabelSet(["cluster": "eu1", "replica": "0"])

    @Test func labelsKnownReturnsAtOnceWhenTheLabelsAreKnown() async throws {
        let state = SidecarState()
        state.update(labels: labels, lowestTimestampMillis: 5)
        #expect(try await state.labelsKnown() == labels)
        #expect(state.lowestTimestampMillis == 5)
    }

    @Test func everyWaiterResumesWithTheFirstLabels() async throws {
        let state = SidecarState()
        try await withThrowingTaskGroup(of: LabelSet.self) { group in
            for _ in 0..<5 { group.addTask { try await state.labelsKnown() } }
            // The waiters may or may not have suspended yet: both paths must end with the labels.
            await Task.yield()
            state.update(labels: labels, lowestTimestampMillis: nil)
            var received = 0
            for try await got in group {
                #expect(got == labels)
                received += 1
            }
            #expect(received == 5)
        }
    }

    @Test func aCancelledWaiterThrowsAndLeavesNoneBehind() async throws {
        let state = SidecarState()
        try await withThrowingTaskGroup(of: LabelSet.self) { group in
            group.addTask { try await state.labelsKnown() }
            await Task.yield()
            group.cancelAll()
            await #expect(throws: CancellationError.self) { _ = try await group.next() }
        }
        // Later waiters still get the labels.
        state.update(labels: labels, lowestTimestampMillis: nil)
        #expect(try await state.labelsKnown() == labels)
    }

    @Test func theShipperGivesUpWithThanosMessageAfterTheReadyTimeout() async throws {
        let state = SidecarState()
        let started = ContinuousClock.now
        let error = await #expect(throws: SkiffError.self) {
            try await SidecarRunner.labels(of: state, waitingUpTo: .milliseconds(200), logger: Logger(label: "test"))
        }
        #expect(error?.message.hasPrefix("aborting as no external labels found after waiting") == true)
        #expect(ContinuousClock.now - started >= .milliseconds(200))
    }

    @Test func theShipperGetsTheLabelsAsSoonAsTheyArrive() async throws {
        let state = SidecarState()
        try await withThrowingTaskGroup(of: LabelSet.self) { group in
            group.addTask { try await SidecarRunner.labels(of: state, waitingUpTo: .seconds(600), logger: Logger(label: "test")) }
            await Task.yield()
            state.update(labels: labels, lowestTimestampMillis: nil)
            let first = try await group.next()
            #expect(first == labels)
        }
    }
}
