import Crypto
import FileIO
import Foundation
import ObjectStorage
import SkiffCore
import Testing

/// The behaviour every `Bucket` implementation must have (the contract in `Bucket.swift`), as
/// checks any implementation's tests can run:
///
/// ```swift
/// @Test(arguments: BucketConformance.checks)
/// func conforms(_ check: BucketConformance.Check) async throws {
///     try await check.run(on: makeEmptyBucket())
/// }
/// ```
///
/// Each check expects an empty bucket and reports through `#expect`/`#require`.
public enum BucketConformance {
    /// One behaviour, run against a fresh, empty bucket.
    public struct Check: Sendable, CustomTestStringConvertible {
        public let name: String
        let body: @Sendable (any Bucket) async throws -> Void

        public var testDescription: String { name }

        /// Runs the check against `bucket`, which must be empty.
        public func run(on bucket: any Bucket) async throws { try await body(bucket) }
    }

    /// Every check.
    public static let checks: [Check] = [
        Check(name: "upload file round trip", body: uploadFileRoundTrip),
        Check(name: "sha256 mismatch rejected", body: sha256MismatchRejected),
        Check(name: "size mismatch rejected", body: sizeMismatchRejected),
        Check(name: "a stale hashed identity still rejects changed bytes", body: staleIdentityRejected),
        Check(name: "missing source file", body: missingSourceFile),
        Check(name: "upload bytes round trip", body: uploadBytesRoundTrip),
        Check(name: "re-upload and overwrite", body: reuploadAndOverwrite),
        Check(name: "ranged read", body: rangedRead),
        Check(name: "missing object", body: missingObject),
        Check(name: "list", body: listing),
        Check(name: "list many keys", body: listManyKeys),
        Check(name: "walk with sizes", body: walk),
        Check(name: "delete", body: delete),
        Check(name: "keys needing percent-encoding", body: awkwardKeys),
        Check(name: "invalid keys rejected", body: invalidKeysRejected),
    ]

    /// Runs every check in turn, each against a new empty bucket from `makeBucket`.
    public static func run(_ makeBucket: () async throws -> any Bucket) async throws {
        for check in checks { try await check.run(on: makeBucket()) }
    }

    /// The largest piece `read` may hand its consumer.
    public static let maxPieceBytes = 1 << 20

    // MARK: - Uploads

    static func uploadFileRoundTrip(_ bucket: any Bucket) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let before = nowMillis()
        // Empty, tiny, and several read pieces with a ragged end.
        for (key, size) in [("blk/empty", 0), ("blk/one", 1), ("blk/chunks/000001", 3 * maxPieceBytes + 17)] {
            let content = randomBytes(size)
            let path = try write(content, in: dir)
            try await bucket.upload(key: key, fileAt: path, size: Int64(size), sha256: sha256Hex(content))
            let attributes = try #require(try await bucket.attributes(key: key))
            #expect(attributes.size == Int64(size), "\(key)")
            // Generous: an object store's clock may differ from ours.
            #expect(abs(attributes.lastModifiedMillis - before) < 3_600_000, "\(key)")
            var pieces: [Int] = []
            var read: [UInt8] = []
            try await bucket.read(key: key, range: nil) { (piece: ArraySlice<UInt8>) throws(SkiffError) in
                pieces.append(piece.count)
                read.append(contentsOf: piece)
            }
            #expect(read == content, "\(key) differs after the round trip")
            #expect(pieces.allSatisfy { $0 <= maxPieceBytes }, "\(key) read in pieces \(pieces)")
        }
        // Without a digest the upload is not checked, but still lands.
        let content = randomBytes(1000)
        try await bucket.upload(key: "blk/index", fileAt: try write(content, in: dir), size: 1000, sha256: nil)
        #expect(try await bucket.readAll(key: "blk/index") == content)
    }

    static func sha256MismatchRejected(_ bucket: any Bucket) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let content = randomBytes(5000)
        let path = try write(content, in: dir)
        let wrong = String(repeating: "0", count: 64)
        let error = await failure { () async throws(SkiffError) in
            try await bucket.upload(key: "b/index", fileAt: path, size: 5000, sha256: wrong)
        }
        #expect(error?.code == .bucket)
        #expect(error?.transient == false)
        #expect(error?.message.contains("sha256") == true, "\(String(describing: error))")
        #expect(try await bucket.attributes(key: "b/index") == nil)
        #expect(try await bucket.list(prefix: "", recursive: true) == [])
        #expect(try await bucket.list(prefix: "", recursive: false) == [])

        // A rejected overwrite keeps the object that was there.
        try await bucket.upload(key: "b/index", fileAt: path, size: 5000, sha256: sha256Hex(content))
        let other = try write(randomBytes(5000), in: dir)
        #expect(
            await failure { () async throws(SkiffError) in
                try await bucket.upload(key: "b/index", fileAt: other, size: 5000, sha256: sha256Hex(content))
            }?.code == .bucket)
        #expect(try await bucket.readAll(key: "b/index") == content)
        #expect(try await bucket.list(prefix: "", recursive: true) == ["b/index"])
    }

    static func sizeMismatchRejected(_ bucket: any Bucket) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let content = randomBytes(4096)
        let path = try write(content, in: dir)
        for claimed: Int64 in [4095, 4097, 0] {
            for digest in [sha256Hex(content), nil] {
                let error = await failure { () async throws(SkiffError) in
                    try await bucket.upload(key: "b/chunk", fileAt: path, size: claimed, sha256: digest)
                }
                #expect(error?.code == .bucket, "claimed \(claimed)")
                #expect(error?.transient == false, "claimed \(claimed)")
            }
        }
        #expect(try await bucket.attributes(key: "b/chunk") == nil)
        #expect(try await bucket.list(prefix: "", recursive: true) == [])
        #expect(try await bucket.list(prefix: "", recursive: false) == [])
    }

    /// The file was hashed (its identity noted), then rewritten in place with as many bytes: an
    /// upload given the old hash and identity must still refuse it, whether the bucket uses the
    /// identity (FILESYSTEM: it no longer matches, so the copy hashes) or ignores it.
    static func staleIdentityRejected(_ bucket: any Bucket) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let content = randomBytes(2 * maxPieceBytes + 5)
        let path = try write(content, in: dir)
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        let identity = FileIdentityWatch(fd: fd)?.finish(fd: fd, bytesRead: Int64(content.count))
        close(fd)
        try #require(identity != nil, "the temp dir's file system keeps ctime")
        var changed = content
        changed[maxPieceBytes] ^= 0x01
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data(changed))
        try handle.close()
        let error = await failure { () async throws(SkiffError) in
            try await bucket.upload(
                key: "b/chunks/000001", fileAt: path, size: Int64(content.count), sha256: sha256Hex(content),
                hashedAs: identity.map { HashedFile(identity: $0) }, journal: nil)
        }
        #expect(error?.code == .bucket)
        #expect(error?.transient == false)
        #expect(try await bucket.attributes(key: "b/chunks/000001") == nil)
        #expect(try await bucket.list(prefix: "", recursive: true) == [])
    }

    static func missingSourceFile(_ bucket: any Bucket) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let error = await failure { () async throws(SkiffError) in
            try await bucket.upload(key: "b/index", fileAt: dir.sub("gone"), size: 1, sha256: nil)
        }
        #expect(error?.code == .blockVanished)
        #expect(try await bucket.attributes(key: "b/index") == nil)
    }

    static func uploadBytesRoundTrip(_ bucket: any Bucket) async throws {
        let meta = Array(#"{"ulid":"01ARZ3NDEKTSV4RRFFQ69G5FAV","version":1}"#.utf8)
        try await bucket.upload(key: "01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json", bytes: meta)
        #expect(try await bucket.readAll(key: "01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json") == meta)
        #expect(try await bucket.attributes(key: "01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json")?.size == Int64(meta.count))
        try await bucket.upload(key: "empty", bytes: [])
        #expect(try await bucket.attributes(key: "empty")?.size == 0)
        #expect(try await bucket.readAll(key: "empty") == [])
    }

    static func reuploadAndOverwrite(_ bucket: any Bucket) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let first = randomBytes(3000)
        let path = try write(first, in: dir)
        for _ in 0..<2 {
            try await bucket.upload(key: "b/index", fileAt: path, size: 3000, sha256: sha256Hex(first))
            #expect(try await bucket.readAll(key: "b/index") == first)
        }
        let shorter = randomBytes(10)
        try await bucket.upload(key: "b/index", bytes: shorter)
        #expect(try await bucket.readAll(key: "b/index") == shorter)
        #expect(try await bucket.attributes(key: "b/index")?.size == 10)
        try await bucket.upload(key: "b/index", bytes: shorter)
        #expect(try await bucket.list(prefix: "", recursive: true) == ["b/index"])
    }

    // MARK: - Reads

    static func rangedRead(_ bucket: any Bucket) async throws {
        let n = maxPieceBytes + 100
        let content = randomBytes(n)
        try await bucket.upload(key: "obj", bytes: content)
        let size = Int64(n)
        let piece = Int64(maxPieceBytes)
        let cases: [(Range<Int64>, Range<Int>)] = [
            (0..<10, 0..<10),  // start
            (500..<1500, 500..<1500),  // middle
            (size - 10..<size, n - 10..<n),  // end
            (piece - 3..<piece + 3, maxPieceBytes - 3..<maxPieceBytes + 3),  // across a piece boundary
            (0..<size, 0..<n),  // all
            (size - 5..<size + 100, n - 5..<n),  // clamped to the end
            (size..<size + 10, n..<n),  // starts at the end
            (size + 50..<size + 60, n..<n),  // starts past the end
            (10..<10, 10..<10),  // empty
        ]
        for (range, expected) in cases {
            var read: [UInt8] = []
            try await bucket.read(key: "obj", range: range) { (piece: ArraySlice<UInt8>) throws(SkiffError) in
                read.append(contentsOf: piece)
            }
            #expect(read == Array(content[expected]), "range \(range)")
        }
    }

    static func missingObject(_ bucket: any Bucket) async throws {
        for range: Range<Int64>? in [nil, 0..<10] {
            var called = false
            let error = await failure { () async throws(SkiffError) in
                try await bucket.read(key: "no/such/object", range: range) { (_: ArraySlice<UInt8>) throws(SkiffError) in
                    called = true
                }
            }
            #expect(error?.code == .notFound, "range \(String(describing: range))")
            #expect(!called)
        }
        #expect(try await bucket.attributes(key: "no/such/object") == nil)
        #expect(try await bucket.exists(key: "no/such/object") == false)
        // A "directory" (a common prefix) is not an object.
        try await bucket.upload(key: "dir/object", bytes: [1])
        #expect(try await bucket.attributes(key: "dir") == nil)
        #expect(await failure { () async throws(SkiffError) in _ = try await bucket.readAll(key: "dir") }?.code == .notFound)
    }

    // MARK: - Listing

    static func listing(_ bucket: any Bucket) async throws {
        for key in ["a/b/c", "a/b/d", "a/e", "a.txt", "b", "ab/x"] {
            try await bucket.upload(key: key, bytes: Array(key.utf8))
        }
        // Byte order: "." (0x2E) < "/" (0x2F) < "b".
        let expectations: [(prefix: String, recursive: Bool, keys: [String])] = [
            ("", false, ["a.txt", "a/", "ab/", "b"]),
            ("", true, ["a.txt", "a/b/c", "a/b/d", "a/e", "ab/x", "b"]),
            ("a/", false, ["a/b/", "a/e"]),
            ("a/", true, ["a/b/c", "a/b/d", "a/e"]),
            ("a", false, ["a.txt", "a/", "ab/"]),
            ("a", true, ["a.txt", "a/b/c", "a/b/d", "a/e", "ab/x"]),
            ("a/b", false, ["a/b/"]),
            ("a/b/", false, ["a/b/c", "a/b/d"]),
            ("a/b/c", false, ["a/b/c"]),
            ("zzz/", false, []),
            ("zzz/", true, []),
            ("a/e/", true, []),  // an object is not a directory
        ]
        for e in expectations {
            #expect(
                try await bucket.list(prefix: e.prefix, recursive: e.recursive) == e.keys,
                "list(prefix: \"\(e.prefix)\", recursive: \(e.recursive))")
        }
    }

    static func listManyKeys(_ bucket: any Bucket) async throws {
        var keys: [String] = []
        for i in 0..<300 {
            // Unpadded numbers, so upload order, numeric order and byte order all differ.
            let key = "many/\(i % 3)/\(i * 7919 % 1000)"
            keys.append(key)
            try await bucket.upload(key: key, bytes: [UInt8(i % 256)])
        }
        let sorted = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(try await bucket.list(prefix: "many/", recursive: true) == sorted)
        #expect(try await bucket.list(prefix: "many/", recursive: false) == ["many/0/", "many/1/", "many/2/"])
        #expect(try await bucket.list(prefix: "many/1/", recursive: false) == sorted.filter { $0.hasPrefix("many/1/") })
        #expect(try await bucket.list(prefix: "many/1/", recursive: false).count == 100)
        #expect(try await walked(bucket, prefix: "many/") == sorted.map { ObjectEntry(key: $0, size: 1) })
    }

    static func walk(_ bucket: any Bucket) async throws {
        for key in ["a/b/c", "a/b/d", "a/e", "a.txt", "b", "ab/x"] {
            try await bucket.upload(key: key, bytes: Array(key.utf8))
        }
        let all = ["a.txt", "a/b/c", "a/b/d", "a/e", "ab/x", "b"].map { ObjectEntry(key: $0, size: Int64($0.utf8.count)) }
        #expect(try await walked(bucket, prefix: "") == all)
        #expect(try await walked(bucket, prefix: "a/") == all.filter { $0.key.hasPrefix("a/") })
        #expect(try await walked(bucket, prefix: "a/b/") == all.filter { $0.key.hasPrefix("a/b/") })
        #expect(try await walked(bucket, prefix: "zzz/") == [])
        #expect(try await bucket.incompleteUploads(prefix: "") == [])
    }

    /// Every page of a walk, concatenated; each page must be non-empty.
    static func walked(_ bucket: any Bucket, prefix: String) async throws -> [ObjectEntry] {
        var entries: [ObjectEntry] = []
        try await bucket.walk(prefix: prefix) { (page: [ObjectEntry]) throws(SkiffError) in
            #expect(!page.isEmpty)
            entries += page
        }
        return entries
    }

    // MARK: - Deletes

    static func delete(_ bucket: any Bucket) async throws {
        try await bucket.upload(key: "blk/chunks/000001", bytes: [1])
        try await bucket.upload(key: "blk/index", bytes: [2])
        try await bucket.delete(key: "blk/chunks/000001")
        #expect(try await bucket.attributes(key: "blk/chunks/000001") == nil)
        #expect(
            await failure { () async throws(SkiffError) in _ = try await bucket.readAll(key: "blk/chunks/000001") }?.code
                == .notFound)
        #expect(try await bucket.list(prefix: "", recursive: true) == ["blk/index"])
        #expect(try await bucket.list(prefix: "blk/", recursive: false) == ["blk/index"])
        // Absent keys: already deleted, never written, a "directory".
        try await bucket.delete(key: "blk/chunks/000001")
        try await bucket.delete(key: "never/written")
        try await bucket.delete(key: "blk")
        #expect(try await bucket.readAll(key: "blk/index") == [2])
        try await bucket.delete(key: "blk/index")
        #expect(try await bucket.list(prefix: "", recursive: false) == [])
    }

    // MARK: - Keys

    static func awkwardKeys(_ bucket: any Bucket) async throws {
        let keys = [
            "dir with space/file name.txt", "plus+and=equals/a+b=c", "percent%20literal/%2F", "ünïcödé/日本語.bin",
            "query?x=1&y=2#frag", "tilde~star*quote'(paren)!", "colon:semi;comma,at@dollar$", "emoji/🚀",
        ]
        for (i, key) in keys.enumerated() {
            try await bucket.upload(key: key, bytes: Array(key.utf8) + [UInt8(i)])
        }
        for (i, key) in keys.enumerated() {
            #expect(try await bucket.readAll(key: key) == Array(key.utf8) + [UInt8(i)], "\(key)")
            #expect(try await bucket.attributes(key: key)?.size == Int64(key.utf8.count + 1), "\(key)")
        }
        let sorted = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(try await bucket.list(prefix: "", recursive: true) == sorted)
        #expect(try await bucket.list(prefix: "dir with space/", recursive: false) == ["dir with space/file name.txt"])
        #expect(try await bucket.list(prefix: "ünïcödé/", recursive: true) == ["ünïcödé/日本語.bin"])
        for key in keys { try await bucket.delete(key: key) }
        #expect(try await bucket.list(prefix: "", recursive: true) == [])
    }

    static func invalidKeysRejected(_ bucket: any Bucket) async throws {
        for key in ["", "/abs", "../up", "a/../b", "a/./b", "a//b", "a/", ".."] {
            let errors = [
                await failure { () async throws(SkiffError) in try await bucket.upload(key: key, bytes: [1]) },
                await failure { () async throws(SkiffError) in _ = try await bucket.attributes(key: key) },
                await failure { () async throws(SkiffError) in _ = try await bucket.readAll(key: key) },
                await failure { () async throws(SkiffError) in try await bucket.delete(key: key) },
            ]
            #expect(errors.map { $0?.code } == Array(repeating: .invalidArgument, count: 4), "key \"\(key)\"")
        }
        for prefix in ["/abs", "../", "a/../"] {
            #expect(
                await failure { () async throws(SkiffError) in
                    _ = try await bucket.list(prefix: prefix, recursive: true)
                }?.code == .invalidArgument, "prefix \"\(prefix)\"")
        }
        #expect(try await bucket.list(prefix: "", recursive: true) == [])
    }

    // MARK: - Helpers

    /// The error `body` throws; records an issue (and returns nil) when it throws none.
    public static func failure(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws(SkiffError) -> Void
    ) async -> SkiffError? {
        do {
            try await body()
        } catch {
            return error
        }
        Issue.record("expected a SkiffError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    }

    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            for i in stride(from: 0, to: raw.count, by: 8) {
                var word = generator.next()
                let end = min(i + 8, raw.count)
                withUnsafeBytes(of: &word) { raw[i..<end].copyBytes(from: $0.prefix(end - i)) }
            }
        }
        return out
    }

    /// Writes `bytes` to a new file in `dir` and returns its path.
    static func write(_ bytes: [UInt8], in dir: TempDir) throws -> String {
        let path = dir.sub("src-\(UInt64.random(in: 0...UInt64.max))")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// SHA-256 as lower-case hex (swift-crypto; the hashing itself is tested against sha256sum in TSDBTests).
    public static func sha256Hex(_ message: [UInt8]) -> String {
        SHA256.hash(data: message).map { String(format: "%02x", $0) }.joined()
    }
}
