import FileIO
import ObjectStorage
import SkiffCore
import Synchronization

/// A real bucket seen through a counter: every PUT per key, the most file uploads in flight at
/// once, and the part hashes each file upload was handed. `hold` keeps each file upload open a
/// while first, so overlapping uploads overlap for sure on a busy machine. `partSize`, when
/// given, is what it answers `signedPartSize` with (as S3 would), for any file.
final class CountingBucket: Bucket {
    struct Counts {
        var puts: [String: Int] = [:]
        var inFlight = 0
        var maxInFlight = 0
        var parts: [String: PartHashes] = [:]
    }

    let base: any Bucket
    let hold: Duration
    let partSize: Int64?
    private let counts = Mutex(Counts())

    init(_ base: any Bucket, hold: Duration = .zero, partSize: Int64? = nil) {
        self.base = base
        self.hold = hold
        self.partSize = partSize
    }

    var name: String { base.name }
    var puts: [String: Int] { counts.withLock { $0.puts } }
    var maxInFlight: Int { counts.withLock { $0.maxInFlight } }
    /// The part hashes handed with each key's upload (`HashedFile.parts`), when there were any.
    var parts: [String: PartHashes] { counts.withLock { $0.parts } }

    func upload(
        key: String, fileAt path: String, size: Int64, sha256: String?, hashedAs hashed: HashedFile?,
        journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        counts.withLock {
            $0.puts[key, default: 0] += 1
            $0.inFlight += 1
            $0.maxInFlight = max($0.maxInFlight, $0.inFlight)
            if let parts = hashed?.parts { $0.parts[key] = parts }
        }
        defer { counts.withLock { $0.inFlight -= 1 } }
        if hold > .zero { try? await Task.sleep(for: hold) }
        try await base.upload(key: key, fileAt: path, size: size, sha256: sha256, hashedAs: hashed, journal: journal)
    }

    func signedPartSize(forFileOfSize size: Int64) -> Int64? { partSize ?? base.signedPartSize(forFileOfSize: size) }

    func upload(key: String, bytes: [UInt8]) async throws(SkiffError) {
        counts.withLock { $0.puts[key, default: 0] += 1 }
        try await base.upload(key: key, bytes: bytes)
    }

    func attributes(key: String) async throws(SkiffError) -> ObjectAttributes? {
        try await base.attributes(key: key)
    }

    func read(
        key: String, range: Range<Int64>?, into consumer: (ArraySlice<UInt8>) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        try await base.read(key: key, range: range, into: consumer)
    }

    func list(prefix: String, recursive: Bool) async throws(SkiffError) -> [String] {
        try await base.list(prefix: prefix, recursive: recursive)
    }

    func walk(prefix: String, page: ([ObjectEntry]) async throws(SkiffError) -> Void) async throws(SkiffError) {
        try await base.walk(prefix: prefix, page: page)
    }

    func incompleteUploads(prefix: String) async throws(SkiffError) -> [String] {
        try await base.incompleteUploads(prefix: prefix)
    }

    func delete(key: String) async throws(SkiffError) { try await base.delete(key: key) }

    func abortIncompleteUploads(prefix: String) async throws(SkiffError) -> Int {
        try await base.abortIncompleteUploads(prefix: prefix)
    }

    func shutdown() async { await base.shutdown() }
}
