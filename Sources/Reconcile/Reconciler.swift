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
        /// Committed, but the bucket's meta.json is not the one recorded (another size or other
        /// bytes: garbage, relabelled, truncated): Store Gateway and Compactor read the wrong thing.
        case damagedMeta = "damaged_meta"
        /// Not committed, and the meta.json at its key is not ours to adopt (unreadable, another
        /// ULID, no `thanos` section, other labels): the shipper ships over an unreadable one and
        /// quarantines the block otherwise; reconcile never touches it.
        case foreignMeta = "foreign_meta"
        /// With `--verify`: every object at its size, but one's SHA-256 is not the recorded one.
        case contentMismatch = "content_mismatch"
        /// Ours by external labels and unknown to the ledger, but overlapping one of our blocks in
        /// time: most likely another Prometheus shipping with the same external labels, which
        /// makes the Compactor halt. Never adopted.
        case overlapping

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
    /// Also re-read every otherwise healthy committed block and hash its objects (as `skiff
    /// verify` does), so damage that keeps sizes is found and `--repair` re-ships it.
    public var verifyContent = false
    /// Refuse `labels` that none of the ledger's blocks were shipped with (as recorded, or as their
    /// meta.json in the bucket says): a typo in `--label` would otherwise report all in sync.
    public var requireRecordedLabels = false

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
        /// Blocks this ledger ships (not the ignored ones, e.g. Prometheus' own compactions).
        var shipping: TimeOverlap
    }

    /// One entry per block known anywhere (ours), ordered by ULID, with the planned action.
    public func report() async throws(SkiffError) -> [Entry] {
        try await compare().entries
    }

    func compare() async throws(SkiffError) -> (entries: [Entry], snapshot: Snapshot) {
        let local = Set(try BlockScanner(tsdbPath: tsdbPath).scan().map(\.ulid))
        let records = Dictionary(uniqueKeysWithValues: try await ledger.blocks().map { ($0.ulid, $0) })
        // Every meta.json is read: a committed block's may have been replaced by one of the same size.
        let inventory = try await BucketInventory.read(bucket) { _ in true }
        if requireRecordedLabels { try checkLabels(records, inventory) }
        let shipping = TimeOverlap(
            records.values.filter { $0.state != .ignored }.map { (min: $0.minTime, max: $0.maxTime, ulid: $0.ulid) })
        let snapshot = Snapshot(
            local: local, records: records, files: try await ledger.filesByBlock(), bucket: inventory, shipping: shipping)

        let merged = Set(
            inventory.blocks.values.compactMap(\.meta).filter { $0.labels == labels }.flatMap { $0.parsed?.sources ?? [] })
        var entries: [Entry] = []
        for ulid in local.union(records.keys).union(inventory.blocks.keys).sorted() {
            guard var entry = classify(ulid, snapshot, merged: merged) else { continue }
            if verifyContent, entry.status == .inSync { entry = try await verified(entry, isLocal: local.contains(ulid)) }
            entries.append(entry)
        }
        return (entries, snapshot)
    }

    /// An in-sync block whose objects, hashed, are not what was shipped becomes `content_mismatch`.
    private func verified(_ entry: Entry, isLocal: Bool) async throws(SkiffError) -> Entry {
        let finding = try await Verifier(ledger: ledger, bucket: bucket, labels: labels).verify(entry.ulid)
        guard !finding.ok else { return entry }
        let detail = finding.problems.joined(separator: "; ")
        return isLocal
            ? Entry(ulid: entry.ulid, status: .contentMismatch, detail: detail, action: .reship)
            : Entry(ulid: entry.ulid, status: .contentMismatch, detail: detail + "; local dir gone: cannot re-ship", action: nil)
    }

    /// Nil for a bucket block that is not ours.
    private func classify(_ ulid: ULID, _ s: Snapshot, merged: Set<ULID>) -> Entry? {
        let isLocal = s.local.contains(ulid)
        let remote = s.bucket.blocks[ulid]
        let whereLocal = isLocal ? "local dir present" : "local dir gone"
        func entry(_ status: Status, _ detail: String, _ action: Action? = nil) -> Entry {
            Entry(ulid: ulid, status: status, detail: detail, action: action)
        }
        // What the meta.json at this block's key is, when there is one (and it was still there to read).
        let verdict = remote.flatMap { $0.hasMeta ? $0.meta?.verdict(ulid, labels: labels) : nil }
        guard let record = s.records[ulid] else {
            guard let remote else { return entry(.localOnly, "not in the ledger yet") }
            switch verdict {
            case .ours(let meta):
                if let problem = sizeProblems(remote, expected: meta.files) {
                    return entry(.sizeMismatch, "unknown to the ledger; \(problem)")
                }
                if !isLocal, let min = meta.minTime, let max = meta.maxTime,
                    let other = s.shipping.overlapping(ulid, min: min, max: max)
                {
                    return entry(
                        .overlapping,
                        "unknown to the ledger, local dir gone, and it overlaps our block \(other) in time: is another "
                            + "Prometheus shipping with the same external labels? (the Compactor halts on overlaps)")
                }
                return entry(isLocal ? .unrecordedCommit : .bucketOnly, "unknown to the ledger; \(whereLocal)", .adopt)
            case .unreadable(let why), .notOurs(let why):
                // Someone else's (or nobody's) block: only a local block of the same ULID makes it our business.
                guard isLocal else { return nil }
                return entry(.foreignMeta, "not in the ledger yet; meta.json \(why): \(Self.shipperOutcome(verdict!))")
            case nil:
                // Without meta.json nothing says whose objects these are: only a local dir of the
                // same ULID does, and then the shipper overwrites them when it ships the block.
                guard isLocal, !remote.hasMeta else { return nil }
                return entry(.partialInBucket, "\(remote.sizes.count) object(s), no meta.json; the shipper will overwrite them")
            }
        }
        if record.state != .committed { return uncommitted(record, remote, verdict, s, entry) }
        guard let remote, remote.hasMeta else {
            if merged.contains(ulid) { return entry(.mergedByCompactor, "a bucket block lists it in compaction.sources") }
            let detail = "committed at \(RFC3339.format(millis: record.committedAt ?? 0)); \(whereLocal)"
            return isLocal ? entry(.missingFromBucket, detail, .reship) : entry(.missingFromBucket, detail + ": cannot re-ship")
        }
        if remote.markedForDeletion { return entry(.markedForDeletion, "deletion-mark.json present") }
        let cannot = "; local dir gone: cannot re-ship"
        if let problem = metaProblem(record, remote, verdict) {
            return isLocal ? entry(.damagedMeta, problem, .reship) : entry(.damagedMeta, problem + cannot)
        }
        var expected = (s.files[ulid] ?? []).map(\.asMetaFile)
        if expected.isEmpty, case .ours(let meta) = verdict { expected = meta.files }  // adopted by an older skiff
        if let problem = sizeProblems(remote, expected: expected) {
            return isLocal ? entry(.sizeMismatch, problem, .reship) : entry(.sizeMismatch, problem + cannot)
        }
        if remote.hasIncompleteUpload {
            return entry(.staleUpload, "unfinished multipart upload of a committed block", .abortUploads)
        }
        return entry(.inSync, "")
    }

    /// A block the ledger has not committed (pending, failing, abandoned, ignored).
    private func uncommitted(
        _ record: BlockRecord, _ remote: BucketInventory.Block?, _ verdict: ThanosMeta.Verdict?, _ s: Snapshot,
        _ entry: (Status, String, Action?) -> Entry
    ) -> Entry {
        let state = record.state.rawValue
        let abandoned = record.state == .cleaned || record.state == .failed && record.resumeState == nil
        switch verdict {
        case .ours(let meta):
            let expected = s.files[record.ulid].flatMap { $0.isEmpty ? nil : $0.map(\.asMetaFile) } ?? meta.files
            if let remote, let problem = sizeProblems(remote, expected: expected) {
                return entry(.sizeMismatch, "ledger says \(state); \(problem)", nil)
            }
            let whereLocal = s.local.contains(record.ulid) ? "local dir present" : "local dir gone"
            return entry(.unrecordedCommit, "ledger says \(state); \(whereLocal)", .adopt)
        case .notOurs(let why):
            return entry(.foreignMeta, "ledger says \(state); meta.json \(why): \(Self.shipperOutcome(verdict!))", nil)
        case .unreadable(let why) where !abandoned:
            return entry(.foreignMeta, "ledger says \(state); meta.json \(why): \(Self.shipperOutcome(verdict!))", nil)
        case .unreadable, nil:
            break  // an abandoned block's unreadable meta.json is part of its partial upload
        }
        if abandoned, let remote, !remote.sizes.isEmpty {
            return entry(.partialInBucket, "\(remote.sizes.count) object(s) left by an abandoned upload", .deletePartial)
        }
        if abandoned || record.state == .ignored, remote?.hasIncompleteUpload == true {
            return entry(.staleUpload, "unfinished multipart upload of a block that is \(state)", .abortUploads)
        }
        // A failing block's last error says what holds it (a quarantine's reason, a bucket error).
        return entry(.notShipped, record.state == .failed ? "\(state): \(record.lastError ?? "unknown error")" : state, nil)
    }

    /// What the shipper does about a meta.json it cannot adopt (see `Shipper.adoptOrClear`).
    static func shipperOutcome(_ verdict: ThanosMeta.Verdict) -> String {
        if case .unreadable = verdict {
            return "not a commit (Thanos counts it a partial upload); the shipper deletes it and ships the block"
        }
        return "not ours, so never adopted or overwritten; the shipper quarantines the block"
    }

    /// Why a committed block's meta.json in the bucket is not the one this ledger recorded: first
    /// by the listing's size, then byte for byte. A block adopted by an older skiff recorded none:
    /// then it must at least be ours. Nil when it is.
    private func metaProblem(_ record: BlockRecord, _ remote: BucketInventory.Block, _ verdict: ThanosMeta.Verdict?) -> String? {
        let what: String
        switch verdict {
        case .ours, nil: what = ""
        case .unreadable(let why), .notOurs(let why): what = ": it \(why)"
        }
        guard let recorded = record.metaJSON, !recorded.isEmpty else { return what.isEmpty ? nil : "meta.json" + what }
        let size = remote.sizes["meta.json"] ?? 0
        if size != Int64(recorded.count) { return "meta.json is \(size) bytes, recorded \(recorded.count)\(what)" }
        guard let meta = remote.meta, meta.bytes != recorded else { return nil }
        return "meta.json differs from the one recorded (same size)\(what)"
    }

    /// Throws when `labels` is none of the label sets the ledger's blocks were shipped with, as the
    /// ledger recorded them or as their meta.json in the bucket says (older ledgers recorded none
    /// for adopted blocks). A ledger with no such record has nothing to compare with.
    private func checkLabels(_ records: [ULID: BlockRecord], _ inventory: BucketInventory) throws(SkiffError) {
        var known: Set<LabelSet> = []
        for record in records.values {
            if let bytes = record.metaJSON, let meta = try? ThanosMeta(json: bytes), !meta.labels.isEmpty {
                known.insert(meta.labels)
            }
            if let meta = inventory.blocks[record.ulid]?.meta?.parsed, !meta.labels.isEmpty { known.insert(meta.labels) }
        }
        guard !known.isEmpty, !known.contains(labels) else { return }
        throw SkiffError(
            .invalidArgument,
            "--label \(labels) matches none of the external labels this ledger's blocks were shipped with: "
                + known.sorted().map { "\($0)" }.joined(separator: "; ")
                + "; pass those with --label (or leave --label out to use them when they are one set)")
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
