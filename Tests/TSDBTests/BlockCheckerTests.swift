import Foundation
import PromWire
import SkiffCore
import TSDB
import TestSupport
import Testing

/// Each damage to a copy of a real block must be reported as corrupt, naming the block and file.
@Suite(.needs(.promtool)) struct BlockCheckerTests {
    @Test func realBlocksPass() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        for block in try f.scanReadable() {
            #expect(try BlockChecker.check(block) == ["000001"])
        }
    }

    @Test func missingChunksDir() async throws {
        let error = try await damaged { block in try FileManager.default.removeItem(atPath: block.dir + "/chunks") }
        #expect(error.message.contains("has no chunks dir"))
    }

    @Test func segmentWithBadMagic() async throws {
        let error = try await damaged { block in
            var data = try bytes(block.dir + "/chunks/000001")
            data[1] ^= 0xFF
            try write(data, to: block.dir + "/chunks/000001")
        }
        #expect(error.message.contains("chunks/000001") && error.message.contains("magic"))
    }

    @Test func segmentShorterThanItsHeader() async throws {
        let error = try await damaged { block in try write([0x85, 0xBD, 0x40], to: block.dir + "/chunks/000001") }
        #expect(error.message.contains("chunks/000001") && error.message.contains("shorter than the 8-byte"))
    }

    @Test func gapInSegments() async throws {
        let error = try await damaged { block in
            try FileManager.default.moveItem(atPath: block.dir + "/chunks/000001", toPath: block.dir + "/chunks/000002")
        }
        #expect(error.message.contains("missing chunk segment chunks/000001"))
    }

    @Test func strayFileInChunksDir() async throws {
        let error = try await damaged { block in try write([1], to: block.dir + "/chunks/000001.tmp") }
        #expect(error.message.contains("unexpected file chunks/000001.tmp"))
    }

    @Test func noSegmentsThoughMetaCountsChunks() async throws {
        let error = try await damaged { block in try FileManager.default.removeItem(atPath: block.dir + "/chunks/000001") }
        #expect(error.message.contains("no chunk segment files"))
    }

    @Test func missingIndex() async throws {
        let error = try await damaged { block in try FileManager.default.removeItem(atPath: block.dir + "/index") }
        #expect(error.message.contains("has no index"))
    }

    @Test func truncatedIndex() async throws {
        let error = try await damaged { block in try truncateFile(block.dir + "/index", by: 7) }
        #expect(error.message.contains("index") && error.message.contains("CRC32C"))
    }

    @Test func corruptedByteInIndexTOC() async throws {
        let error = try await damaged { block in
            var data = try bytes(block.dir + "/index")
            data[data.count - 30] ^= 0x01
            try write(data, to: block.dir + "/index")
        }
        #expect(error.message.contains("index") && error.message.contains("CRC32C"))
    }

    /// A TOC with a valid CRC but an offset past the end (as from a file cut and re-sealed).
    @Test func indexTOCOffsetPastEnd() async throws {
        let error = try await damaged { block in
            var data = try bytes(block.dir + "/index")
            let toc = data.count - 52
            data[toc + 8] = 0x7F  // series offset becomes huge
            let crc = CRC32C.checksum(data[toc..<toc + 48])
            for i in 0..<4 { data[toc + 48 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
            try write(data, to: block.dir + "/index")
        }
        #expect(error.message.contains("points past its end"))
    }

    @Test func indexWithBadMagic() async throws {
        let error = try await damaged { block in
            var data = try bytes(block.dir + "/index")
            data[0] = 0
            try write(data, to: block.dir + "/index")
        }
        #expect(error.message.contains("index without the magic BAAAD700"))
    }

    /// Damages a copy of a real block; the check must throw `.corruptBlock` naming the block.
    private func damaged(_ damage: (LocalBlock) throws -> Void) async throws -> SkiffError {
        let f = try await TSDBFixture(hours: 2)
        defer { f.tmp.remove() }
        let (_, block) = try f.damageableCopy()
        try BlockChecker.check(block)  // sound before the damage
        try damage(block)
        let error = try #require(skiffError { try BlockChecker.check(block) })
        #expect(error.code == .corruptBlock)
        #expect(error.message.hasPrefix("block \(block.meta.ulid) "))
        #expect(!error.transient)
        return error
    }
}
