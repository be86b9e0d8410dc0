import FileIO
import Foundation
import SkiffCore
import TestSupport
import Testing

@testable import TSDB

@Suite(.needs(.promtool)) struct FileDigestTests {
    /// Several MiB of random bytes: many full 1 MiB buffers plus a partial one.
    @Test func plainFileEqualsSha256sum() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        // 8 random bytes per call, not one: a getrandom(2) per byte made this test seconds of CPU.
        let data = BucketConformance.randomBytes((3 << 20) + 12345)
        try write(data, to: tmp.sub("random"))
        let digest = try FileDigest.sha256(of: tmp.sub("random"))
        #expect(digest.size == Int64(data.count))
        #expect(digest.sha256 == (try await sha256sum(tmp.sub("random"))))
        #expect(digest.chunks == nil)
        try write([], to: tmp.sub("empty"))
        #expect(try FileDigest.sha256(of: tmp.sub("empty")).sha256 == (try await sha256sum(tmp.sub("empty"))))
    }

    /// Part hashes from the same read: each equals the SHA-256 of its own byte range, for part
    /// sizes that cut the 1 MiB read buffers anywhere, divide the file exactly, or exceed it.
    @Test(arguments: [Int64((1 << 20) + 7), Int64(1 << 20), Int64(5 << 20), Int64(3 << 20) + 12345])
    func partHashesAreTheHashesOfEachRange(_ partSize: Int64) async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let data = BucketConformance.randomBytes((3 << 20) + 12345)
        try write(data, to: tmp.sub("random"))
        let digest = try FileDigest.sha256(of: tmp.sub("random"), partSize: partSize)
        #expect(digest.sha256 == BucketConformance.sha256Hex(data), "the whole-file hash is unchanged")
        let parts = try #require(digest.hashed?.parts, "tmp keeps ctime, so the read proves an identity")
        #expect(parts.partSize == partSize)
        let expected = stride(from: 0, to: data.count, by: Int(partSize)).map { start in
            BucketConformance.sha256Hex(Array(data[start..<min(start + Int(partSize), data.count)]))
        }
        #expect(parts.sha256 == expected)
        #expect(try FileDigest.sha256(of: tmp.sub("random")).hashed?.parts == nil, "no parts unless asked")
    }

    @Test func missingFileHasVanished() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let error = try #require(skiffError { _ = try FileDigest.sha256(of: tmp.sub("gone"), name: "block X file index") })
        #expect(error.code == .blockVanished && error.message.contains("block X file index"))
        // A directory where a file belongs is a damaged block (quarantined), not passing I/O trouble.
        let dirError = try #require(skiffError { _ = try FileDigest.sha256(of: tmp.path) })
        #expect(dirError.code == .corruptBlock && dirError.message.contains("a directory"))
    }

    /// Every real segment's framing walks to its exact end and counts meta.json's chunks.
    @Test func framingAcceptsRealSegmentsAndCountsTheirChunks() async throws {
        let f = try await TSDBFixture(series: 20, hours: 8)
        defer { f.tmp.remove() }
        for block in try f.scanReadable() {
            let path = block.dir + "/chunks/000001"
            let digest = try FileDigest.sha256(of: path, chunkSegment: true)
            #expect(Int64(digest.chunks ?? -1) == block.meta.numChunks)
            #expect(digest.sha256 == (try await sha256sum(path)))
        }
    }

    /// Buffer boundaries can fall anywhere, even inside a chunk's length varint.
    @Test func framingIsIndependentOfHowTheFileIsSplit() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let block = try f.firstBlock()
        let data = try bytes(block.dir + "/chunks/000001")
        for piece in [1, 2, 3, 7, 64, data.count] {
            var walker = ChunkFramingWalker()
            for start in stride(from: 0, to: data.count, by: piece) {
                try data[start..<min(start + piece, data.count)].withUnsafeBytes { try walker.feed($0) }
            }
            try walker.finish()
            #expect(Int64(walker.chunks) == block.meta.numChunks)
        }
    }

    /// Cut anywhere, a segment fails the walk, unless the cut falls exactly between two chunks
    /// (then fewer chunks are counted, which `Stager.hash(expectedChunks:)` reports).
    @Test func everyTruncationIsDetected() async throws {
        let f = try await TSDBFixture(hours: 2)
        defer { f.tmp.remove() }
        let data = try bytes(try f.firstBlock().dir + "/chunks/000001")
        let boundaries = Set(chunkBoundaries(data))
        for cut in 0..<data.count {
            var walker = ChunkFramingWalker()
            var rejected = false
            do {
                try data[0..<cut].withUnsafeBytes { try walker.feed($0) }
                try walker.finish()
            } catch is ChunkFramingWalker.Corrupt {
                rejected = true
            }
            #expect(rejected == !(boundaries.contains(cut) || cut == 8), "cut at \(cut) of \(data.count)")
        }
    }

    /// A multi-MiB segment built from real chunk records, so chunks straddle the 1 MiB buffers.
    @Test func largeSegmentAcrossBuffers() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let block = try f.firstBlock()
        let data = try bytes(block.dir + "/chunks/000001")
        let records = Array(data[8...])
        var big = Array(data[0..<8])
        var copies = 0
        while big.count < 5 << 20 {
            big += records
            copies += 1
        }
        try write(big, to: f.tmp.sub("big"))
        let digest = try FileDigest.sha256(of: f.tmp.sub("big"), chunkSegment: true)
        #expect(Int64(digest.chunks!) == block.meta.numChunks * Int64(copies))
        #expect(digest.sha256 == (try await sha256sum(f.tmp.sub("big"))))
        try truncateFile(f.tmp.sub("big"), by: 1)
        let error = try #require(skiffError { _ = try FileDigest.sha256(of: f.tmp.sub("big"), chunkSegment: true) })
        #expect(error.code == .corruptBlock && error.message.contains("truncated"))
    }

    /// A never-truncated preallocated tail reads as zeros; encoding 0 does not exist.
    @Test func zeroFilledTailIsCorrupt() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let path = f.tmp.sub("zeros")
        try write(try bytes(try f.firstBlock().dir + "/chunks/000001") + [UInt8](repeating: 0, count: 4096), to: path)
        let error = try #require(skiffError { _ = try FileDigest.sha256(of: path, chunkSegment: true) })
        #expect(error.code == .corruptBlock && error.message.contains("encoding 0"))
    }
}
