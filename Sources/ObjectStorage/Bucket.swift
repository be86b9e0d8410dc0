import FileIO
import SkiffCore

/// What a bucket knows about a stored object.
public struct ObjectAttributes: Sendable, Equatable {
    public let size: Int64
    /// Milliseconds since the Unix epoch.
    public let lastModifiedMillis: Int64

    public init(size: Int64, lastModifiedMillis: Int64) {
        self.size = size
        self.lastModifiedMillis = lastModifiedMillis
    }
}

/// One object in a recursive listing.
public struct ObjectEntry: Sendable, Equatable {
    public let key: String
    public let size: Int64

    public init(key: String, size: Int64) {
        self.key = key
        self.size = size
    }
}

/// Object storage as the shipper needs it. Implementations: `FilesystemBucket` (here) and S3.
///
/// Contract (checked by the conformance suite in TestSupport, run against every implementation):
/// - Uploads are atomic: a reader sees the old object, the whole new object, or nothing; never a prefix.
/// - Uploads and deletes are idempotent. Deleting an absent key succeeds.
/// - `list` is sorted; a non-recursive listing returns the direct children of `prefix`, with
///   "directories" as keys ending in "/" (Thanos' Iter semantics).
/// - Errors are `SkiffError`: `.notFound` for a missing object on read, `.bucket` otherwise, with
///   `transient` telling the shipper whether a retry may help. Messages never contain secrets.
public protocol Bucket: Sendable {
    /// A short name for logs and metrics (a directory path or bucket name, never credentials).
    var name: String { get }

    /// Streams the local file at `path` (of `size` bytes) to `key`. When `sha256` (lower-case hex)
    /// is given, the bytes are checked against it in the same pass and a mismatch fails the upload
    /// without leaving an object behind. `hashed`, when given, is what the read that hashed the
    /// file to `sha256` proved (`HashedFile`: its identity, and its parts' hashes when
    /// `signedPartSize` asked for parts): a bucket that can prove it stores those very bytes
    /// without hashing them again may use it (the FILESYSTEM bucket copies kernel-side, S3 signs
    /// each part with its staged hash, while the file keeps that identity); GCS hashes anyway,
    /// and wrappers pass it on. `journal`, when given, durably records multipart progress so an
    /// upload interrupted by a crash resumes with the missing parts only, and hears of retries.
    func upload(
        key: String, fileAt path: String, size: Int64, sha256: String?, hashedAs hashed: HashedFile?,
        journal: (any UploadJournal)?
    ) async throws(SkiffError)

    /// The size of the parts a file of `size` bytes is sent in, when each part carries its own
    /// SHA-256 (an S3 multipart upload signs every part's payload hash); nil when the file goes
    /// whole. Staging hashes parts of this size in the same read as the whole file, so the upload
    /// need not read and hash the file again to sign them (`HashedFile.parts`). Wrappers forward it.
    func signedPartSize(forFileOfSize size: Int64) -> Int64?

    /// Uploads a small in-memory object (meta.json).
    func upload(key: String, bytes: [UInt8]) async throws(SkiffError)

    /// The object's attributes, or nil when it does not exist.
    func attributes(key: String) async throws(SkiffError) -> ObjectAttributes?

    /// Streams the object (or the byte range `range` of it) to `consumer`, in order, in pieces of
    /// bounded size. Throws `.notFound` when absent.
    func read(
        key: String, range: Range<Int64>?,
        into consumer: (ArraySlice<UInt8>) async throws(SkiffError) -> Void
    ) async throws(SkiffError)

    /// Keys under `prefix`, sorted. Non-recursive: direct children only, sub-"directories" as "name/".
    func list(prefix: String, recursive: Bool) async throws(SkiffError) -> [String]

    /// Every object under `prefix` (recursively) with its size, sorted by key, handed to `page` a
    /// page at a time so a listing of any size is never held whole (the reconciler walks whole buckets).
    func walk(prefix: String, page: ([ObjectEntry]) async throws(SkiffError) -> Void) async throws(SkiffError)

    /// Keys under `prefix` with unfinished multipart uploads (empty for buckets without them).
    func incompleteUploads(prefix: String) async throws(SkiffError) -> [String]

    /// Removes the object; succeeds when it is already absent.
    func delete(key: String) async throws(SkiffError)

    /// Aborts unfinished multipart uploads of keys under `prefix` (invisible in listings, but
    /// stored and billed); returns how many. Buckets without multipart uploads return 0.
    func abortIncompleteUploads(prefix: String) async throws(SkiffError) -> Int

    /// Releases connections; the bucket must not be used afterwards.
    func shutdown() async
}

extension Bucket {
    /// Uploads a file whose hashing identity is unknown.
    public func upload(
        key: String, fileAt path: String, size: Int64, sha256: String?, journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        try await upload(key: key, fileAt: path, size: size, sha256: sha256, hashedAs: nil, journal: journal)
    }

    /// Uploads a file without a multipart journal.
    public func upload(key: String, fileAt path: String, size: Int64, sha256: String?) async throws(SkiffError) {
        try await upload(key: key, fileAt: path, size: size, sha256: sha256, hashedAs: nil, journal: nil)
    }

    /// True when `key` exists.
    public func exists(key: String) async throws(SkiffError) -> Bool {
        try await attributes(key: key) != nil
    }

    /// One cheap request (the attributes of a key that need not exist, which shipping asks for
    /// every block anyway) that proves the bucket answers and takes these credentials: `skiff
    /// ship` runs it first, so a wrong endpoint or secret fails at once even with nothing to ship.
    public func checkAccess() async throws(SkiffError) {
        do throws(SkiffError) {
            _ = try await attributes(key: "skiff-access-check")
        } catch {
            throw SkiffError(
                error.code,
                "bucket \(name) cannot be used: \(error.message); check the endpoint, bucket and credentials "
                    + "in --objstore.config-file", transient: false, context: error.context)
        }
    }

    /// Reads a whole (small) object into memory: only for meta.json-sized objects.
    public func readAll(key: String) async throws(SkiffError) -> [UInt8] {
        var out: [UInt8] = []
        try await read(key: key, range: nil) { (piece: ArraySlice<UInt8>) throws(SkiffError) in out.append(contentsOf: piece) }
        return out
    }
}

/// Durable progress of one file's upload, kept outside the bucket (the shipper keeps it in the
/// ledger). Each method returns only once its record is durable, so the bucket may then rely on it.
public protocol UploadJournal: Sendable {
    /// The unfinished multipart upload recorded for this file, if any.
    func recordedUpload() async throws(SkiffError) -> RecordedMultipartUpload?
    /// A multipart upload was created; recorded before any part is sent.
    func uploadStarted(uploadID: String, partSize: Int64) async throws(SkiffError)
    /// The server acknowledged a part.
    func partUploaded(uploadID: String, _ part: UploadedPart) async throws(SkiffError)
    /// The upload was completed or abandoned (aborted, or unknown to the server).
    func uploadEnded(uploadID: String, completed: Bool) async throws(SkiffError)
    /// A request failed and will be tried again: for the audit trail.
    func retrying(operation: String, attempt: Int, error: String) async
}

/// Runs `body` with `bucket` and shuts the bucket down however `body` ends (an async `defer`): the
/// one way the CLI and the tests hold a bucket they opened.
public func withBucket<T>(_ bucket: any Bucket, _ body: (any Bucket) async throws -> T) async throws -> T {
    do {
        let result = try await body(bucket)
        await bucket.shutdown()
        return result
    } catch {
        await bucket.shutdown()
        throw error
    }
}
