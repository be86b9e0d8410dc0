import FileIO
import Foundation
import SkiffCore
import TestSupport
import Testing

@testable import ObjectStorage

/// The FILESYSTEM bucket's copy path: kernel-side without a second hash while the file keeps the
/// identity it was hashed with, a hashing copy whenever that is not proven (real files, real
/// copy_file_range; `copies` tells which path each upload took).
@Suite struct FilesystemCopyTests {
    static let size = 3 * FilesystemBucket.bufferSize + 123

    /// A bucket and random content of `size` bytes, in a temp dir.
    struct Fixture {
        let dir: TempDir
        let bucket: FilesystemBucket
        let content = BucketConformance.randomBytes(FilesystemCopyTests.size)

        init() throws {
            dir = try TempDir()
            bucket = try FilesystemBucket(directory: dir.sub("bucket"))
        }

        /// Writes the content to `path` and returns its SHA-256 and what a whole read of it saw.
        func hashedFile(at path: String) throws -> (sha256: String, identity: FileIdentity) {
            try Data(content).write(to: URL(fileURLWithPath: path))
            let fd = open(path, O_RDONLY)
            try #require(fd >= 0)
            defer { close(fd) }
            let watch = try #require(FileIdentityWatch(fd: fd), "a temp dir on a file system whose ctime is trusted")
            let identity = try #require(watch.finish(fd: fd, bytesRead: Int64(content.count)))
            return (BucketConformance.sha256Hex(content), identity)
        }

        func upload(_ key: String, from path: String, sha256: String, identity: FileIdentity?) async throws(SkiffError) {
            try await bucket.upload(
                key: key, fileAt: path, size: Int64(content.count), sha256: sha256,
                hashedAs: identity.map { HashedFile(identity: $0) }, journal: nil)
        }
    }

    @Test func anUnchangedFileIsCopiedInTheKernelWithoutHashing() async throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let (sha, identity) = try f.hashedFile(at: f.dir.sub("src"))
        try await f.upload("b/chunks/000001", from: f.dir.sub("src"), sha256: sha, identity: identity)
        #expect(f.bucket.copies[.kernel] == 1)
        #expect(f.bucket.copies[.hashing] == 0)
        #expect(try await f.bucket.readAll(key: "b/chunks/000001") == f.content)
        // Without an identity the same upload hashes, as before.
        try await f.upload("b/index", from: f.dir.sub("src"), sha256: sha, identity: nil)
        #expect(f.bucket.copies[.hashing] == 1)
        #expect(try await f.bucket.readAll(key: "b/index") == f.content)
    }

    /// Bytes rewritten in place after the hash, size kept: the identity no longer matches, the
    /// copy hashes and refuses, and no object appears.
    @Test func changedBytesOfTheSameSizeAreCaughtAndNothingLands() async throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let (sha, identity) = try f.hashedFile(at: f.dir.sub("src"))
        let handle = try #require(FileHandle(forWritingAtPath: f.dir.sub("src")))
        try handle.seek(toOffset: UInt64(Self.size / 2))
        try handle.write(contentsOf: Data([f.content[Self.size / 2] ^ 0xFF]))
        try handle.close()
        #expect(try FileManager.default.attributesOfItem(atPath: f.dir.sub("src"))[.size] as? Int == Self.size)
        do {
            try await f.upload("b/chunks/000001", from: f.dir.sub("src"), sha256: sha, identity: identity)
            Issue.record("a file changed after it was hashed was uploaded")
        } catch {
            #expect(error.code == .bucket)
            #expect(error.message.contains("changed since it was hashed"), "\(error)")
        }
        #expect(f.bucket.copies[.kernel] == 0)
        #expect(try await f.bucket.attributes(key: "b/chunks/000001") == nil)
        #expect(try await f.bucket.list(prefix: "", recursive: true) == [])
    }

    /// Only the mtime moved (touch): the identity differs, so the copy hashes, and as the bytes
    /// are those hashed, it lands.
    @Test func anMtimeOnlyChangeFallsBackToHashingAndSucceeds() async throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let (sha, identity) = try f.hashedFile(at: f.dir.sub("src"))
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: f.dir.sub("src"))
        try await f.upload("b/index", from: f.dir.sub("src"), sha256: sha, identity: identity)
        #expect(f.bucket.copies[.hashing] == 1)
        #expect(f.bucket.copies[.kernel] == 0)
        #expect(try await f.bucket.readAll(key: "b/index") == f.content)
    }

    /// Prometheus deleting its block dir drops the staged link's count, which moves its ctime:
    /// that costs a hashing copy, never a failure.
    @Test func aLinkCountChangeFallsBackToHashingAndSucceeds() async throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let (sha, identity) = try f.hashedFile(at: f.dir.sub("prometheus"))
        #expect(link(f.dir.sub("prometheus"), f.dir.sub("staged")) == 0)
        let (_, staged) = try f.hashedFile(at: f.dir.sub("staged"))  // hashed after staging, as the shipper does
        #expect(staged.inode == identity.inode)
        #expect(unlink(f.dir.sub("prometheus")) == 0)
        try await f.upload("b/index", from: f.dir.sub("staged"), sha256: sha, identity: staged)
        #expect(f.bucket.copies[.hashing] == 1)
        #expect(try await f.bucket.readAll(key: "b/index") == f.content)
    }

    /// A source on another file system (tmpfs under /dev/shm, the bucket on the temp dir's):
    /// copy_file_range says EXDEV, and read and write copy it, still without a hash.
    @Test func acrossFileSystemsTheCopyFallsBackToReadAndWrite() async throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let shm = "/dev/shm/skiff-test-\(UInt64.random(in: 0...UInt64.max))"
        defer { unlink(shm) }
        let (sha, identity) = try f.hashedFile(at: shm)
        let bucketDevice = try #require(try FileManager.default.attributesOfItem(atPath: f.dir.path)[.systemNumber] as? Int)
        try #require(UInt64(bucketDevice) != identity.device, "/dev/shm and \(f.dir.path) must be different file systems")
        try await f.upload("b/chunks/000002", from: shm, sha256: sha, identity: identity)
        #expect(f.bucket.copies[.readWrite] == 1)
        #expect(f.bucket.copies[.hashing] == 0)
        #expect(try await f.bucket.readAll(key: "b/chunks/000002") == f.content)
    }

    /// A file changed within the clock tick of the watch's start gets no identity until the
    /// tick has passed: a write in the same tick would leave its ctime as it was.
    @Test func aFileIsWatchedOnlyOnceItsCtimeIsBehindTheClock() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir.sub("f")))
        let fd = open(dir.sub("f"), O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let watch = try #require(FileIdentityWatch(fd: fd))
        #expect(watch.before.changedNanos < watch.clock)
        #expect(watch.finish(fd: fd, bytesRead: 3) == watch.before)
        #expect(watch.finish(fd: fd, bytesRead: 2) == nil, "a read that saw another length vouches for nothing")
    }
}
