import Foundation
import Ledger
import SkiffCore
import TestSupport
import Testing

/// The notes' NK cases: what else can sit in a FILESYSTEM bucket directory, or share it.
extension HostileBucketTests {
    func ledgerBlock(_ world: ShippingWorld, _ ulid: ULID) async throws -> BlockRecord? {
        try await Ledger.open(path: world.ledgerPath, readOnly: true).block(ulid)
    }

    /// NK1: a FIFO where an object should be hung `verify` (open waits for a writer) and was
    /// adopted as a commit when it sat at meta.json.
    @Test func fifoObjectsNeitherHangNorPassForCommits() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let blocks = world.localBlocks
        try FileManager.default.createDirectory(atPath: "\(world.bucket)/\(blocks[0])", withIntermediateDirectories: true)
        #expect(mkfifo("\(world.bucket)/\(blocks[0])/meta.json", 0o644) == 0)
        let ship = try await SkiffProcess.run(world.shipArguments, timeout: .seconds(30))
        #expect(ship.status == 1 && ship.stdout.contains("quarantined \(blocks[0])"), "\(ship)")
        #expect(ship.stdout.contains("not a regular file"), "\(ship)")
        #expect(try await ledgerBlock(world, blocks[1])?.state == .committed, "newer blocks must not wait: \(ship)")

        let chunk = "\(world.bucket)/\(blocks[1])/chunks/000001"
        try FileManager.default.removeItem(atPath: chunk)
        #expect(mkfifo(chunk, 0o644) == 0)
        let meta = "\(world.bucket)/\(blocks[2])/meta.json"
        try FileManager.default.removeItem(atPath: meta)
        #expect(mkfifo(meta, 0o644) == 0)
        let result = try await SkiffProcess.run(
            ["verify", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig, "--output", "json"],
            timeout: .seconds(30))
        #expect(result.status == 1 && !result.signaled, "\(result)")
        let rows = (try? JSONValue.parse(Array(result.stdout.utf8)))?.arrayValue ?? []
        for ulid in blocks[1...2] {
            let row = rows.first { $0["ulid"]?.stringValue == ulid.string }
            #expect(row?["ok"] == .bool(false), "\(result)")
            #expect(row?["problems"]?.arrayValue?.contains { $0.stringValue?.contains("not a regular file") == true } == true)
        }
        #expect(rows.filter { $0["ok"] == .bool(true) }.count == rows.count - 2, "\(result)")

        // reconcile reports all three, and --repair re-ships the committed ones over their FIFOs.
        let (_, report) = try await reconcile(world)
        #expect(report[blocks[0].string]?["status"]?.stringValue == "foreign_meta", "\(report)")
        #expect(report[blocks[1].string]?["status"]?.stringValue == "size_mismatch", "\(report)")
        #expect(report[blocks[2].string]?["status"]?.stringValue == "damaged_meta", "\(report)")
        let (repair, _) = try await reconcile(world, ["--repair"])
        #expect(world.data(chunk) == world.data("\(world.tsdb)/\(blocks[1])/chunks/000001"), "\(repair)")
        #expect(try await recordedMeta(world, blocks[2]) == world.data(meta).map { [UInt8]($0) }, "\(repair)")
    }

    /// NK2: one symlink loop in the bucket directory ended every listing ("list : Too many levels of
    /// symbolic links"), so reconcile (and a ledger rebuild) could not run at all.
    @Test func symlinkLoopsInTheBucketAreNotObjects() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: "\(world.bucket)/loop", withDestinationPath: "loop")
        try fm.createSymbolicLink(atPath: "\(world.bucket)/\(world.localBlocks[0])/chunks/loop", withDestinationPath: "loop")
        let (result, rows) = try await reconcile(world)
        #expect(result.status == 0, "\(result)")
        #expect(rows.count == world.localBlocks.count && rows.values.allSatisfy { $0["status"] == .string("in_sync") })
        #expect(try await verify(world).0.status == 0)
    }

    /// NK3: a 100 MB meta.json (sparse here) at a block's key was adopted as a commit.
    @Test func aHugeMetaJSONIsNeitherReadNorAdopted() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let ulid = world.localBlocks[0]
        let meta = "\(world.bucket)/\(ulid)/meta.json"
        try FileManager.default.createDirectory(atPath: "\(world.bucket)/\(ulid)", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: meta, contents: nil) && truncate(meta, 100 << 20) == 0)
        let ship = try await world.ship()
        #expect(ship.status == 1 && ship.stdout.contains("larger than 16 MiB"), "\(ship)")
        #expect(try await ledgerBlock(world, ulid)?.quarantined == true)
        #expect((try FileManager.default.attributesOfItem(atPath: meta)[.size] as? Int) == 100 << 20, "left alone")
        let (_, rows) = try await reconcile(world)
        #expect(rows[ulid.string]?["status"]?.stringValue == "foreign_meta", "\(rows)")
    }

    /// NK4: a directory named meta.json in the bucket made every commit of that block fail, and the
    /// failing block held back every newer one, run after run.
    @Test func aDirectoryWhereMetaJSONBelongsQuarantinesOnlyThatBlock() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let blocks = world.localBlocks
        try write("x", to: "\(world.bucket)/\(blocks[0])/meta.json/junk")
        let ship = try await world.ship()
        #expect(ship.status == 1, "\(ship)")
        #expect(ship.stdout.contains("quarantined \(blocks[0])") && ship.stdout.contains("\(blocks[0])/meta.json/"), "\(ship)")
        for newer in blocks.dropFirst() { #expect(try await ledgerBlock(world, newer)?.state == .committed, "\(ship)") }
        // Once the directory is gone, the block commits (its files are already up).
        try FileManager.default.removeItem(atPath: "\(world.bucket)/\(blocks[0])/meta.json")
        let sql = try await ExternalProgram.python3.run([
            "-c",
            "import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);c.execute('UPDATE blocks SET next_attempt_at = 0');c.commit()",
            world.ledgerPath,
        ])
        try #require(sql.succeeded, "\(sql.stderr)")
        #expect(try await world.ship().status == 0)
        try await world.expectFullyShipped()
    }

    /// NK5: the bucket directory (or a block's dir in it) replaced by a plain file while shipping:
    /// the error named the key only ("upload <key>: Not a directory"), not the directory to look at.
    /// The replacement is made before the run here, so the test does not race the shipper.
    @Test func aBucketDirectoryReplacedByAFileIsNamed() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        try write("not a directory", to: "\(world.bucket)/\(world.localBlocks[0])")
        let result = try await world.ship()
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.contains("Not a directory") && result.stdout.contains("(bucket \(world.bucket))"), "\(result)")
    }

    /// NK6: two Prometheus with the same external labels sharing a bucket: reconcile --repair took the
    /// other's blocks into this ledger as adopted, rc 0, while the Compactor halts on the overlaps.
    @Test func anotherPrometheusWithOurLabelsIsReportedNotAdopted() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let other = world.root.sub("other")
        _ = try await PromBlocks.make(series: 6, hours: 7, stepSeconds: 30, into: other)
        try FileManager.default.createDirectory(atPath: other + "/wal", withIntermediateDirectories: true)
        #expect(try await world.ship().status == 0)
        var args = world.shipArguments
        args[args.firstIndex(of: world.tsdb)!] = other
        #expect(try await SkiffProcess.run(args).status == 0)
        let theirs = try FileManager.default.contentsOfDirectory(atPath: other).compactMap(ULID.init)
        try #require(!theirs.isEmpty)

        let (result, rows) = try await reconcile(world, ["--repair"])
        #expect(result.status == 1, "\(result)")
        for ulid in theirs {
            #expect(rows[ulid.string]?["status"]?.stringValue == "overlapping", "\(result)")
            #expect(rows[ulid.string]?["action"] == .null, "\(result)")
            #expect(try await ledgerBlock(world, ulid) == nil, "adopted another Prometheus' block")
        }
        #expect(rows[theirs[0].string]?["detail"]?.stringValue?.contains("same external labels") == true)
    }

    /// NK7 (OK, kept as a regression test): thousands of junk keys, and names with a newline or
    /// bytes that are not UTF-8, beside our blocks: ignored, quickly.
    @Test func junkKeysAndOddNamesAreIgnored() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let fm = FileManager.default
        for i in 0..<3000 { _ = fm.createFile(atPath: "\(world.bucket)/junk-\(i)", contents: Data("x".utf8)) }
        for i in 0..<300 { try write("{\"garbage\": ", to: "\(world.bucket)/01J\(String(format: "%023d", i))/meta.json") }
        _ = fm.createFile(atPath: "\(world.bucket)/a\nb", contents: Data())
        _ = fm.createFile(atPath: "\(world.bucket)/\(world.localBlocks[0])/chunks/00\n01", contents: Data())
        let bad = "\(world.bucket)/\(world.localBlocks[1])/".utf8CString.dropLast() + [-1, 0]  // "\xff"
        let fd = bad.withUnsafeBufferPointer { creat($0.baseAddress!, 0o644) }
        #expect(fd >= 0)
        close(fd)
        let started = ContinuousClock.now
        let (result, rows) = try await reconcile(world)
        #expect(result.status == 0, "\(result)")
        #expect(rows.count == world.localBlocks.count, "\(result)")
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(try await verify(world).0.status == 0)
    }
}
