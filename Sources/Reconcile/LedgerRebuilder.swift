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
        /// Local blocks with nothing in the bucket: the next sync ships them.
        public var localOnly: [ULID] = []
        /// Local blocks with objects in the bucket that are not a commit of ours (an unreadable
        /// or foreign meta.json, or a partial upload): the next sync judges each (bad-inputs 83).
        public var notOurs: [ULID] = []
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
        let unrecorded = local.subtracting(summary.rebuilt).subtracting(summary.damaged)
        summary.localOnly = unrecorded.filter { inventory.blocks[$0] == nil }.sorted()
        summary.notOurs = unrecorded.filter { inventory.blocks[$0] != nil }.sorted()
        return summary
    }
}

extension LedgerRebuilder {
    /// What a replacing rebuild did.
    public struct Replacement: Sendable {
        public var summary: Summary
        /// Where the previous ledger was kept, when there was one.
        public var previous: String?
    }

    /// `skiff ledger rebuild`: builds a new ledger beside the one at `ledgerPath` and swaps it in
    /// only when the rebuild succeeded, so a failed listing (an unreachable bucket, a symlink
    /// loop) leaves a sound ledger untouched rather than replaced by an empty one. Refuses a path
    /// that is not a skiff ledger (LedgerPath: not SQLite, a Prometheus file, a device...) or
    /// another program's database, and a sound ledger with blocks unless `force`.
    /// `beforeSwap` runs between the build and the swap (a failpoint for crash tests).
    public static func replace(
        ledgerPath: String, force: Bool, bucket: any Bucket, tsdbPath: String, labels: LabelSet,
        now: @escaping @Sendable () -> Int64, beforeSwap: @Sendable () async throws(SkiffError) -> Void = {}
    ) async throws(SkiffError) -> Replacement {
        let found = try LedgerPath.check(ledgerPath, for: .replace)
        // A ledger reached through a symlink is replaced where it lies, and the link kept.
        let path = LedgerPath.resolve(ledgerPath)
        // A ledger outside <tsdb>/thanos may be shared with another data dir's shipper.
        let ledgerLock = try DataDirLock(ledgerPath: path, tsdbPath: tsdbPath)
        defer { withExtendedLifetime(ledgerLock) {} }
        if found == .sqlite { try await refuseToReplace(path, shownAs: ledgerPath, force: force) }
        LedgerFile.removeStaleScratch(besides: path)
        let stamp = RFC3339.format(millis: now()).replacingOccurrences(of: ":", with: "")
        let scratch = LedgerFile.scratchPath(for: path, stamp: stamp)
        let summary: Summary
        do throws(SkiffError) {
            let ledger = try Ledger.open(path: scratch)
            do throws(SkiffError) {
                summary = try await LedgerRebuilder(
                    ledger: ledger, bucket: bucket, tsdbPath: tsdbPath, labels: labels, now: now
                ).rebuild()
                try ledger.close()
            } catch {
                try? ledger.close()
                throw error
            }
            try await beforeSwap()
        } catch {
            LedgerFile.discard(scratch)
            let kept = found == .absent ? "nothing was written at \(ledgerPath)" : "the ledger \(ledgerPath) was left as it was"
            throw SkiffError(
                error.code, "ledger rebuild failed and \(kept): \(error.message)", transient: error.transient,
                context: error.context)
        }
        let previous = try LedgerFile.install(scratch, at: path, stamp: stamp)
        return Replacement(summary: summary, previous: previous)
    }

    /// Refuses another program's database, and a sound ledger with history unless forced; an
    /// empty one (say, from a rebuild killed before its one transaction) has nothing to lose.
    private static func refuseToReplace(_ path: String, shownAs shown: String, force: Bool) async throws(SkiffError) {
        if let foreign = Ledger.foreignTables(path: path) {
            throw SkiffError(
                .invalidArgument,
                "\(shown) is a SQLite database but not a skiff ledger (it holds \(foreign)); skiff will not move it: "
                    + "point --ledger.path at the skiff ledger")
        }
        guard !force, let old = try? Ledger.open(path: path, readOnly: true) else { return }
        defer { try? old.close() }
        if (try? await old.integrityProblems())?.isEmpty == true, (try? await old.blocks())?.isEmpty == false {
            throw SkiffError(
                .invalidArgument,
                "ledger \(shown) is readable and passes the integrity check: rebuilding would replace its history; "
                    + "pass --force to do it anyway (the old file is kept)")
        }
    }
}
