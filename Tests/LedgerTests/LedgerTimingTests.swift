import SkiffCore
import TestSupport
import Testing

@testable import Ledger

/// `LedgerTiming` counts every read and write a caller waited for, and what a pass added.
@Suite struct LedgerTimingTests {
    @Test func readsAndWritesAreCountedAndTimed() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let ledger = try Ledger.open(path: tmp.sub("ledger.db"))
        let opened = ledger.timing.current
        try await ledger.insertBlock(BlockSummary(LedgerTests.meta), machine: .initial(ignored: false), reason: nil, at: 1)
        _ = try await ledger.blocks()
        _ = try await ledger.files(LedgerTests.meta.ulid)
        let pass = ledger.timing.current.since(opened)
        #expect(pass.writes == 1)
        #expect(pass.reads == 2)
        #expect(pass.transactions == 3)
        #expect(pass.writeWorked > .zero && pass.readWorked > .zero)
        #expect(pass.writeWaited >= pass.writeWorked && pass.readWaited >= pass.readWorked, "a call waits for its work")
        #expect(pass.waited == pass.readWaited + pass.writeWaited)
    }

    @Test(arguments: [
        (Duration.zero, "0.000"), (.microseconds(7), "0.007"), (.microseconds(1234), "1.234"),
        (.milliseconds(1500), "1500.000"), (.nanoseconds(999), "0.000"),
    ])
    func millisecondsAreWrittenToTheMicrosecond(_ duration: Duration, _ text: String) {
        #expect(LedgerTiming.Totals.milliseconds(duration) == text)
    }
}
