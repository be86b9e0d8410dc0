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
        Check(name: "missing source file", body: missingSourceFile),
        Check(name: "upload bytes round trip", body: uploadBytesRoundTrip),
        Check(name: "re-upload and overwrite", body: reuploadAndOverwrite),
        Check(name: "ranged read", body: rangedRead),
        Check(name: "missing object", body: missingObject),
        Check(name: "list", body: listing),
        Check(name: "list many keys", body: listManyKeys),
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
        #expect(await failure { () async throws(SkiffError) in
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
    }

    // MARK: - Deletes

    static func delete(_ bucket: any Bucket) async throws {
        try await bucket.upload(key: "blk/chunks/000001", bytes: [1])
        try await bucket.upload(key: "blk/index", bytes: [2])
        try await bucket.delete(key: "blk/chunks/000001")
        #expect(try await bucket.attributes(key: "blk/chunks/000001") == nil)
        #expect(await failure { () async throws(SkiffError) in _ = try await bucket.readAll(key: "blk/chunks/000001") }?.code == .notFound)
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
            #expect(await failure { () async throws(SkiffError) in
                _ = try await bucket.list(prefix: prefix, recursive: true)
            }?.code == .invalidArgument, "prefix \"\(prefix)\"")
        }
        #expect(try await bucket.list(prefix: "", recursive: true) == [])
    }

    // MARK: - Helpers

    /// The error `body` throws; records an issue (and returns nil) when it throws none.
    static func failure(
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

    static func randomBytes(_ count: Int) -> [UInt8] {
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

    /// SHA-256 as lower-case hex. A small independent implementation (FIPS 180-4), so a bucket's
    /// digest check is not verified against the library it uses itself.
    public static func sha256Hex(_ message: [UInt8]) -> String {
        var h: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        var data = message
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        let bits = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        var w = [UInt32](repeating: 0, count: 64)
        data.withUnsafeBufferPointer { bytes in
            for block in stride(from: 0, to: bytes.count, by: 64) {
                for t in 0..<16 {
                    let i = block + t * 4
                    w[t] = UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
                }
                for t in 16..<64 {
                    let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                    let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                    w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                }
                var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
                for t in 0..<64 {
                    let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[t] &+ w[t]
                    let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                    (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
                }
                for (i, v) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ v }
            }
        }
        return h.map { word in
            let s = String(word, radix: 16)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
    }

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }

    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}
