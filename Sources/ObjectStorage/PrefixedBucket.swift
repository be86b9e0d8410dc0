import FileIO
import SkiffCore

/// Keeps every object of `base` under `prefix/`, like Thanos' `prefix:` objstore option: the
/// shipper's key `<ULID>/meta.json` is stored as `<prefix>/<ULID>/meta.json`.
public struct PrefixedBucket: Bucket {
    public let base: any Bucket
    /// The prefix without leading or trailing "/", never empty.
    public let prefix: String

    public var name: String { "\(base.name) (prefix \(prefix))" }

    /// Wraps `base`; `prefix` is trimmed of "/" as Thanos does, and must be a valid key.
    public init(base: any Bucket, prefix: String) throws(SkiffError) {
        let trimmed = String(prefix.trimmingSlashes)
        try ObjectKey.validate(trimmed, op: "use prefix")
        self.base = base
        self.prefix = trimmed
    }

    public func upload(
        key: String, fileAt path: String, size: Int64, sha256: String?, hashedAs hashed: HashedFile?,
        journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        try await base.upload(
            key: full(key, "upload"), fileAt: path, size: size, sha256: sha256, hashedAs: hashed, journal: journal)
    }

    public func signedPartSize(forFileOfSize size: Int64) -> Int64? { base.signedPartSize(forFileOfSize: size) }

    public func upload(key: String, bytes: [UInt8]) async throws(SkiffError) {
        try await base.upload(key: full(key, "upload"), bytes: bytes)
    }

    public func attributes(key: String) async throws(SkiffError) -> ObjectAttributes? {
        try await base.attributes(key: full(key, "stat"))
    }

    public func read(
        key: String, range: Range<Int64>?,
        into consumer: (ArraySlice<UInt8>) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        try await base.read(key: full(key, "read"), range: range, into: consumer)
    }

    public func list(prefix listPrefix: String, recursive: Bool) async throws(SkiffError) -> [String] {
        // Validated here: "/x" would otherwise become "prefix//x" and fail with a confusing key.
        try ObjectKey.validatePrefix(listPrefix, op: "list")
        let head = prefix + "/"
        return try await base.list(prefix: head + listPrefix, recursive: recursive).map {
            String($0.utf8.dropFirst(head.utf8.count))!
        }
    }

    public func walk(prefix listPrefix: String, page: ([ObjectEntry]) async throws(SkiffError) -> Void) async throws(SkiffError) {
        try ObjectKey.validatePrefix(listPrefix, op: "list")
        let head = prefix + "/"
        try await base.walk(prefix: head + listPrefix) { (entries: [ObjectEntry]) throws(SkiffError) in
            try await page(entries.map { ObjectEntry(key: String($0.key.utf8.dropFirst(head.utf8.count))!, size: $0.size) })
        }
    }

    public func incompleteUploads(prefix listPrefix: String) async throws(SkiffError) -> [String] {
        try ObjectKey.validatePrefix(listPrefix, op: "list uploads under")
        let head = prefix + "/"
        return try await base.incompleteUploads(prefix: head + listPrefix).map { String($0.utf8.dropFirst(head.utf8.count))! }
    }

    public func delete(key: String) async throws(SkiffError) {
        try await base.delete(key: full(key, "delete"))
    }

    public func abortIncompleteUploads(prefix listPrefix: String) async throws(SkiffError) -> Int {
        try ObjectKey.validatePrefix(listPrefix, op: "abort uploads under")
        return try await base.abortIncompleteUploads(prefix: prefix + "/" + listPrefix)
    }

    public func shutdown() async { await base.shutdown() }

    /// The base bucket's key; an invalid `key` is reported as the caller wrote it.
    private func full(_ key: String, _ op: String) throws(SkiffError) -> String {
        try ObjectKey.validate(key, op: op)
        return prefix + "/" + key
    }
}

extension StringProtocol {
    /// Without leading and trailing "/".
    package var trimmingSlashes: SubSequence {
        guard let first = firstIndex(where: { $0 != "/" }), let last = lastIndex(where: { $0 != "/" }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
