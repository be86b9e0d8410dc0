import Ledger
import ObjectStorage
import Shipper
import SkiffCore

/// `--repair` and `--dry-run`: the planned action of each drifted block, carried out (or only
/// described), each recorded in the ledger as a transition so the history says what reconcile did.
///
/// Safety: actions only touch blocks that are ours and not being shipped (committed, cleaned or
/// abandoned in the ledger, or unknown to it but ours by meta.json); the caller holds the data
/// dir lock (or runs between the sidecar's sync passes), so no upload runs meanwhile. A re-ship
/// only moves the block back to `discovered`: the caller's next sync pass uploads it.
extension Reconciler {
    public struct RepairResult: Sendable {
        /// Every block's entry; drifted ones carry their action's outcome.
        public var entries: [Entry]
        /// Blocks moved back to `discovered`: a sync pass ships them.
        public var reshipped: [ULID]
        /// Actions that succeeded.
        public var repaired: Int
    }

    public func repair(dryRun: Bool) async throws(SkiffError) -> RepairResult {
        let (entries, snapshot) = try await compare()
        var result = RepairResult(entries: [], reshipped: [], repaired: 0)
        for var entry in entries {
            if let action = entry.action {
                if dryRun {
                    entry.outcome = "planned"
                } else {
                    do throws(SkiffError) {
                        try await perform(action, entry, snapshot)
                        entry.outcome = "done"
                        result.repaired += 1
                        if action == .reship { result.reshipped.append(entry.ulid) }
                    } catch {
                        // One block's failure must not stop the others; the operator sees it per block.
                        entry.outcome = "failed: \(error.message)"
                    }
                }
            }
            result.entries.append(entry)
        }
        return result
    }

    private func perform(_ action: Action, _ entry: Entry, _ s: Snapshot) async throws(SkiffError) {
        let ulid = entry.ulid
        let remote = s.bucket.blocks[ulid] ?? BucketInventory.Block()
        switch action {
        case .adopt:
            // Classified as ours from this meta.json; judged again so nothing else is ever recorded.
            guard let meta = remote.meta, case .ours(let parsed) = meta.verdict(ulid, labels: labels) else {
                throw SkiffError(.bucket, "meta.json of \(ulid) could not be read as ours")
            }
            let aborted = try await bucket.abortIncompleteUploads(prefix: "\(ulid)/")
            let note =
                "adopted by reconcile: meta.json in the bucket, \(remote.sizes.count - 1) file(s) at their sizes"
                + (aborted > 0 ? ", \(aborted) unfinished upload(s) aborted" : "")
            if let record = s.records[ulid] {
                // The bytes found are what `skiff verify` compares with from now on.
                try await ledger.recordAdoptedMeta(ulid, metaJSON: meta.bytes, files: parsed.files, at: now())
                var machine = record.machine
                let t = try machine.handleOrThrow(.adopted)
                try await ledger.recordTransition(ulid, t, machine: machine, at: now(), detail: note, origin: .adopted)
            } else {
                let block = try BlockMeta(json: meta.bytes, dirName: ulid.string)
                try await ledger.insertCommitted(
                    [.init(summary: BlockSummary(block), files: parsed.files, metaJSON: meta.bytes)], origin: .adopted,
                    detail: note, at: now())
            }
        case .reship:
            guard let record = s.records[ulid] else { throw SkiffError(.ledger, "\(ulid) is not in the ledger") }
            // A damaged block must not stay visible to readers while it is shipped again:
            // without meta.json, Store Gateway and Compactor ignore the prefix.
            if remote.hasMeta { try await bucket.delete(key: "\(ulid)/meta.json") }
            var machine = record.machine
            let t = try machine.handleOrThrow(.reship)
            try await ledger.recordTransition(
                ulid, t, machine: machine, at: now(), detail: "re-ship by reconcile: \(entry.detail)")
        case .deletePartial:
            for rel in remote.sizes.keys.sorted() { try await bucket.delete(key: "\(ulid)/\(rel)") }
            let aborted = try await bucket.abortIncompleteUploads(prefix: "\(ulid)/")
            let note =
                "reconcile deleted \(remote.sizes.count) leftover object(s)"
                + (aborted > 0 ? " and aborted \(aborted) upload(s)" : "")
            guard let record = s.records[ulid] else { return }
            var machine = record.machine
            if machine.state == .failed {
                let t = try machine.handleOrThrow(.cleaned)
                try await ledger.recordTransition(ulid, t, machine: machine, at: now(), detail: note)
            } else {
                try await ledger.recordNote(ulid, detail: note, at: now())
            }
        case .abortUploads:
            let aborted = try await bucket.abortIncompleteUploads(prefix: "\(ulid)/")
            if s.records[ulid] != nil {
                try await ledger.recordNote(
                    ulid, detail: "reconcile aborted \(aborted) unfinished multipart upload(s)", at: now())
            }
        }
    }
}

extension Reconciler {
    public enum Mode: String, Sendable {
        case report
        case dryRun = "dry_run"
        case repair
    }

    /// Compares (and repairs, in `.repair` mode), then records the run and its findings in the
    /// ledger for `skiff report drift` and the `last_reconcile` view.
    public func run(_ mode: Mode) async throws(SkiffError) -> RepairResult {
        let started = now()
        let result: RepairResult
        if mode == .report {
            result = RepairResult(entries: try await report(), reshipped: [], repaired: 0)
        } else {
            result = try await repair(dryRun: mode == .dryRun)
        }
        let drifted = result.entries.filter { entry in
            !entry.status.isHealthy && !(mode == .repair && entry.outcome == "done")
        }.count
        let findings = result.entries.filter { $0.status != .inSync }.map {
            ReconcileFinding(
                ulid: $0.ulid, status: $0.status.rawValue, detail: $0.detail, action: $0.action?.rawValue, outcome: $0.outcome)
        }
        try await ledger.recordReconcileRun(
            startedAt: started, durationMillis: now() - started, mode: mode.rawValue, blocks: result.entries.count,
            drifted: drifted, repaired: result.repaired, findings: findings)
        return result
    }
}
