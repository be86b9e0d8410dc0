import Foundation
import Ledger
import ObjectStorage
import Shipper
import SkiffCore
import TestSupport
import Testing

@testable import Sidecar

/// The sidecar's periodic reconcile in-process, on real promtool blocks, a real ledger and a
/// filesystem bucket: it runs when due and only then, and with repair on it sends a block whose
/// meta.json vanished from the bucket back to be shipped.
@Suite(.needs(.promtool)) struct PeriodicReconcileTests {
    @Test func repairsDriftWhenDueAndNotBefore() async throws {
        let root = try TempDir()
        defer { root.remove() }
        _ = try await PromBlocks.make(series: 3, hours: 3, stepSeconds: 60, into: root.sub("tsdb"))
        let labels = LabelSet(["cluster": "eu1"])
        let bucket = try FilesystemBucket(directory: root.sub("bucket"))
        let workspace = try await ShipperWorkspace.open(tsdbPath: root.sub("tsdb"), ledgerPath: root.sub("ledger.db"))
        let shipper = try workspace.makeShipper(
            config: ShipperConfig(tsdbPath: root.sub("tsdb"), labels: labels), bucket: bucket, logger: quietLogger)
        let shipped = try await shipper.syncOnce().committed
        try #require(!shipped.isEmpty)
        try FileManager.default.removeItem(atPath: root.sub("bucket/\(shipped[0])/meta.json"))

        let reconcile = PeriodicReconcile(
            ledger: workspace.ledger, bucket: bucket, tsdbPath: root.sub("tsdb"), intervalMillis: 60_000, repair: true,
            logger: quietLogger)
        await reconcile.runIfDue(labels: labels, nowMillis: 1_000_000)
        #expect(try await workspace.ledger.block(shipped[0])?.state == .discovered, "sent back to be shipped")
        // The next pass ships it again; a run before the interval has passed does nothing.
        #expect(try await shipper.syncOnce().committed == [shipped[0]])
        try FileManager.default.removeItem(atPath: root.sub("bucket/\(shipped[0])/meta.json"))
        await reconcile.runIfDue(labels: labels, nowMillis: 1_000_000 + 59_999)
        #expect(try await workspace.ledger.block(shipped[0])?.state == .committed, "not due yet")
        await reconcile.runIfDue(labels: labels, nowMillis: 1_000_000 + 60_000)
        #expect(try await workspace.ledger.block(shipped[0])?.state == .discovered)
    }

    @Test func withoutLabelsOrIntervalNothingRuns() async throws {
        let root = try TempDir()
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.sub("tsdb"), withIntermediateDirectories: true)
        let bucket = try FilesystemBucket(directory: root.sub("bucket"))
        let ledger = try Ledger.open(path: root.sub("ledger.db"))
        for (interval, labels) in [(Int64(0), LabelSet(["cluster": "eu1"])), (60_000, nil)] {
            let reconcile = PeriodicReconcile(
                ledger: ledger, bucket: bucket, tsdbPath: root.sub("tsdb"), intervalMillis: interval, repair: false,
                logger: quietLogger)
            await reconcile.runIfDue(labels: labels, nowMillis: 1_000_000)
        }
        let runs = try Ledger.query(path: root.sub("ledger.db"), sql: "SELECT count(*) FROM reconcile_runs")
        #expect(runs.rows.first?.first == .integer(0))
    }
}
