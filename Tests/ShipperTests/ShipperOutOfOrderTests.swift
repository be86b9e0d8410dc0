import Foundation
import Ledger
import SkiffCore
import TSDB
import TestSupport
import Testing

@testable import Shipper

/// `--shipper.allow-out-of-order-uploads`: a block whose upload fails no longer holds back newer
/// ones; it is retried at the next pass.
@Suite(.needs(.promtool)) struct ShipperOutOfOrderTests {
    /// The oldest block's first chunk upload fails once (a transient bucket error, not a
    /// quarantine); the clock stands still, so its retry is not due within the pass.
    static let failOldestOnce = "before:upload:chunks/000001=error@1"

    @Test func withTheFlagNewerBlocksCommitPastAFailedOne() async throws {
        let f = try await ShipperTests.Fixture()
        defer { f.dir.remove() }
        let (oldest, newer) = (f.blocks[0], Array(f.blocks.dropFirst()))
        let summary = try await f.shipper(failpoints: Self.failOldestOnce) { $0.allowOutOfOrderUploads = true }.syncOnce()
        #expect(summary.committed == newer, "newer blocks commit in the same pass, oldest first among them")
        #expect(summary.blockedBy == nil)
        #expect(summary.skippedAfterFailure.map(\.ulid) == [oldest])
        #expect(summary.skippedAfterFailure.first?.error.code == .injected)
        #expect(summary.failures == 1 && summary.quarantined.isEmpty)
        let record = try #require(try await f.ledger.block(oldest))
        #expect(record.state == .failed && !record.quarantined)
        #expect(try await !f.bucket.exists(key: "\(oldest)/meta.json"))
        // The next pass, once the backoff is over, ships it.
        let next = try await f.shipper(start: 1_700_000_060_000) { $0.allowOutOfOrderUploads = true }.syncOnce()
        #expect(next.committed == [oldest] && next.skippedAfterFailure.isEmpty)
        #expect(ShipperMetaFile.read(tsdbPath: f.tsdb) == f.blocks)
    }

    @Test func withoutTheFlagNewerBlocksWait() async throws {
        let f = try await ShipperTests.Fixture()
        defer { f.dir.remove() }
        let shipper = try f.shipper(failpoints: Self.failOldestOnce, attemptsPerPass: 1) { _ in }
        #expect(!shipper.config.allowOutOfOrderUploads)
        let summary = try await shipper.syncOnce()
        #expect(summary.committed.isEmpty)
        #expect(summary.blockedBy?.ulid == f.blocks[0])
        #expect(summary.skippedAfterFailure.isEmpty)
        for newer in f.blocks.dropFirst() { #expect(try await f.state(newer) == .discovered) }
    }

    /// Out of order, the pass never sleeps out a backoff: that would hold newer blocks back too.
    @Test func withTheFlagAFailedBlockIsRetriedWhenDueButNeverWaitedFor() async throws {
        let f = try await ShipperTests.Fixture()
        defer { f.dir.remove() }
        // The clock moves only when the shipper sleeps: holding back, it would sleep out the
        // backoff and retry each block at once; out of order it must not.
        let shipper = try f.shipper(
            failpoints: "before:upload:chunks/000001=error@1,before:upload:index=error@1", attemptsPerPass: 5
        ) { $0.allowOutOfOrderUploads = true }
        let summary = try await shipper.syncOnce()
        // chunks failed first and was skipped; the next block's index then failed and it was
        // skipped too; the rest went on.
        #expect(summary.skippedAfterFailure.map(\.ulid) == [f.blocks[0], f.blocks[1]])
        #expect(summary.committed == Array(f.blocks.dropFirst(2)))
        #expect(summary.failures == 2)
    }
}
