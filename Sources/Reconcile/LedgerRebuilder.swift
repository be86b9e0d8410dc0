import Ledger
import ObjectStorage
import SkiffCore
import TSDB

/// Recreates a lost or corrupt ledger from what is certain: our blocks committed in the bucket
/// (meta.json with our external labels, every listed file present at its size). Their rows are
/// marked `origin = 'rebuilt'`, with one transition saying the history before it is unknown.
/// Local blocks not in the bucket are left to the next sync pass, which records them as new.
public struct LedgerRebuilder: Sendable {
    public struct Summary: Sendable, Equatable {
        /// Committed blocks recorded from the bucket.
        public var rebuilt: [ULID] = []
        /// Of those, blocks whose local dir is still there.
        public var withLocalDir = 0
        /// Our blocks in the bucket left out because an object is missing or has another size.
        public var damaged: [ULID] = []
        /// Local blocks not (fully) in the bucket: the next sync ships them.
        public var localOnly: [ULID] = []
    }

    let ledger: Ledger
    let bucket: any Bucket
    let tsdbPath: String
    let labels: LabelSet
    let now: @Sendable () -> Int64

    public init(ledger: Ledger, bucket: any Bucket, tsdbPath: String, labels: LabelSet, now: @escaping @Sendable () -> Int64) {
        self.ledger = ledger
        self.bucket = bucket
        self.tsdbPath = tsdbPath
        self.labels = labels
        self.now = now
    }

    public func rebuild() async throws(SkiffError) -> Summary {
        let local = Set(try BlockScanner(tsdbPath: tsdbPath).scan().map(\.ulid))
        let inventory = try await BucketInventory.read(bucket) { _ in true }
        var summary = Summary()
        var found: [Ledger.FoundBlock] = []
        for (ulid, block) in inventory.blocks.sorted(by: { $0.key < $1.key }) {
            guard let meta = block.meta, meta.parseError == nil, meta.labels == labels, (meta.source ?? "sidecar") == "sidecar",
                !block.markedForDeletion
            else { continue }
            guard meta.files.allSatisfy({ block.sizes[$0.relPath] == $0.sizeBytes }),
                let parsed = try? BlockMeta(json: meta.bytes, dirName: ulid.string)
            else {
                summary.damaged.append(ulid)
                continue
            }
            found.append(.init(summary: BlockSummary(parsed), files: meta.files, metaJSON: meta.bytes))
            summary.rebuilt.append(ulid)
            if local.contains(ulid) { summary.withLocalDir += 1 }
        }
        // One transaction: a rebuild killed half way leaves an empty ledger, never a partial one
        // that would pass for the whole committed set.
        try await ledger.insertCommitted(
            found, origin: .rebuilt,
            detail: "rebuilt by `skiff ledger rebuild` from the bucket's meta.json; earlier history unknown", at: now())
        summary.localOnly = local.subtracting(summary.rebuilt).sorted()
        return summary
    }
}
