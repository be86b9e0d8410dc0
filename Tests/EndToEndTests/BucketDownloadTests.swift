import Foundation
import SkiffCore
import TestSupport
import Testing

/// `skiff bucket download` against a FILESYSTEM bucket of real promtool blocks shipped by skiff:
/// the seed's hash-skipping contract, checked from the outside (bytes, inodes, mtimes, promtool).
@Suite(.needs(.promtool)) struct BucketDownloadTests {
    /// A shipped world plus the restore dir.
    struct World {
        let shipping: ShippingWorld
        var root: TempDir { shipping.root }
        var restore: String { root.sub("restore") }
        var blocks: [ULID] { shipping.localBlocks }

        /// Ships the pristine blocks, first growing the newest one's chunk segment to `bigChunk`
        /// bytes when given (so a download can be killed in the middle of a file).
        static func make(bigChunk: Int? = nil) async throws -> World {
            let shipping = try await ShippingWorld()
            if let bigChunk, let last = shipping.localBlocks.last {
                try PromBlocks.grow(block: "\(shipping.tsdb)/\(last)", chunkBytes: bigChunk)
            }
            let ship = try await shipping.ship()
            #expect(ship.status == 0, "\(ship)")
            return World(shipping: shipping)
        }

        func download(_ ulids: [ULID], failpoints: String? = nil, extra: [String] = []) async throws -> SkiffProcess.Result {
            try await SkiffProcess.run(
                ["bucket", "download"] + ulids.map(\.string)
                    + ["--objstore.config-file", shipping.bucketConfig, "--dir", restore] + extra,
                environment: failpoints.map { ["SKIFF_FAILPOINTS": $0] } ?? [:])
        }

        /// Every file of the restored block (meta.json too), relative path to inode and mtime.
        func identity(_ ulid: ULID) throws -> [String: [Int]] { BucketDownloadTests.identity(of: "\(restore)/\(ulid)") }

        /// The restored block holds exactly the shipped bytes: every file as in the TSDB, and
        /// meta.json as in the bucket.
        func expectIdentical(_ ulid: ULID, sourceLocation: SourceLocation = #_sourceLocation) {
            let restored = Set(FileManager.default.subpaths(atPath: "\(restore)/\(ulid)") ?? [])
            let shipped = Set(FileManager.default.subpaths(atPath: "\(shipping.bucket)/\(ulid)") ?? [])
            #expect(restored == shipped, sourceLocation: sourceLocation)
            for rel in shipped where rel != "chunks" {
                #expect(
                    shipping.data("\(restore)/\(ulid)/\(rel)") == shipping.data("\(shipping.bucket)/\(ulid)/\(rel)"),
                    "\(ulid)/\(rel)", sourceLocation: sourceLocation)
                if rel != "meta.json" {
                    #expect(
                        shipping.data("\(restore)/\(ulid)/\(rel)") == shipping.data("\(shipping.tsdb)/\(ulid)/\(rel)"),
                        "\(ulid)/\(rel)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    /// Every regular file under `dir`, relative path to inode and mtime: a rewrite changes them.
    static func identity(of dir: String) -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for rel in FileManager.default.subpaths(atPath: dir) ?? [] {
            var st = stat()
            guard stat(dir + "/" + rel, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            out[rel] = [Int(st.st_ino), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
        }
        return out
    }

    @Test func downloadsByteIdenticalBlocksPromtoolReadsAndSkipsThemAfterwards() async throws {
        let world = try await World.make()
        defer { world.root.remove() }
        let first = try await world.download(world.blocks)
        #expect(first.status == 0, "\(first)")
        for ulid in world.blocks {
            world.expectIdentical(ulid)
            #expect(first.stdout.contains("\(ulid): fetched"), "\(first.stdout)")
        }
        let list = try await PromBlocks.promtoolList(world.restore)
        for ulid in world.blocks { #expect(list.contains(ulid.string), "\(list)") }
        // Same samples as the source blocks.
        let restored = try await ExternalProgram.promtool.run(["tsdb", "dump", world.restore])
        let source = try await ExternalProgram.promtool.run(["tsdb", "dump", world.shipping.tsdb])
        #expect(restored.succeeded && source.succeeded, "\(restored.stderr)\(restored.stdout.prefix(2000))\(source.stderr)")
        #expect(!restored.stdout.isEmpty && restored.stdout == source.stdout)

        // A second run rewrites nothing: same inode and mtime for every file, meta.json too.
        let before = try world.blocks.map(world.identity)
        let second = try await world.download(world.blocks)
        #expect(second.status == 0, "\(second)")
        #expect(try world.blocks.map(world.identity) == before)
        for ulid in world.blocks { #expect(second.stdout.contains("\(ulid): fetched 0 file(s), 0 B"), "\(second.stdout)") }
    }

    @Test func aTruncatedLocalFileIsTheOnlyOneFetchedAgain() async throws {
        let world = try await World.make()
        defer { world.root.remove() }
        let ulid = world.blocks[0]
        #expect(try await world.download([ulid]).status == 0)
        let chunk = "\(world.restore)/\(ulid)/chunks/000001"
        let handle = try #require(FileHandle(forUpdatingAtPath: chunk))
        try handle.truncate(atOffset: 100)
        try handle.close()
        let before = try world.identity(ulid)

        let rerun = try await world.download([ulid])
        #expect(rerun.status == 0, "\(rerun)")
        #expect(rerun.stdout.contains("fetched 2 file(s)"), "\(rerun.stdout)")  // the chunk, and meta.json rewritten last
        let after = try world.identity(ulid)
        for (rel, id) in before where rel != "chunks/000001" && rel != "meta.json" { #expect(after[rel] == id, "\(rel)") }
        #expect(after["chunks/000001"] != before["chunks/000001"])
        world.expectIdentical(ulid)
    }

    @Test func aCorruptedBucketObjectFailsNamingItAndIsNotPutInPlace() async throws {
        let world = try await World.make()
        defer { world.root.remove() }
        let ulid = world.blocks[0]
        let object = "\(world.shipping.bucket)/\(ulid)/index"
        var bytes = try #require(world.shipping.data(object))
        bytes[bytes.count / 2] ^= 0xFF  // same size, other bytes
        try bytes.write(to: URL(fileURLWithPath: object))

        let result = try await world.download([ulid])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("index of block \(ulid)"), "\(result.stderr)")
        #expect(result.stderr.contains("does not match the SHA-256"), "\(result.stderr)")
        let left = Set(FileManager.default.subpaths(atPath: "\(world.restore)/\(ulid)") ?? [])
        #expect(!left.contains("index") && !left.contains("meta.json"), "\(left)")
        #expect(!left.contains { $0.contains(".skiff-part-") }, "\(left)")
    }

    @Test func aBlockWithoutChunkFilesGetsItsChunksDir() async throws {
        let world = try await World.make()
        defer { world.root.remove() }
        let ulid = world.blocks[0]
        // Keep only the index in the bucket's copy and in its meta.json's file list.
        let metaPath = "\(world.shipping.bucket)/\(ulid)/meta.json"
        var meta = try JSONValue.parse(Array(try #require(world.shipping.data(metaPath))))
        var thanos = try #require(meta["thanos"])
        thanos.set("files", .array((thanos["files"]?.arrayValue ?? []).filter { $0["rel_path"] != .string("chunks/000001") }))
        meta.set("thanos", thanos)
        try Data(meta.encodedIndented()).write(to: URL(fileURLWithPath: metaPath))
        try FileManager.default.removeItem(atPath: "\(world.shipping.bucket)/\(ulid)/chunks")

        let result = try await world.download([ulid])
        #expect(result.status == 0, "\(result)")
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: "\(world.restore)/\(ulid)/chunks", isDirectory: &isDir) && isDir.boolValue)
        #expect(FileManager.default.fileExists(atPath: "\(world.restore)/\(ulid)/meta.json"))
    }

    @Test func aKilledDownloadResumesWithoutFetchingFinishedFilesAgain() async throws {
        let world = try await World.make(bigChunk: 24 << 20)
        defer { world.root.remove() }
        let (small, big) = (world.blocks[0], try #require(world.blocks.last))
        // Killed (SIGKILL) once the first MiB of the big chunk segment is on disk.
        let killed = try await world.download(
            [small, big], failpoints: "during:download:chunks/000001=exit", extra: ["--concurrency", "1"])
        #expect(killed.killedBySIGKILL, "\(killed)")
        // The finished block is complete; the interrupted one has no meta.json, so Prometheus
        // and promtool skip it rather than read a block with a half chunk segment.
        world.expectIdentical(small)
        #expect(!FileManager.default.fileExists(atPath: "\(world.restore)/\(big)/meta.json"))
        #expect(!FileManager.default.fileExists(atPath: "\(world.restore)/\(big)/chunks/000001"))
        let list = try await PromBlocks.promtoolList(world.restore)
        #expect(list.contains(small.string) && !list.contains(big.string), "\(list)")

        let finished = try world.identity(small)
        let rerun = try await world.download([small, big])
        #expect(rerun.status == 0, "\(rerun)")
        #expect(try world.identity(small) == finished)
        #expect(rerun.stdout.contains("\(small): fetched 0 file(s)"), "\(rerun.stdout)")
        #expect(rerun.stdout.contains("resumed"), "\(rerun.stdout)")  // the partial segment was kept
        world.expectIdentical(big)
        #expect(try await PromBlocks.promtoolList(world.restore).contains(big.string))
    }

    @Test func badInputIsNamed() async throws {
        let world = try await World.make()
        defer { world.root.remove() }
        let config = world.shipping.bucketConfig
        func run(_ arguments: [String]) async throws -> SkiffProcess.Result {
            try await SkiffProcess.run(["bucket", "download"] + arguments + ["--objstore.config-file", config])
        }
        let invalid = try await run(["not-a-ulid", "--dir", world.restore])
        #expect(invalid.status == 1 && invalid.stderr.contains("\"not-a-ulid\" is not a ULID"), "\(invalid)")

        let absent = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
        let unknown = try await run([absent, "--dir", world.restore])
        #expect(unknown.status == 1 && unknown.stderr.contains("block \(absent) is not in bucket"), "\(unknown)")

        let file = world.root.sub("a-file")
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let unusable = try await run([world.blocks[0].string, "--dir", file])
        #expect(unusable.status == 1 && unusable.stderr.contains("--dir \(file) cannot be used"), "\(unusable)")

        // A partial upload (objects, no meta.json) and a meta.json that is not JSON.
        let partial = "01HZZZZZZZZZZZZZZZZZZZZZZY"
        try FileManager.default.createDirectory(
            atPath: "\(world.shipping.bucket)/\(partial)", withIntermediateDirectories: true)
        try "index".write(toFile: "\(world.shipping.bucket)/\(partial)/index", atomically: true, encoding: .utf8)
        let noMeta = try await run([partial, "--dir", world.restore])
        #expect(noMeta.status == 1 && noMeta.stderr.contains("has no meta.json"), "\(noMeta)")
        try "{not json".write(toFile: "\(world.shipping.bucket)/\(partial)/meta.json", atomically: true, encoding: .utf8)
        let notJSON = try await run([partial, "--dir", world.restore])
        #expect(notJSON.status == 1 && notJSON.stderr.contains("\(partial)/meta.json in bucket"), "\(notJSON)")
        #expect(notJSON.stderr.contains("is not valid JSON"), "\(notJSON)")
        #expect(!FileManager.default.fileExists(atPath: "\(world.restore)/\(partial)/meta.json"))
    }
}
