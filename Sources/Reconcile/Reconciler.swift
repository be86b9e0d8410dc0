import Foundation
import Ledger
import ObjectStorage
import SkiffCore
import TSDB

/// Compares the local block dirs, the ledger and the bucket, block by block, says where they
/// disagree and what `--repair` does about it (see `ReconcileRepair.swift`). Bucket blocks with
/// other external labels, or made by someone else (the Compactor), are never ours: they are left
/// out, except that a merged block's `compaction.sources` explains where ours went.
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
        /// In the bucket, but an object is missing or has another size than recorded.
        case sizeMismatch = "size_mismatch"
        /// Gone from the bucket because the Compactor merged it: a bucket block lists it in
        /// `compaction.sources`. Expected, not drift.
        case mergedByCompactor = "merged_by_compactor"
        /// The bucket block has a `deletion-mark.json`: the Compactor is about to delete it.
        case markedForDeletion = "marked_for_deletion"
        /// Shipped or abandoned, yet an unfinished multipart upload of it is still stored (and billed).
        case staleUpload = "stale_upload"

        /// States that need no one's attention.
        public var isHealthy: Bool { [.inSync, .notShipped, .mergedByCompactor, .markedForDeletion].contains(self) }
    }

    /// What `--repair` does for a status.
    public enum Action: String, Sendable {
        /// Record the commit (after checking every object's size against meta.json / the ledger).
        case adopt
        /// Ship the local block again (removing a damaged meta.json first).
        case reship
        /// Delete the objects of an abandoned upload, and its unfinished multipart uploads.
        case deletePartial = "delete_partial"
        /// Abort unfinished multipart uploads of a block that is not being uploaded.
        case abortUploads = "abort_uploads"
    }

    public struct Entry: Sendable, Equatable {
        public let ulid: ULID
        public let status: Status
        public let detail: String
        /// What `--repair` does (or did) about it; nil when nothing can or need be done.
        public let action: Action?
        /// After a repair: "done", "planned" (dry run) or the error.
        public var outcome: String?
    }

    let ledger: Ledger
    let bucket: any Bucket
    let tsdbPath: String
    /// Our external labels: a bucket block with others is not ours.
    let labels: LabelSet
    let now: @Sendable () -> Int64

    public init(
        ledger: Ledger, bucket: any Bucket, tsdbPath: String, labels: LabelSet,
        now: @escaping @Sendable () -> Int64 = WallClock.system.nowMillis
    ) {
        self.ledger = ledger
        self.bucket = bucket
        self.tsdbPath = tsdbPath
        self.labels = labels
        self.now = now
    }

    /// Everything one comparison saw, kept for the repair that may follow.
    struct Snapshot: Sendable {
        var local: Set<ULID>
        var records: [ULID: BlockRecord]
        var files: [ULID: [FileRecord]]
        var bucket: BucketInventory
    }

    /// One entry per block known anywhere (ours), ordered by ULID, with the planned action.
    public func report() async throws(SkiffError) -> [Entry] {
        try await compare().entries
    }

    func compare() async throws(SkiffError) -> (entries: [Entry], snapshot: Snapshot) {
        let local = Set(try BlockScanner(tsdbPath: tsdbPath).scan().map(\.ulid))
        let records = Dictionary(uniqueKeysWithValues: try await ledger.blocks().map { ($0.ulid, $0) })
        // The ledger vouches for its committed blocks; every other block's meta.json is read.
        let committed = Set(records.values.filter { $0.state == .committed }.map(\.ulid))
        let inventory = try await BucketInventory.read(bucket) { !committed.contains($0) }
        let snapshot = Snapshot(local: local, records: records, files: try await ledger.filesByBlock(), bucket: inventory)

        let merged = Set(inventory.blocks.values.compactMap(\.meta).filter { $0.labels == labels }.flatMap(\.sources))
        var entries: [Entry] = []
        for ulid in local.union(records.keys).union(inventory.blocks.keys).sorted() {
            if let entry = classify(ulid, snapshot, merged: merged) { entries.append(entry) }
        }
        return (entries, snapshot)
    }

    /// Nil for a bucket block that is not ours.
    private func classify(_ ulid: ULID, _ s: Snapshot, merged: Set<ULID>) -> Entry? {
        let isLocal = s.local.contains(ulid)
        let remote = s.bucket.blocks[ulid]
        let whereLocal = isLocal ? "local dir present" : "local dir gone"
        func entry(_ status: Status, _ detail: String, _ action: Action? = nil) -> Entry {
            Entry(ulid: ulid, status: status, detail: detail, action: action)
        }
        guard let record = s.records[ulid] else {
            guard let remote else { return entry(.localOnly, "not in the ledger yet") }
            if remote.hasMeta {
                guard let meta = remote.meta, isOurs(meta) else { return nil }
                if let problem = sizeProblems(remote, expected: meta.files) {
                    return entry(.sizeMismatch, "unknown to the ledger; \(problem)")
                }
                return entry(isLocal ? .unrecordedCommit : .bucketOnly, "unknown to the ledger; \(whereLocal)", .adopt)
            }
            // Without meta.json nothing says whose objects these are: only a local dir of the
            // same ULID does, and then the shipper overwrites them when it ships the block.
            guard isLocal else { return nil }
            return entry(.partialInBucket, "\(remote.sizes.count) object(s), no meta.json; the shipper will overwrite them")
        }
        if record.state != .committed {
            if let remote, remote.hasMeta {
                let expected = s.files[ulid].flatMap { $0.isEmpty ? nil : $0.map(\.asMetaFile) } ?? remote.meta?.files ?? []
                if let problem = sizeProblems(remote, expected: expected) {
                    return entry(.sizeMismatch, "ledger says \(record.state.rawValue); \(problem)")
                }
                return entry(.unrecordedCommit, "ledger says \(record.state.rawValue); \(whereLocal)", .adopt)
            }
            let abandoned = record.state == .cleaned || record.state == .failed && record.resumeState == nil
            if abandoned, let remote, !remote.sizes.isEmpty {
                return entry(.partialInBucket, "\(remote.sizes.count) object(s) left by an abandoned upload", .deletePartial)
            }
            if abandoned || record.state == .ignored, remote?.hasIncompleteUpload == true {
                return entry(
                    .staleUpload, "unfinished multipart upload of a block that is \(record.state.rawValue)", .abortUploads)
            }
            return entry(.notShipped, record.state.rawValue)
        }
        guard let remote, remote.hasMeta else {
            if merged.contains(ulid) { return entry(.mergedByCompactor, "a bucket block lists it in compaction.sources") }
            let detail = "committed at \(RFC3339.format(millis: record.committedAt ?? 0)); \(whereLocal)"
            return isLocal ? entry(.missingFromBucket, detail, .reship) : entry(.missingFromBucket, detail + ": cannot re-ship")
        }
        if remote.markedForDeletion { return entry(.markedForDeletion, "deletion-mark.json present") }
        if let problem = sizeProblems(remote, expected: (s.files[ulid] ?? []).map(\.asMetaFile)) {
            return isLocal
                ? entry(.sizeMismatch, problem, .reship) : entry(.sizeMismatch, problem + "; local dir gone: cannot re-ship")
        }
        if remote.hasIncompleteUpload {
            return entry(.staleUpload, "unfinished multipart upload of a committed block", .abortUploads)
        }
        return entry(.inSync, "")
    }

    /// Ours: our external labels, and shipped by a sidecar (not the Compactor's output, which
    /// carries the same labels).
    private func isOurs(_ meta: BucketInventory.Meta) -> Bool {
        meta.parseError == nil && meta.labels == labels && (meta.source ?? "sidecar") == "sidecar"
    }

    /// "index: 10 bytes, recorded 12; ..." for every expected file the bucket lacks or has at
    /// another size; nil when all match.
    private func sizeProblems(_ remote: BucketInventory.Block, expected: [BlockMeta.File]) -> String? {
        let problems = expected.compactMap { file -> String? in
            let size = remote.sizes[file.relPath]
            return size == file.sizeBytes
                ? nil : "\(file.relPath): \(size.map { "\($0) bytes" } ?? "missing"), recorded \(file.sizeBytes)"
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }
}

extension FileRecord {
    var asMetaFile: BlockMeta.File { BlockMeta.File(relPath: relPath, sizeBytes: sizeBytes, sha256: sha256) }
}
