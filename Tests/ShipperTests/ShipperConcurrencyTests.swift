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

extension ShipperTests.Fixture {
    /// A shipper over `bucket` (the fixture's own by default) with `configure` applied to the
    /// fixture's config, and a clock that starts at `start` and moves only when the shipper sleeps.
    func shipper(
        bucket: (any Bucket)? = nil, failpoints: String = "", attemptsPerPass: Int = 3,
        start: Int64 = 1_700_000_000_000, _ configure: (inout ShipperConfig) -> Void
    ) throws -> Shipper {
        let clock = Mutex(start)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var config = ShipperConfig(
            tsdbPath: tsdb, labels: LabelSet(["cluster": "eu1"]), backoff: Backoff(baseMillis: 1_000, capMillis: 2_000),
            attemptsPerPass: attemptsPerPass)
        configure(&config)
        return try Shipper(
            config: config, ledger: ledger, bucket: bucket ?? self.bucket, failpoints: try Failpoints.parse(failpoints),
            logger: logger, now: { clock.withLock { $0 } }, sleep: { ms in clock.withLock { $0 += ms } },
            jitter: { 0 })
    }

    /// Marks every block but `ulid` as compacted (so ignored): a pass ships `ulid` alone.
    func shipOnly(_ ulid: ULID) throws {
        for other in blocks where other != ulid {
            try editMeta(other) { $0.set("compaction", .object([.init("level", .int(2))])) }
        }
    }

    /// Gives the block `segments` chunk segments: copies of its one real segment (valid framing,
    /// magic and CRC32C each), with `stats.numChunks` raised to match, as skiff checks the count.
    func splitIntoSegments(_ ulid: ULID, _ segments: Int) throws {
        let chunks = "\(tsdb)/\(ulid)/chunks"
        #expect(try FileManager.default.contentsOfDirectory(atPath: chunks) == ["000001"])
        for n in 2...segments {
            try FileManager.default.copyItem(atPath: "\(chunks)/000001", toPath: "\(chunks)/\(String(format: "%06d", n))")
        }
        try editMeta(ulid) { doc in
            var stats = doc["stats"] ?? .object([])
            stats.set("numChunks", .int((stats["numChunks"]?.int64Value ?? 0) * Int64(segments)))
            doc.set("stats", stats)
        }
    }

    /// Every object in the bucket with its bytes.
    func bucketContents() throws -> [String: Data] {
        let root = dir.sub("bucket")
        var out: [String: Data] = [:]
        for case let rel as String in FileManager.default.enumerator(atPath: root)! {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(root)/\(rel)", isDirectory: &isDir), !isDir.boolValue else {
                continue
            }
            out[rel] = try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(rel)"))
        }
        return out
    }
}

/// `--shipper.upload-concurrency`: the files of one block go up several at a time, bounded, with
/// meta.json last and the ledger's record of each file as crash-safe as one at a time.
@Suite(.needs(.promtool)) struct ShipperConcurrencyTests {
    static let segments = 10

    func fixture() async throws -> ShipperTests.Fixture {
        let f = try await ShipperTests.Fixture()
        for ulid in f.blocks { try f.splitIntoSegments(ulid, Self.segments) }
        return f
    }

    @Test func concurrentUploadsLeaveTheSameBucketAsOneAtATime() async throws {
        let one = try await fixture()
        defer { one.dir.remove() }
        let four = try await fixture()
        defer { four.dir.remove() }
        #expect(one.blocks == four.blocks)
        let s1 = try await one.shipper { $0.uploadConcurrency = 1 }.syncOnce()
        let s4 = try await four.shipper { $0.uploadConcurrency = 4 }.syncOnce()
        #expect(Set(s4.committed) == Set(four.blocks) && s4.committed == s1.committed)
        #expect(s4.uploadedBytes == s1.uploadedBytes)
        let contents = try four.bucketContents()
        #expect(contents.count == four.blocks.count * (Self.segments + 2))
        #expect(contents == (try one.bucketContents()), "same keys, same bytes, meta.json included")
        for ulid in four.blocks {
            #expect(try await four.ledger.files(ulid).allSatisfy(\.uploaded))
            // meta.json went up last, after every file was recorded.
            let history = try await four.ledger.history(ulid)
            #expect(history.map(\.to) == [.discovered, .hashed, .chunksUploaded, .indexUploaded, .committed])
        }
    }

    @Test(arguments: [1, 2, 4]) func neverMoreThanTheLimitInFlight(_ limit: Int) async throws {
        let f = try await fixture()
        defer { f.dir.remove() }
        let counting = CountingBucket(f.bucket, hold: .milliseconds(100))
        let ulid = f.blocks[0]
        // One block: its chunk segments are the uploads that may overlap.
        try f.shipOnly(ulid)
        let summary = try await f.shipper(bucket: counting) { $0.uploadConcurrency = limit }.syncOnce()
        #expect(summary.committed == [ulid])
        #expect(counting.maxInFlight == limit, "at most \(limit) in flight, and that many when there is work")
        #expect(counting.puts.values.allSatisfy { $0 == 1 }, "each object sent once: \(counting.puts)")
        #expect(counting.puts.count == Self.segments + 2)
    }

    @Test func valuesBelowOneMeanOneAtATime() async throws {
        let f = try await fixture()
        defer { f.dir.remove() }
        let counting = CountingBucket(f.bucket, hold: .milliseconds(20))
        #expect(ShipperConfig(tsdbPath: f.tsdb, labels: LabelSet([:])).uploadConcurrency == 1)
        let summary = try await f.shipper(bucket: counting) { $0.uploadConcurrency = 0 }.syncOnce()
        #expect(Set(summary.committed) == Set(f.blocks))
        #expect(counting.maxInFlight == 1)
    }

    /// A fault mid-block with 4 in flight: what landed is recorded, the pass fails the block, and
    /// the next pass sends only what the ledger does not mark uploaded, each once, then meta.json.
    @Test func aFaultMidBlockResumesWithoutSendingLandedFilesAgain() async throws {
        let f = try await fixture()
        defer { f.dir.remove() }
        let ulid = f.blocks[0]
        let first = CountingBucket(f.bucket, hold: .milliseconds(20))
        let failed = try await f.shipper(
            bucket: first, failpoints: "before:upload:chunks/000006=error", attemptsPerPass: 1
        ) { $0.uploadConcurrency = 4 }.syncOnce()
        #expect(failed.blockedBy?.ulid == ulid)
        #expect(try await f.state(ulid) == .failed)
        #expect(try await !f.bucket.exists(key: "\(ulid)/meta.json"), "never half a block committed")
        let files = try await f.ledger.files(ulid)
        let landed = Set(files.filter(\.uploaded).map(\.relPath))
        #expect(landed.count >= 5 && !landed.contains("chunks/000006") && !landed.contains("index"), "\(landed)")
        // No upload started after the fault: at most the 3 already in flight beside it landed.
        #expect(landed.count <= 8, "\(landed)")
        for rel in landed { #expect(try await f.bucket.exists(key: "\(ulid)/\(rel)")) }

        let second = CountingBucket(f.bucket)
        let later = try await f.shipper(bucket: second, start: 1_700_000_060_000) { $0.uploadConcurrency = 4 }
        let resumed = try await later.syncOnce()
        #expect(resumed.committed.first == ulid)
        let resent = Set(second.puts.keys.filter { $0.hasPrefix("\(ulid)/") })
        let expected = Set(files.filter { !$0.uploaded }.map { "\(ulid)/\($0.relPath)" } + ["\(ulid)/meta.json"])
        #expect(resent == expected, "only the files not recorded, then meta.json")
        #expect(second.puts.values.allSatisfy { $0 == 1 })
        #expect(try await f.ledger.files(ulid).allSatisfy(\.uploaded))
    }
}
