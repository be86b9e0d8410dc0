import Foundation
import Ledger
import Logging
import ObjectStorage
import SkiffCore
import Synchronization
import TSDB
import TestSupport
import Testing

@testable import Shipper

/// In-process shipping on real promtool blocks, a real filesystem bucket and a real ledger file.
@Suite(.needs(.promtool)) struct ShipperTests {
    /// Real blocks, made once and copied per test.
    static let pristine = MadeOnce {
        let dir = try TempDir()
        _ = try await PromBlocks.make(series: 4, hours: 7, stepSeconds: 60, into: dir.sub("blocks"))
        return dir.sub("blocks")
    }

    struct Fixture {
        let dir: TempDir
        let ledger: Ledger
        let bucket: FilesystemBucket
        var tsdb: String { dir.sub("tsdb") }
        var blocks: [ULID] {
            ((try? FileManager.default.contentsOfDirectory(atPath: tsdb)) ?? []).compactMap(ULID.init).sorted()
        }

        init() async throws {
            dir = try TempDir()
            try FileManager.default.copyItem(atPath: try await ShipperTests.pristine.value(), toPath: dir.sub("tsdb"))
            ledger = try Ledger.open(path: dir.sub("ledger.db"))
            bucket = try FilesystemBucket(directory: dir.sub("bucket"))
        }

        func shipper(failpoints: String = "", uploadCompacted: Bool = false, attemptsPerPass: Int = 3) throws -> Shipper {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            return try Shipper(
                config: ShipperConfig(
                    tsdbPath: tsdb, labels: LabelSet(["cluster": "eu1"]), uploadCompacted: uploadCompacted,
                    backoff: Backoff(baseMillis: 1, capMillis: 2), attemptsPerPass: attemptsPerPass),
                ledger: ledger, bucket: bucket, failpoints: try Failpoints.parse(failpoints), logger: logger,
                sleep: { _ in })
        }

        func meta(_ ulid: ULID) -> String { "\(tsdb)/\(ulid)/meta.json" }

        /// Rewrites a block's meta.json through `edit` (a test standing in for odd Prometheus blocks).
        func editMeta(_ ulid: ULID, _ edit: (inout JSONValue) -> Void) throws {
            var doc = try JSONValue.parse([UInt8](FileManager.default.contents(atPath: meta(ulid))!))
            edit(&doc)
            try Data(doc.encodedIndented()).write(to: URL(fileURLWithPath: meta(ulid)))
        }

        func state(_ ulid: ULID) async throws -> ShipState? { try await ledger.block(ulid)?.state }
    }

    @Test func shipsEveryBlockOldestFirst() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        #expect(f.blocks.count >= 3)
        let summary = try await f.shipper().syncOnce()
        #expect(Set(summary.committed) == Set(f.blocks))
        let minTimes = try await f.ledger.blocks().map(\.minTime)
        let order = try await f.ledger.blocks().sorted { ($0.committedAt ?? 0) < ($1.committedAt ?? 0) }.map(\.minTime)
        #expect(order == minTimes.sorted())
        for ulid in f.blocks {
            #expect(try await f.bucket.exists(key: "\(ulid)/meta.json"))
            #expect(
                try await f.ledger.history(ulid).map(\.to) == [.discovered, .hashed, .chunksUploaded, .indexUploaded, .committed])
        }
        // Prometheus' own tool reads the shipped copies.
        let listing = try await PromBlocks.promtoolList(f.dir.sub("bucket"))
        for ulid in f.blocks { #expect(listing.contains(ulid.string)) }
        // thanos.shipper.json lists them, in Thanos' format.
        #expect(ShipperMetaFile.read(tsdbPath: f.tsdb) == f.blocks)
    }

    /// A block that failed once and then committed carries no error: the commit cleared it, in
    /// its own transaction, while the failure stays in the block's history.
    @Test func aCommitClearsTheLastErrorOfAnEarlierAttempt() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let ulid = f.blocks[0]
        _ = try await f.shipper(failpoints: "before:upload:index=error@1", attemptsPerPass: 1).syncOnce()
        #expect(try await f.ledger.block(ulid)?.lastError != nil)
        _ = try await f.shipper().syncOnce()
        #expect(try await f.state(ulid) == .committed)
        #expect(try await f.ledger.block(ulid)?.lastError == nil)
        #expect(try await f.ledger.history(ulid).contains { $0.to == .failed })
    }

    @Test func emptyAndCompactedBlocksAreIgnoredWithAReason() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let (empty, compacted) = (f.blocks[0], f.blocks[1])
        try f.editMeta(empty) { $0.set("stats", .object([.init("numSamples", .int(0))])) }
        try f.editMeta(compacted) { $0.set("compaction", .object([.init("level", .int(2))])) }
        let summary = try await f.shipper().syncOnce()
        #expect(Set(summary.newlyIgnored) == [empty, compacted])
        #expect(try await f.ledger.block(empty)?.reason?.contains("empty") == true)
        #expect(try await f.ledger.block(compacted)?.reason?.contains("--shipper.upload-compacted") == true)
        #expect(try await !f.bucket.exists(key: "\(compacted)/meta.json"))
        // With --shipper.upload-compacted the compacted block becomes eligible and ships.
        let again = try await f.shipper(uploadCompacted: true).syncOnce()
        #expect(again.committed == [compacted])
        #expect(try await f.state(empty) == .ignored)
    }

    @Test func aCorruptBlockIsQuarantinedAndTheOthersShip() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let bad = f.blocks[0]
        try Data("{\"ulid\": ".utf8).write(to: URL(fileURLWithPath: f.meta(bad)))
        let summary = try await f.shipper().syncOnce()
        #expect(summary.quarantined == [bad])
        #expect(Set(summary.committed) == Set(f.blocks.dropFirst()))
        let record = try #require(try await f.ledger.block(bad))
        #expect(record.state == .failed && record.quarantined)
        #expect(record.lastError?.contains("meta.json") == true)
    }

    @Test(arguments: ["truncate-chunk", "bad-magic", "missing-chunks-dir", "truncate-index"])
    func unreadableFilesQuarantineTheBlock(_ damage: String) async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let bad = f.blocks[1]
        let dir = "\(f.tsdb)/\(bad)"
        switch damage {
        case "truncate-chunk": #expect(truncate("\(dir)/chunks/000001", 100) == 0)
        case "bad-magic":
            let h = try FileHandle(forUpdating: URL(fileURLWithPath: "\(dir)/chunks/000001"))
            try h.write(contentsOf: Data([0, 0, 0, 0]))
            try h.close()
        case "missing-chunks-dir": try FileManager.default.removeItem(atPath: "\(dir)/chunks")
        default: #expect(truncate("\(dir)/index", 1000) == 0)
        }
        let summary = try await f.shipper().syncOnce()
        #expect(summary.quarantined == [bad])
        #expect(summary.committed.count == f.blocks.count - 1)
        #expect(try await f.bucket.list(prefix: "\(bad)/", recursive: true).isEmpty)
        let error = try await f.ledger.block(bad)?.lastError ?? ""
        #expect(error.contains(bad.string) || error.contains("chunk") || error.contains("index"), "\(error)")
    }

    @Test func aTransientFailureIsRetriedAndRecordedAsAnAttempt() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let summary = try await f.shipper(failpoints: "before:upload:index=error@1").syncOnce()
        #expect(Set(summary.committed) == Set(f.blocks))
        let first = f.blocks[0]
        let history = try await f.ledger.history(first)
        #expect(
            history.map(\.to) == [.discovered, .hashed, .chunksUploaded, .failed, .chunksUploaded, .indexUploaded, .committed])
        #expect(history[3].detail?.contains("injected") == true)
        #expect(history.last?.attempt == 2)
        #expect(try await f.ledger.block(first)?.attempts == 1)
    }

    /// The machine says when to retry; the shipper sleeps exactly until then.
    @Test func aFailedBlockSleepsUntilItsNextAttemptThenRetries() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let clock = Mutex<Int64>(1_000_000)
        let slept = Mutex<[Int64]>([])
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let shipper = try Shipper(
            config: ShipperConfig(
                tsdbPath: f.tsdb, labels: LabelSet(["cluster": "eu1"]), backoff: Backoff(baseMillis: 1_000, capMillis: 1_000)),
            ledger: f.ledger, bucket: f.bucket, failpoints: try Failpoints.parse("before:upload:index=error@1"),
            logger: logger, now: { clock.withLock { $0 } },
            sleep: { ms in
                slept.withLock { $0.append(ms) }
                clock.withLock { $0 += ms }
            },
            jitter: { 0 })
        let summary = try await shipper.syncOnce()
        #expect(Set(summary.committed) == Set(f.blocks))
        // Attempt 1 of a 1 s backoff with jitter 0: half the window.
        #expect(slept.withLock { $0 } == [500])
        let history = try await f.ledger.history(f.blocks[0])
        let failed = try #require(history.firstIndex { $0.to == .failed })
        #expect(history[failed + 1].at - history[failed].at == 500)
    }

    @Test func aFailingBlockHoldsBackNewerBlocks() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let summary = try await f.shipper(failpoints: "before:upload:chunks/000001=error", attemptsPerPass: 2).syncOnce()
        #expect(summary.committed.isEmpty)
        #expect(summary.blockedBy?.ulid == f.blocks[0])
        #expect(try await f.state(f.blocks[0]) == .failed)
        for newer in f.blocks.dropFirst() { #expect(try await f.state(newer) == .discovered) }
        // The next pass (the bucket works again) resumes and ships everything.
        let next = try await f.shipper().syncOnce()
        #expect(Set(next.committed) == Set(f.blocks))
    }

    @Test func aBlockAlreadyInTheBucketIsAdoptedWithoutUploading() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let ulid = f.blocks[0]
        // Only a meta.json that is ours (this ULID, our labels, every listed file there) is adopted.
        let local = try BlockMeta(json: [UInt8](FileManager.default.contents(atPath: f.meta(ulid))!))
        let ours = local.thanosDocument(labels: LabelSet(["cluster": "eu1"]), files: [], uploadTimeMillis: 0)
        try await f.bucket.upload(key: "\(ulid)/meta.json", bytes: ours)
        let summary = try await f.shipper().syncOnce()
        #expect(summary.adopted == [ulid])
        #expect(try await f.bucket.list(prefix: "\(ulid)/", recursive: true) == ["\(ulid)/meta.json"])
        #expect(try await f.state(ulid) == .committed)
        #expect(try await f.ledger.block(ulid)?.metaJSON == ours, "the adopted meta.json is recorded for verify")
    }

    @Test func aBlockDeletedAfterStagingStillShipsFromTheStagingCopy() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let ulid = f.blocks[0]
        _ = try await f.shipper(failpoints: "before:upload:index=error", attemptsPerPass: 1).syncOnce()
        #expect(try await f.state(ulid) == .failed)
        try FileManager.default.removeItem(atPath: "\(f.tsdb)/\(ulid)")  // retention deletes it mid-upload
        let summary = try await f.shipper().syncOnce()
        #expect(summary.committed.contains(ulid))
    }

    @Test func aVanishedBlockIsAbandonedAndItsPartialUploadCleaned() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let ulid = f.blocks[0]
        _ = try await f.shipper(failpoints: "before:upload:index=error", attemptsPerPass: 1).syncOnce()
        #expect(try await !f.bucket.list(prefix: "\(ulid)/", recursive: true).isEmpty)
        try FileManager.default.removeItem(atPath: "\(f.tsdb)/\(ulid)")
        try FileManager.default.removeItem(atPath: "\(f.tsdb)/thanos/upload/\(ulid)")
        let summary = try await f.shipper().syncOnce()
        #expect(summary.cleaned == [ulid])
        #expect(try await f.bucket.list(prefix: "\(ulid)/", recursive: true).isEmpty)
        #expect(try await f.state(ulid) == .cleaned)
        #expect(Set(summary.committed) == Set(f.blocks))
    }

    @Test func aVanishedBlockWhoseMetaLandedIsAdoptedNeverCleaned() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let ulid = f.blocks[0]
        // Crash window: meta.json is in the bucket, the ledger still says index_uploaded.
        _ = try await f.shipper(failpoints: "after:upload:meta.json=error@1", attemptsPerPass: 1).syncOnce()
        #expect(try await f.bucket.exists(key: "\(ulid)/meta.json"))
        try FileManager.default.removeItem(atPath: "\(f.tsdb)/\(ulid)")
        try FileManager.default.removeItem(atPath: "\(f.tsdb)/thanos/upload/\(ulid)")
        let summary = try await f.shipper().syncOnce()
        #expect(try await f.state(ulid) == .committed)
        #expect(summary.cleaned.isEmpty)
        #expect(try await f.bucket.list(prefix: "\(ulid)/", recursive: true).count >= 3)
    }

    @Test func aFileMissingFromTheBucketAtCommitIsSentAgainBeforeMetaJSON() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let ulid = f.blocks[0]
        _ = try await f.shipper(failpoints: "before:upload:meta.json=error", attemptsPerPass: 1).syncOnce()
        try await f.bucket.delete(key: "\(ulid)/index")  // lost behind our back
        let summary = try await f.shipper().syncOnce()
        #expect(summary.committed.contains(ulid))
        let index = try await f.bucket.attributes(key: "\(ulid)/index")
        #expect(index?.size == (try await f.ledger.files(ulid)).first { $0.relPath == "index" }?.sizeBytes)
    }
}
