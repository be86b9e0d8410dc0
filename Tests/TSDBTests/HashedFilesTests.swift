import Foundation
import SkiffCore
import TSDB
import TestSupport
import Testing

/// `Stager.hash` notes what it saw of each staged file, for the upload to copy without hashing
/// again; the note vouches only for the hash it was made with and ends when the block is staged
/// again or removed.
@Suite(.needs(.promtool)) struct HashedFilesTests {
    @Test func hashingNotesEachStagedFilesIdentityForItsOwnHashOnly() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let block = try f.firstBlock()
        let ulid = block.meta.ulid
        let stager = Stager(tsdbPath: f.tsdb)
        let staged = try stager.stage(block)
        let hashed = try stager.hash(staged)
        for (file, digest) in zip(staged, hashed) {
            let identity = try #require(
                stager.hashed.hashed(ulid, relPath: file.relPath, sha256: digest.sha256, size: digest.sizeBytes)?.identity,
                "\(file.relPath)")
            #expect(identity.inode == inodeAndMtime(file.path).inode)
            #expect(identity.size == file.size)
            let other = String(repeating: "0", count: 64)
            #expect(stager.hashed.hashed(ulid, relPath: file.relPath, sha256: other, size: digest.sizeBytes) == nil)
            #expect(stager.hashed.hashed(ulid, relPath: file.relPath, sha256: digest.sha256, size: 1) == nil)
        }
        // Staging again links anew (the ctime moves): the old notes are forgotten.
        _ = try stager.stage(block)
        #expect(stager.hashed.hashed(ulid, relPath: "index", sha256: hashed[1].sha256, size: hashed[1].sizeBytes) == nil)
        _ = try stager.hash(staged)
        try stager.remove(ulid)
        #expect(stager.hashed.hashed(ulid, relPath: "index", sha256: hashed[1].sha256, size: hashed[1].sizeBytes) == nil)
    }
}
