import FileIO
import Foundation
import ObjectStorage
import ObjstoreConfig
import SkiffCore
import TestSupport
import Testing

@testable import S3

/// S3 multipart uploads signed with the staging read's part hashes (`HashedFile.parts`), against
/// the juicefs gateway, which checks every part's bytes against its signed SHA-256: the file is
/// not read and hashed again before its parts go while it keeps its identity, a stale identity
/// falls back to the pre-pass (which refuses changed bytes), and a part hash that does not match
/// the bytes is refused by the server itself, which is what makes skipping the pre-pass safe.
@Suite(.serialized, .needs(.juicefs, .boto3)) struct S3HashOnceTests {
    static let partSize: Int64 = 5 << 20

    /// A file of two and a half parts, and what a staging read of it proves.
    struct Staged {
        let path: String
        let content: [UInt8]
        let hashed: HashedFile
        var sha256: String { BucketConformance.sha256Hex(content) }
    }

    func stage(_ content: [UInt8], in dir: TempDir, partsOf hashedContent: [UInt8]? = nil) throws -> Staged {
        let path = dir.sub("staged-\(UInt64.random(in: 0...UInt64.max))")
        try Data(content).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let watch = try #require(FileIdentityWatch(fd: fd), "the temp dir's file system keeps ctime")
        let identity = try #require(watch.finish(fd: fd, bytesRead: Int64(content.count)))
        let source = hashedContent ?? content
        let parts = stride(from: 0, to: source.count, by: Int(Self.partSize)).map {
            BucketConformance.sha256Hex(Array(source[$0..<min($0 + Int(Self.partSize), source.count)]))
        }
        return Staged(
            path: path, content: content,
            hashed: HashedFile(identity: identity, parts: PartHashes(partSize: Self.partSize, sha256: parts)))
    }

    func withBucket(_ body: (S3TestServer, S3Bucket) async throws -> Void) async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            // One retry: a refused part is retried (bytes can be damaged in flight), and the
            // default ten would only slow the test down.
            let yaml = server.objstoreYAML(extraConfig: ["part_size: \(Self.partSize)", "max_retries: 1"])
            guard case .s3(let config) = try BucketConfig.parse(yaml: yaml, environment: [:]).provider else {
                Issue.record("not an S3 config")
                return
            }
            let bucket = try S3Bucket(config: config)
            do {
                try await body(server, bucket)
            } catch {
                await bucket.shutdown()
                throw error
            }
            await bucket.shutdown()
        }
    }

    @Test func stagedPartHashesSignThePartsWithoutAPrePass() async throws {
        try await withBucket { server, bucket in
            let dir = try TempDir()
            defer { dir.remove() }
            let size = Int(Self.partSize) * 2 + 12345
            let staged = try stage(BucketConformance.randomBytes(size), in: dir)
            // The wrappers the sidecar puts around the bucket ask it for the same parts.
            let wrapped = try PrefixedBucket(base: InstrumentedBucket(base: bucket), prefix: "p")
            #expect(wrapped.signedPartSize(forFileOfSize: Int64(size)) == Self.partSize)
            #expect(wrapped.signedPartSize(forFileOfSize: Self.partSize - 1) == nil, "below part_size: one PUT")
            try await wrapped.upload(
                key: "b/chunks/000001", fileAt: staged.path, size: Int64(size), sha256: staged.sha256,
                hashedAs: staged.hashed, journal: nil)
            #expect(bucket.partHashing[.staged] == 1)
            #expect(bucket.partHashing[.prePass] == 0)
            #expect(try await server.objectSHA256("p/b/chunks/000001") == staged.sha256)
            // Without a staged read the same upload reads and hashes first, as after a restart.
            try await wrapped.upload(key: "b/chunks/000002", fileAt: staged.path, size: Int64(size), sha256: staged.sha256)
            #expect(bucket.partHashing[.prePass] == 1)
            #expect(try await server.objectSHA256("p/b/chunks/000002") == staged.sha256)
        }
    }

    /// Rewritten in place after the staging read, same size: the identity no longer holds, so the
    /// pre-pass reads the bytes, finds they are not the recorded ones, and nothing is stored.
    @Test func aStaleIdentityFallsBackToThePrePassWhichRefusesChangedBytes() async throws {
        try await withBucket { server, bucket in
            let dir = try TempDir()
            defer { dir.remove() }
            let size = Int(Self.partSize) * 2 + 12345
            let staged = try stage(BucketConformance.randomBytes(size), in: dir)
            var changed = staged.content
            changed[Int(Self.partSize) + 7] ^= 0x01
            let handle = try #require(FileHandle(forWritingAtPath: staged.path))
            try handle.write(contentsOf: Data(changed))
            try handle.close()
            let error = await BucketConformance.failure { () async throws(SkiffError) in
                try await bucket.upload(
                    key: "b/chunks/000001", fileAt: staged.path, size: Int64(size), sha256: staged.sha256,
                    hashedAs: staged.hashed, journal: nil)
            }
            #expect(error?.message.contains("changed since it was hashed") == true, "\(String(describing: error))")
            #expect(error?.transient == false)
            #expect(bucket.partHashing[.prePass] == 1)
            #expect(bucket.partHashing[.staged] == 0)
            #expect(try await server.listObjects().isEmpty)
        }
    }

    /// Part hashes that are not those of the file's bytes, with the file's true identity: what a
    /// change the identity could not see would send. The server checks each part's payload hash
    /// and refuses the part, so the staged hashes are never trusted alone; the upload then reads
    /// the file (the pre-pass), finds it is not the recorded bytes, and stores nothing.
    @Test func theServerRefusesAPartWhoseBytesAreNotItsStagedHash() async throws {
        try await withBucket { server, bucket in
            let dir = try TempDir()
            defer { dir.remove() }
            let size = Int(Self.partSize) * 2 + 12345
            let recorded = BucketConformance.randomBytes(size)
            var onDisk = recorded
            onDisk[Int(Self.partSize) * 2 + 3] ^= 0x01  // in the last part only
            let staged = try stage(onDisk, in: dir, partsOf: recorded)
            let error = await BucketConformance.failure { () async throws(SkiffError) in
                try await bucket.upload(
                    key: "b/chunks/000001", fileAt: staged.path, size: Int64(size),
                    sha256: BucketConformance.sha256Hex(recorded), hashedAs: staged.hashed, journal: nil)
            }
            #expect(error?.message.contains("changed since it was hashed") == true, "\(String(describing: error))")
            #expect(error?.transient == false)
            #expect(bucket.partHashing[.staged] == 1)
            #expect(bucket.partHashing[.prePass] == 1)
            #expect(try await server.listObjects().isEmpty)
        }
    }
}
