import Ledger
import ObjectStorage
import SkiffCore
import TSDB

/// Compares the local block dirs, the ledger and the bucket, block by block, and says where they
/// disagree. Report only: it reads and never changes anything. Bucket blocks carrying other
/// external labels belong to another Prometheus and are left out entirely.
public struct Reconciler: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        /// Committed in the ledger, in the bucket with every file at its recorded size.
        case inSync = "in_sync"
        /// Not committed yet (pending, failing or ignored): the shipper's business, not drift.
        case notShipped = "not_shipped"
        /// A local block the ledger does not know (the next sync will pick it up).
        case localOnly = "local_only"
        /// Ours by external labels, in the bucket, unknown to the ledger.
        case bucketOnly = "bucket_only"
        /// meta.json is in the bucket but the ledger never recorded the commit.
        case unrecordedCommit = "unrecorded_commit"
        /// Objects in the bucket without meta.json, and no upload in progress in the ledger.
        case partialInBucket = "partial_in_bucket"
        /// Committed, but its meta.json is gone from the bucket and no bucket block absorbed it.
        case missingFromBucket = "missing_from_bucket"
        /// Committed, in the bucket, but an object is missing or has another size than recorded.
        case sizeMismatch = "size_mismatch"
        /// Gone from the bucket because the Compactor merged it: a bucket block lists it in
        /// `compaction.sources`. Expected, not drift.
        case mergedByCompactor = "merged_by_compactor"
        /// The bucket block has a `deletion-mark.json`: the Compactor is about to delete it.
        case markedForDeletion = "marked_for_deletion"

        /// States that need no one's attention.
        public var isHealthy: Bool { [.inSync, .notShipped, .mergedByCompactor, .markedForDeletion].contains(self) }
    }

    public struct Entry: Sendable, Equatable {
        public let ulid: ULID
        public let status: Status
        public let detail: String
    }

    let ledger: Ledger
    let bucket: any Bucket
    let tsdbPath: String
    /// Our external labels: a bucket block with others is not ours.
    let labels: Labels

    public init(ledger: Ledger, bucket: any Bucket, tsdbPath: String, labels: Labels) {
        self.ledger = ledger
        self.bucket = bucket
        self.tsdbPath = tsdbPath
        self.labels = labels
    }

    /// One entry per block known anywhere (ours), ordered by ULID.
    public func report() async throws(SkiffError) -> [Entry] {
        let local = Set(try BlockScanner(tsdbPath: tsdbPath).scan().map(\.ulid))
        let records = Dictionary(uniqueKeysWithValues: try await ledger.blocks().map { ($0.ulid, $0) })
        let remote = try await bucketBlocks()
        let merged = Set(remote.values.filter { $0.isOurs }.flatMap(\.sources))

        var entries: [Entry] = []
        let all = local.union(records.keys).union(remote.filter { $0.value.isOurs || records[$0.key] != nil }.keys)
        for ulid in all.sorted() {
            let (status, detail) = try await classify(
                ulid, isLocal: local.contains(ulid), record: records[ulid], remote: remote[ulid], merged: merged)
            entries.append(Entry(ulid: ulid, status: status, detail: detail))
        }
        return entries
    }

    private func classify(
        _ ulid: ULID, isLocal: Bool, record: BlockRecord?, remote: BucketBlock?, merged: Set<ULID>
    ) async throws(SkiffError) -> (Status, String) {
        let where_ = isLocal ? "local dir present" : "local dir gone"
        guard let record else {
            if let remote, remote.hasMeta { return (isLocal ? .unrecordedCommit : .bucketOnly, where_) }
            if remote != nil { return (.partialInBucket, "\(remote!.objects.count) object(s), no meta.json; unknown to the ledger") }
            return (.localOnly, "not in the ledger yet")
        }
        if record.state != .committed {
            if let remote, remote.hasMeta { return (.unrecordedCommit, "ledger says \(record.state.rawValue); \(where_)") }
            if let remote, remote.objects.count > 0, record.state == .cleaned || record.state == .failed && record.resumeState == nil {
                return (.partialInBucket, "\(remote.objects.count) object(s) left by an abandoned upload")
            }
            return (.notShipped, record.state.rawValue)
        }
        guard let remote, remote.hasMeta else {
            if merged.contains(ulid) { return (.mergedByCompactor, "a bucket block lists it in compaction.sources") }
            return (.missingFromBucket, "committed at \(RFC3339.format(millis: record.committedAt ?? 0)); \(where_)")
        }
        if remote.markedForDeletion { return (.markedForDeletion, "deletion-mark.json present") }
        var problems: [String] = []
        for file in try await ledger.files(ulid) {
            let size = try await bucket.attributes(key: "\(ulid)/\(file.relPath)")?.size
            if size != file.sizeBytes {
                problems.append("\(file.relPath): \(size.map { "\($0) bytes" } ?? "missing"), recorded \(file.sizeBytes)")
            }
        }
        return problems.isEmpty ? (.inSync, "") : (.sizeMismatch, problems.joined(separator: "; "))
    }

    /// What the bucket holds for one ULID-named prefix.
    struct BucketBlock {
        var objects: [String] = []
        var hasMeta = false
        var isOurs = false
        var sources: [ULID] = []
        var markedForDeletion = false
    }

    private func bucketBlocks() async throws(SkiffError) -> [ULID: BucketBlock] {
        var out: [ULID: BucketBlock] = [:]
        for entry in try await bucket.list(prefix: "", recursive: false) where entry.hasSuffix("/") {
            guard let ulid = ULID(String(entry.dropLast())) else { continue }
            var block = BucketBlock()
            block.objects = try await bucket.list(prefix: entry, recursive: true)
            block.markedForDeletion = block.objects.contains(entry + "deletion-mark.json")
            if block.objects.contains(entry + "meta.json") {
                block.hasMeta = true
                let meta = try JSONValue.parse(try await bucket.readAll(key: entry + "meta.json"))
                let theirs = (meta["thanos"]?["labels"]?.members ?? []).compactMap { m in m.value.stringValue.map { (m.key, $0) } }
                block.isOurs = Labels(Dictionary(theirs, uniquingKeysWith: { $1 })) == labels
                block.sources = (meta["compaction"]?["sources"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(ULID.init) }
                    .filter { $0 != ulid }
            }
            out[ulid] = block
        }
        return out
    }
}
