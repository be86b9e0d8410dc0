import FileIO
import Foundation
import Ledger
import ObjectStorage
import SkiffCore
import TestSupport
import Testing

@testable import Shipper

/// Each byte hashed once per ship: the staging hash notes each file's identity, and the
/// FILESYSTEM bucket copies kernel-side while the staged file keeps it (real blocks, bucket and
/// ledger; the bucket's `copies` says which path each upload took).
@Suite(.needs(.promtool)) struct ShipperHashOnceTests {
    typealias Fixture = ShipperTests.Fixture

    func fileCount(_ f: Fixture) async throws -> Int {
        var count = 0
        for ulid in f.blocks { count += try await f.ledger.files(ulid).count }
        return count
    }

    @Test func aShipHashesEachFileOnceAndCopiesItInTheKernel() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let summary = try await f.shipper().syncOnce()
        #expect(Set(summary.committed) == Set(f.blocks))
        #expect(f.bucket.copies[.kernel] == (try await fileCount(f)))
        #expect(f.bucket.copies[.hashing] == 0)
        #expect(f.bucket.copies[.readWrite] == 0)
        // What landed is what was hashed: Prometheus' own tool reads the copies.
        let listing = try await PromBlocks.promtoolList(f.dir.sub("bucket"))
        for ulid in f.blocks { #expect(listing.contains(ulid.string)) }
    }

    /// A restarted process knows no identities: the files left to upload are hashed while copied.
    @Test func afterARestartTheRemainingFilesAreHashedWhileCopied() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        _ = try await f.shipper(failpoints: "before:upload:index=error", attemptsPerPass: 1).syncOnce()
        #expect(f.bucket.copies[.kernel] >= 1, "the chunks went kernel-side before the failure")
        let summary = try await f.shipper().syncOnce()  // a new shipper: what a restart has
        #expect(summary.committed.contains(f.blocks[0]))
        #expect(f.bucket.copies[.hashing] == 1, "the index of the first block, after the restart")
    }

    /// The staged chunk file rewritten (same size) between hashing and upload, in the same
    /// process: the identity no longer matches, the hashing copy refuses it, nothing commits.
    @Test func aFileChangedAfterHashingIsNeverCommitted() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let ulid = f.blocks[0]
        let shipper = try f.shipper(failpoints: "before:upload:chunks/000001=error@1", attemptsPerPass: 1)
        _ = try await shipper.syncOnce()
        #expect(try await f.state(ulid) == .failed)
        let chunk = "\(f.tsdb)/thanos/upload/\(ulid)/chunks/000001"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: chunk)))
        bytes[bytes.count - 5] ^= 0xFF  // the last chunk's CRC: same size, different bytes
        let handle = try #require(FileHandle(forWritingAtPath: chunk))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
        _ = try await shipper.syncOnce()
        #expect(try await f.state(ulid) == .failed)
        #expect(try await f.bucket.attributes(key: "\(ulid)/chunks/000001") == nil)
        #expect(try await f.bucket.attributes(key: "\(ulid)/meta.json") == nil)
        let error = try await f.ledger.block(ulid)?.lastError ?? ""
        #expect(error.contains("changed since it was hashed"), "\(error)")
        // Quarantined as locally damaged, so the newer blocks went on, kernel-side.
        guard case .failed(let failure) = try await f.ledger.block(ulid)?.machine.phase else {
            Issue.record("block \(ulid) is not failed")
            return
        }
        #expect(failure.quarantined)
        #expect(f.bucket.copies[.kernel] > 0)
    }

    /// The shipper asks the bucket how it cuts each file and hands every upload the part hashes
    /// of the staging read: each the SHA-256 of its own range of the file that landed.
    @Test func eachUploadGetsThePartHashesItsBucketAskedFor() async throws {
        let f = try await Fixture()
        defer { f.dir.remove() }
        let partSize: Int64 = 4096
        let bucket = CountingBucket(f.bucket, partSize: partSize)
        let summary = try await f.shipper(bucket: bucket) { _ in }.syncOnce()
        #expect(Set(summary.committed) == Set(f.blocks))
        #expect(bucket.parts.count == (try await fileCount(f)))
        for ulid in f.blocks {
            for file in try await f.ledger.files(ulid) {
                let key = "\(ulid)/\(file.relPath)"
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: f.dir.sub("bucket/\(key)"))))
                let expected = stride(from: 0, to: max(bytes.count, 1), by: Int(partSize)).map {
                    BucketConformance.sha256Hex(Array(bytes[$0..<min($0 + Int(partSize), bytes.count)]))
                }
                #expect(bucket.parts[key] == PartHashes(partSize: partSize, sha256: expected), "\(key)")
            }
        }
    }
}
