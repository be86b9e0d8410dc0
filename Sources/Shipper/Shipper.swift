import BlockingWork
import Ledger
import Logging
import ObjectStorage
import SkiffCore
import TSDB
import Tracing

/// Ships Prometheus blocks to a bucket, crash-safely, driving each block's `ShipStateMachine`.
///
/// Invariants (each has a test):
/// 1. A transition is durable in the ledger before any side effect that depends on it starts,
///    and every side effect is idempotent, so replaying one after a crash is harmless.
/// 2. meta.json is uploaded last, from the bytes fixed in the ledger at `hashed`, and only after
///    every other file is confirmed in the bucket with its recorded size.
/// 3. Nothing Prometheus owns is modified or deleted: uploads read a hard-linked staging copy
///    under `<tsdb>/thanos/upload/`, and the new meta.json is written there by rename.
/// 4. Blocks commit oldest first: a failing block holds back newer ones (the Compactor relies on
///    order), except an unreadable block, which is quarantined and skipped, and any failing block
///    under `--shipper.allow-out-of-order-uploads`, which waits for the next pass.
/// 5. A file recorded as uploaded is never uploaded again; a block whose meta.json is in the
///    bucket is adopted, never re-uploaded, and never cleaned.
public struct Shipper: Sendable {
    let config: ShipperConfig
    let ledger: Ledger
    let bucket: any Bucket
    let scanner: BlockScanner
    let stager: Stager
    let failpoints: Failpoints
    let logger: Logger
    /// Wall clock in Unix ms; injected so tests control time.
    let now: @Sendable () -> Int64
    /// Sleeps; throws when cancelled (graceful shutdown).
    let sleep: @Sendable (Int64) async throws -> Void
    /// A number in [0, 1) for backoff jitter.
    let jitter: @Sendable () -> Double

    public init(
        config: ShipperConfig, ledger: Ledger, bucket: any Bucket, failpoints: Failpoints = .none,
        logger: Logger,
        now: @escaping @Sendable () -> Int64 = WallClock.system.nowMillis,
        sleep: @escaping @Sendable (Int64) async throws -> Void = { try await Task.sleep(for: .milliseconds($0)) },
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) throws(SkiffError) {
        self.config = config
        self.ledger = ledger
        self.bucket = bucket
        self.scanner = try BlockScanner(tsdbPath: config.tsdbPath)
        self.stager = Stager(tsdbPath: config.tsdbPath)
        self.failpoints = failpoints
        self.logger = logger
        self.now = now
        self.sleep = sleep
        self.jitter = jitter
    }

    /// One pass: record new blocks, drive every unfinished block oldest first, refresh
    /// `thanos.shipper.json`. Throws only for errors no retry can fix (ledger, usage); a block
    /// that keeps failing is reported in `blockedBy`.
    public func syncOnce() async throws(SkiffError) -> SyncSummary {
        var summary = SyncSummary()
        let scanner = self.scanner
        let local = try LocalView(await Blocking.run { () throws(SkiffError) in try scanner.scan() })
        try await recordNewBlocks(local, &summary)
        try await removeStaleStaging()

        blocks: for record in try await ledger.blocks() where !record.state.isFinal {
            if Task.isCancelled { break }
            // One span per block driven, for `--tracing.config` (a no-op without a tracer).
            let span = startSpan("shipper.upload_block")
            span.attributes["thanos.block.id"] = record.ulid.string
            span.attributes["thanos.block.state"] = record.state.rawValue
            let outcome: Outcome
            do { outcome = try await drive(record, local: local, summary: &summary) } catch {
                span.recordError(error)
                span.end()
                throw error
            }
            span.end()
            switch outcome {
            case .finished, .skipped: continue
            case .skippedAfterFailure(let error): summary.skippedAfterFailure.append((record.ulid, error))
            case .blocked(let error):
                summary.blockedBy = (record.ulid, error)
                break blocks
            }
        }
        // A commit this pass rewrote the file already, from the same local view and every commit.
        if summary.committed.isEmpty && summary.adopted.isEmpty { try await writeShipperFile(local) }
        return summary
    }

    // MARK: - Discovery

    private func recordNewBlocks(_ local: LocalView, _ summary: inout SyncSummary) async throws(SkiffError) {
        let known = Dictionary(uniqueKeysWithValues: try await ledger.blocks().map { ($0.ulid, $0) })
        for block in local.readable.values.sorted(by: { ($0.meta.minTime, $0.meta.ulid) < ($1.meta.minTime, $1.meta.ulid) }) {
            let reason = config.ignoreReason(block.meta)
            if let existing = known[block.meta.ulid] {
                // An ignored block may become eligible (e.g. --shipper.upload-compacted turned on).
                if existing.state == .ignored, reason == nil {
                    var machine = existing.machine
                    try await commit(block.meta.ulid, &machine, .eligible, detail: "now eligible for upload")
                }
                // A block recorded while its meta.json was unreadable holds placeholders until now.
                if !existing.state.isFinal, try await ledger.updateSummary(BlockSummary(block.meta)) {
                    log(.info, "block summary updated from its meta.json", block.meta.ulid)
                }
                continue
            }
            try await ledger.insertBlock(
                BlockSummary(block.meta), machine: .initial(ignored: reason != nil), reason: reason, at: now())
            log(
                .info, reason == nil ? "block discovered" : "block ignored", block.meta.ulid,
                reason.map { ["reason": "\($0)"] } ?? [:])
            if reason != nil { summary.newlyIgnored.append(block.meta.ulid) }
        }
        for (ulid, _) in local.unreadable where known[ulid] == nil {
            try await ledger.insertBlock(
                BlockSummary(unreadable: ulid), machine: .initial(ignored: false), reason: nil, at: now())
        }
    }

    /// Staging dirs of blocks that are finished (or unknown) are leftovers of a crash after commit.
    private func removeStaleStaging() async throws(SkiffError) {
        for ulid in stager.stagedBlocks() {
            let record = try await ledger.block(ulid)
            if record == nil || record!.state.isFinal { try stager.remove(ulid) }
        }
    }

    // MARK: - Driving one block

    enum Outcome {
        case finished
        /// Quarantined and not due, or shutting down: newer blocks may go ahead.
        case skipped
        /// Failed in this pass and left for the next while newer blocks go ahead (the policy does
        /// not hold them back).
        case skippedAfterFailure(SkiffError)
        /// Failed and out of attempts for this pass: newer blocks must wait.
        case blocked(SkiffError)
    }

    /// Performs what the block's state machine asks for until it is done, skipped or blocked.
    /// The machine decides every step, wait and retry; this loop only performs them.
    private func drive(
        _ record: BlockRecord, local: LocalView, summary: inout SyncSummary
    ) async throws(SkiffError)
        -> Outcome
    {
        let ulid = record.ulid
        var machine = record.machine
        machine.policy = config.retryPolicy
        machine.changedSinceFailure = try await changedSinceQuarantine(record, local: local)
        var lastError = SkiffError(.io, record.lastError ?? "unknown error")
        while true {
            // Shutdown stops at a transition boundary; the next run resumes from the ledger.
            if Task.isCancelled { return .skipped }
            let work: () async throws(SkiffError) -> StepResult
            switch machine.nextAction(now: now()) {
            case .done:
                return .finished
            case .skip:
                guard case .failed(let failure) = machine.phase else { return .skipped }
                if failure.quarantined, machine.failuresThisPass == 0 {
                    log(
                        .info, "quarantined block skipped until its next attempt, or until its files change", ulid,
                        ["next_attempt": "\(RFC3339.format(millis: failure.nextAttemptAt))"])
                } else if !failure.quarantined, machine.failuresThisPass > 0 {
                    log(
                        .warning,
                        "block upload failed; newer blocks go on without it (--shipper.allow-out-of-order-uploads) "
                            + "and it is retried at the next pass", ulid,
                        ["next_attempt": "\(RFC3339.format(millis: failure.nextAttemptAt))", "err": "\(lastError)"])
                    return .skippedAfterFailure(lastError)
                }
                return .skipped
            case .stopPass:
                return .blocked(lastError)
            case .wait(let until):
                let wait = until - now()
                log(.info, "waiting to retry block", ulid, ["attempt": "\(machine.attempts + 1)", "wait_ms": "\(wait)"])
                // The sleep throws only at shutdown; the next run resumes from the ledger.
                do { try await sleep(wait) } catch { return .skipped }
                continue
            case .retry:
                try await commit(ulid, &machine, .retry, detail: "retrying after \(machine.attempts) failed attempt(s)")
                continue
            case .stageAndHash:
                work = { () async throws(SkiffError) in try await stageAndHash(ulid, local: local) }
            case .uploadChunks:
                work = { () async throws(SkiffError) in
                    let sent = try await uploadPending(ulid, local: local) { $0.hasPrefix("chunks/") }
                    return StepResult(.chunksUploaded, bytes: sent, sent: sent)
                }
            case .uploadIndex:
                work = { () async throws(SkiffError) in
                    let sent = try await uploadPending(ulid, local: local) { $0 == "index" }
                    return StepResult(.indexUploaded, bytes: sent, sent: sent)
                }
            case .verifyAndCommit:
                work = { () async throws(SkiffError) in
                    let (sent, total) = try await verifyAndCommit(ulid, local: local)
                    return StepResult(.committed, bytes: total, sent: sent)
                }
            case .cleanPartialUpload:
                work = { () async throws(SkiffError) in StepResult(try await cleanPartialUpload(ulid)) }
            }
            let step: StepResult
            do {
                step = try await work()
            } catch let failure {
                var error = failure.about(block: ulid)
                if error.code == .bucket, !error.transient, [.hashed, .chunksUploaded, .indexUploaded].contains(machine.state),
                    let changed = try await changedSinceHashed(ulid)
                {
                    error = changed
                }
                // The machine says what the error means for the block; an error that is not the
                // block's (ledger, usage, a bug) stops the pass.
                guard let event = ShipEvent.failure(error.code, at: now(), jitter: jitter()) else { throw error }
                lastError = error
                try await commit(ulid, &machine, event, detail: error.message)
                summary.count(event, ulid)
                if case .failed(let quarantine, _, _) = event {
                    log(
                        .warning, quarantine ? "block quarantined: it cannot be read" : "block upload failed", ulid,
                        ["attempt": "\(machine.attempts)", "err": "\(error)"])
                } else {
                    log(.warning, "block dir vanished before upload finished; abandoning it", ulid, ["err": "\(error)"])
                }
                continue
            }
            try await commit(ulid, &machine, step.event, detail: nil, step: step)
            summary.uploadedBytes += step.sent
            summary.count(step.event, ulid)
            if machine.state == .committed {
                try stager.remove(ulid)
                try await writeShipperFile(local)
            }
        }
    }

    /// Applies `event`, makes the transition durable, and passes the failpoints around it.
    private func commit(
        _ ulid: ULID, _ machine: inout ShipStateMachine, _ event: ShipEvent, detail: String?,
        step: StepResult? = nil
    ) async throws(SkiffError) {
        let t = try machine.handleOrThrow(event)
        try await failpoints.hit("before:\(t.to.rawValue)")
        if let hashed = step?.hashed {
            try await ledger.recordHashed(
                ulid, t, machine: machine, files: hashed.files, metaJSON: hashed.meta, at: now())
        } else {
            try await ledger.recordTransition(
                ulid, t, machine: machine, at: now(), bytes: step?.bytes, detail: detail,
                origin: event == .adopted ? .adopted : nil)
        }
        try await failpoints.hit("after:\(t.to.rawValue)")
        log(.info, "block \(t.to.rawValue)", ulid, ["state": "\(t.to.rawValue)", "from": "\(t.from.rawValue)"])
    }

    /// Whether a quarantined block's files changed after its last failure: then the operator
    /// fixed (or replaced) something and it is retried now rather than after the long backoff.
    /// The failure time is the ledger's, and the files' times come from the same machine's clock.
    private func changedSinceQuarantine(_ record: BlockRecord, local: LocalView) async throws(SkiffError) -> Bool {
        guard case .failed(let failure) = record.machine.phase, failure.quarantined,
            let dir = local.dirs[record.ulid],
            let failedAt = try await ledger.history(record.ulid).last(where: { $0.to == .failed })?.at
        else { return false }
        let changed = try await Blocking.run { () throws(SkiffError) in BlockScanner.lastModified(dir: dir) }
        guard let changed, changed > failedAt else { return false }
        log(
            .info, "quarantined block changed since it failed; retrying it now", record.ulid,
            ["failed_at": "\(RFC3339.format(millis: failedAt))", "changed_at": "\(RFC3339.format(millis: changed))"])
        return true
    }

    /// After a bucket refused an upload for good: whether a staged file no longer has the
    /// SHA-256 recorded at `hashed` (the bucket's own check refuses such a file, and the staged
    /// hard link shares its inode with Prometheus' file, so a rewrite of the block shows here).
    /// Such a block is damaged locally: retrying the upload cannot help, and holding back every
    /// newer block for it would stop shipping, so the error becomes `.corruptBlock` (quarantine).
    private func changedSinceHashed(_ ulid: ULID) async throws(SkiffError) -> SkiffError? {
        let recorded = try await ledger.files(ulid)
        guard let staged = stager.stagedFiles(for: ulid) else { return nil }
        let byPath = Dictionary(uniqueKeysWithValues: staged.map { ($0.relPath, $0) })
        for file in recorded {
            guard let path = byPath[file.relPath]?.path else { continue }
            let digest = try? await Blocking.run { () throws(SkiffError) in try FileDigest.sha256(of: path) }
            guard let digest, digest.sha256 != file.sha256 || digest.size != file.sizeBytes else { continue }
            return SkiffError(
                .corruptBlock,
                "block \(ulid) changed since it was hashed: \(file.relPath) now has sha256 \(digest.sha256) "
                    + "(\(digest.size) bytes), recorded \(file.sha256) (\(file.sizeBytes) bytes); Prometheus never "
                    + "rewrites a finished block, so something else did: check it with `promtool tsdb analyze` and "
                    + "restore it or move it out of the data dir",
                transient: false)
        }
        return nil
    }

    func log(_ level: Logger.Level, _ message: String, _ ulid: ULID, _ extra: Logger.Metadata = [:]) {
        var metadata = extra
        metadata["block"] = "\(ulid)"
        logger.log(level: level, "\(message)", metadata: metadata)
    }
}

extension ShipStateMachine {
    /// An invalid transition is a bug: it surfaces as a non-retryable `.invalidTransition` error
    /// that stops the pass, rather than a crash.
    package mutating func handleOrThrow(_ event: ShipEvent) throws(SkiffError) -> ShipTransition {
        do { return try handle(event) } catch { throw SkiffError(error) }
    }
}
