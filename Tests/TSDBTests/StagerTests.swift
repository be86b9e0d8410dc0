import Foundation
import SkiffCore
import TSDB
import TestSupport
import Testing

@Suite(.needs(.promtool)) struct StagerTests {
    @Test func stagesByHardLinkWithoutTouchingTheSource() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let block = try f.firstBlock()
        let before = try snapshot(block.dir)
        let stager = Stager(tsdbPath: f.tsdb)
        let staged = try stager.stage(block)
        let staging = f.tsdb + "/thanos/upload/\(block.meta.ulid)"
        #expect(staged.map(\.relPath) == ["chunks/000001", "index"])
        for file in staged {
            #expect(file.path == staging + "/" + file.relPath)
            #expect(file.ulid == block.meta.ulid)
            #expect(inodeAndMtime(file.path).inode == inodeAndMtime(block.dir + "/" + file.relPath).inode)
            #expect(file.size == Int64(try bytes(file.path).count))
        }
        // Tombstones exist in the block but are not shipped; meta.json comes from writeMeta.
        #expect(FileManager.default.fileExists(atPath: block.dir + "/tombstones"))
        #expect(try FileManager.default.subpathsOfDirectory(atPath: staging).sorted() == ["chunks", "chunks/000001", "index"])

        let meta = Array("{\"staged\": true}\n".utf8)
        try stager.writeMeta(meta, for: block.meta.ulid)
        #expect(try bytes(staging + "/meta.json") == meta)
        #expect(sameSnapshot(try snapshot(block.dir), before))  // bytes and mtimes, meta.json included
        #expect(stager.stagedFiles(for: block.meta.ulid) == staged)
    }

    /// Even if the staged meta.json is a hard link to Prometheus' (as in Thanos' staging), the
    /// rename replaces the link instead of writing through it.
    @Test func writeMetaNeverWritesThroughALink() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let block = try f.firstBlock()
        let stager = Stager(tsdbPath: f.tsdb)
        _ = try stager.stage(block)
        let original = try bytes(block.dir + "/meta.json")
        let staged = stager.stagingDir(block.meta.ulid) + "/meta.json"
        #expect(link(block.dir + "/meta.json", staged) == 0)
        try stager.writeMeta(Array("new".utf8), for: block.meta.ulid)
        #expect(try bytes(block.dir + "/meta.json") == original)
        #expect(try bytes(staged) == Array("new".utf8))
        #expect(inodeAndMtime(staged).inode != inodeAndMtime(block.dir + "/meta.json").inode)
    }

    @Test func restagingReplacesLeftoversAndRemoveCleansUp() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let blocks = try f.scanReadable()
        let stager = Stager(tsdbPath: f.tsdb)
        #expect(stager.stagedBlocks().isEmpty)
        #expect(stager.stagedFiles(for: blocks[0].meta.ulid) == nil)
        _ = try stager.stage(blocks[1])
        let first = try stager.stage(blocks[0])
        try write([1, 2, 3], to: stager.stagingDir(blocks[0].meta.ulid) + "/chunks/000009")
        #expect(try stager.stage(blocks[0]) == first)  // the leftover file is gone
        #expect(stager.stagedBlocks() == [blocks[0].meta.ulid, blocks[1].meta.ulid])

        let before = try snapshot(blocks[0].dir)
        try stager.remove(blocks[0].meta.ulid)
        #expect(stager.stagedBlocks() == [blocks[1].meta.ulid])
        #expect(stager.stagedFiles(for: blocks[0].meta.ulid) == nil)
        #expect(sameSnapshot(try snapshot(blocks[0].dir), before))
        try stager.remove(blocks[0].meta.ulid)  // removing twice is fine
    }

    @Test func blockDeletedBeforeStageHasVanished() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let block = try f.firstBlock()
        try FileManager.default.removeItem(atPath: block.dir)
        let error = try #require(skiffError { _ = try Stager(tsdbPath: f.tsdb).stage(block) })
        #expect(error.code == .blockVanished)
        #expect(error.message.contains(block.dir))
    }

    @Test func corruptBlockIsNotStaged() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let (tsdb, block) = try f.damageableCopy()
        try FileManager.default.removeItem(atPath: block.dir + "/chunks")
        let stager = Stager(tsdbPath: tsdb)
        let error = try #require(skiffError { _ = try stager.stage(block) })
        #expect(error.code == .corruptBlock && error.message.contains("block \(block.meta.ulid) has no chunks dir"))
        #expect(stager.stagedBlocks().isEmpty)
    }

    @Test func stagesThroughASymlinkedBlockDir() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let elsewhere = f.tmp.sub("elsewhere")
        try FileManager.default.moveItem(atPath: f.blockDirs[0], toPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: f.blockDirs[0], withDestinationPath: elsewhere)
        let block = try f.scanReadable()[0]
        let staged = try Stager(tsdbPath: f.tsdb).stage(block)
        #expect(inodeAndMtime(staged[1].path).inode == inodeAndMtime(elsewhere + "/index").inode)
    }

    @Test func hashEqualsSha256sum() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let block = try f.firstBlock()
        let stager = Stager(tsdbPath: f.tsdb)
        let staged = try stager.stage(block)
        let files = try stager.hash(staged, expectedChunks: block.meta.numChunks)
        #expect(files.map(\.relPath) == ["chunks/000001", "index"])
        for (file, stagedFile) in zip(files, staged) {
            #expect(file.sha256 == (try await sha256sum(block.dir + "/" + file.relPath)))
            #expect(file.sizeBytes == stagedFile.size)
        }
    }

    /// The cheap checks cannot see a cut chunks file; the framing walk while hashing does.
    @Test func truncatedSegmentIsCorruptAtHashTime() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let (tsdb, block) = try f.damageableCopy()
        try truncateFile(block.dir + "/chunks/000001", by: 3)
        let stager = Stager(tsdbPath: tsdb)
        let staged = try stager.stage(block)
        let error = try #require(skiffError { _ = try stager.hash(staged) })
        #expect(error.code == .corruptBlock)
        #expect(error.message.contains("block \(block.meta.ulid) file chunks/000001 is truncated"))
    }

    /// A segment cut exactly between two chunks has sound framing; only the chunk count shows it.
    @Test func segmentCutBetweenChunksIsCaughtByTheChunkCount() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let (tsdb, block) = try f.damageableCopy()
        let path = block.dir + "/chunks/000001"
        let data = try bytes(path)
        let boundaries = chunkBoundaries(data)
        try write(Array(data.prefix(boundaries[boundaries.count - 2])), to: path)
        let stager = Stager(tsdbPath: tsdb)
        let staged = try stager.stage(block)
        _ = try stager.hash(staged)  // framing alone accepts it
        let error = try #require(skiffError { _ = try stager.hash(staged, expectedChunks: block.meta.numChunks) })
        #expect(error.code == .corruptBlock && error.message.contains("meta.json counts \(block.meta.numChunks)"))
    }
}

/// Offsets where each chunk of a segment ends (decoded independently of the code under test).
func chunkBoundaries(_ data: [UInt8]) -> [Int] {
    var p = 8
    var ends: [Int] = []
    while p < data.count {
        var length = 0
        var shift = 0
        while true {
            let b = data[p]
            p += 1
            length |= Int(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        p += 1 + length + 4
        ends.append(p)
    }
    return ends
}
