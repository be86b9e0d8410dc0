import BlockingWork
import Foundation
import Ledger
import ObjectStorage
import SkiffCore
import TSDB

/// The side effects behind each `ShipAction`. Each is idempotent: after a crash it may run again
/// from the last durable state, and running it twice leaves the same bucket and staging contents.
extension Shipper {
    /// Adopt if meta.json is already in the bucket; else stage by hard links, hash every file,
    /// and fix the exact meta.json bytes, all recorded in one ledger transaction.
    func stageAndHash(_ ulid: ULID, local: LocalView) async throws(SkiffError) -> StepResult {
        if let error = local.unreadable[ulid] { throw error }
        guard let block = local.readable[ulid] else {
            throw SkiffError(.blockVanished, "block dir \(ulid) is gone (deleted by retention or compaction)")
        }
        if let found = try await bucketMeta(ulid), try await adoptOrClear(ulid, found) { return StepResult(.adopted) }
        // Staging, hashing and the meta write are blocking file work: off the cooperative pool.
        let stager = self.stager
        let staged = try await Blocking.run { () throws(SkiffError) in try stager.stage(block) }
        try await failpoints.hit("after:stage")
        let digests = try await hashFiles(staged)
        try Stager.checkChunkCount(staged, digests, expected: block.meta.numChunks > 0 ? block.meta.numChunks : nil)
        let files = Stager.metaFiles(staged, digests)
        let meta = block.meta.thanosDocument(labels: config.labels, files: files, uploadTimeMillis: now())
        try await Blocking.run { () throws(SkiffError) in try stager.writeMeta(meta, for: ulid) }
        return StepResult(.hashed, hashed: (files, meta))
    }

    /// Hashes the staged files, up to `hashConcurrency` at once on the blocking pool, each in one
    /// read that also hashes the parts the bucket will sign (`Bucket.signedPartSize`). In order.
    private func hashFiles(_ files: [StagedFile]) async throws(SkiffError) -> [FileDigest.Digest] {
        let (stager, bucket) = (self.stager, self.bucket)
        let outcome = await withTaskGroup(
            of: (Int, Result<FileDigest.Digest, SkiffError>).self, returning: Result<[FileDigest.Digest], SkiffError>.self
        ) { group in
            var digests = [FileDigest.Digest?](repeating: nil, count: files.count)
            var next = 0
            func start() {
                let (index, file) = (next, files[next])
                next += 1
                group.addTask {
                    let partSize = bucket.signedPartSize(forFileOfSize: file.size)
                    do throws(SkiffError) {
                        return (
                            index,
                            .success(
                                try await Blocking.run { () throws(SkiffError) in try stager.hash(file, partSize: partSize) })
                        )
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            while next < min(Self.hashConcurrency, files.count) { start() }
            while let (index, result) = await group.next() {
                switch result {
                case .success(let digest): digests[index] = digest
                case .failure(let error):
                    group.cancelAll()
                    return .failure(error)
                }
                if next < files.count { start() }
            }
            return .success(digests.map { $0! })
        }
        return try outcome.get()
    }

    /// Files hashed at once: a block's two or three big segments on the cores a sidecar usually
    /// has, so staging takes the time of its biggest file rather than the sum.
    static var hashConcurrency: Int { max(1, min(4, ProcessInfo.processInfo.activeProcessorCount)) }

    /// Uploads the files matching `which` that the ledger does not yet record as uploaded, up to
    /// `uploadConcurrency` at a time, and records each in its own transaction as it lands.
    /// Returns the bytes sent.
    func uploadPending(_ ulid: ULID, local: LocalView, which: (String) -> Bool) async throws(SkiffError) -> Int64 {
        let recorded = try await ledger.files(ulid)
        let pending = recorded.filter { !$0.uploaded && which($0.relPath) }
        guard !pending.isEmpty else { return 0 }
        let staged = try await stagedFiles(ulid, recorded: recorded, local: local)
        return try await uploadAll(pending, of: ulid, staged: staged) { file throws(SkiffError) in
            try await ledger.recordFileUploaded(ulid, relPath: file.relPath, at: now())
            try await failpoints.hit("after:record:\(file.relPath)")
        }
    }

    /// Uploads `files` (in order of their names) with at most `uploadConcurrency` in flight, each
    /// in a child task that only streams its own staged file (its own journal, no shared mutable
    /// state). `landed` runs here, in the parent, one file at a time as each lands, so ledger
    /// writes stay serialized. After a failure no new upload starts; those in flight finish and,
    /// when they land, are still recorded (a retry then skips them), and the first error is
    /// thrown. A failure of `landed` itself (the ledger) cancels the rest. Returns the bytes sent.
    private func uploadAll(
        _ files: [FileRecord], of ulid: ULID, staged: [String: StagedFile],
        landed: (FileRecord) async throws(SkiffError) -> Void
    ) async throws(SkiffError) -> Int64 {
        let limit = max(config.uploadConcurrency, 1)
        let outcome = await withTaskGroup(
            of: (FileRecord, Result<Int64, SkiffError>).self, returning: Result<Int64, SkiffError>.self
        ) { group in
            var started = 0
            var sent: Int64 = 0
            var firstError: SkiffError?
            var recording = true
            while started < min(limit, files.count) {
                startUpload(files[started], of: ulid, staged: staged, in: &group)
                started += 1
            }
            while let (file, result) = await group.next() {
                switch result {
                case .success(let bytes):
                    sent += bytes
                    guard recording else { break }
                    do throws(SkiffError) { try await landed(file) } catch {
                        firstError = firstError ?? error
                        recording = false
                        group.cancelAll()
                    }
                case .failure(let error):
                    firstError = firstError ?? error
                }
                if firstError == nil, started < files.count {
                    startUpload(files[started], of: ulid, staged: staged, in: &group)
                    started += 1
                }
            }
            return firstError.map { .failure($0) } ?? .success(sent)
        }
        return try outcome.get()
    }

    private func startUpload(
        _ file: FileRecord, of ulid: ULID, staged: [String: StagedFile],
        in group: inout TaskGroup<(FileRecord, Result<Int64, SkiffError>)>
    ) {
        group.addTask {
            do throws(SkiffError) {
                return (file, .success(try await upload(file, of: ulid, staged: staged)))
            } catch {
                return (file, .failure(error))
            }
        }
    }

    /// Confirms every file is in the bucket with its recorded size (re-sending any that is not),
    /// then uploads meta.json, the commit marker, last. Returns the bytes sent and the block's
    /// recorded size.
    func verifyAndCommit(_ ulid: ULID, local: LocalView) async throws(SkiffError) -> (sent: Int64, total: Int64?) {
        guard let (record, recorded) = try await ledger.blockWithFiles(ulid), let meta = record.metaJSON else {
            throw SkiffError(.ledger, "block \(ulid) has no recorded meta.json", transient: false)
        }
        var missing: [FileRecord] = []
        for file in recorded {
            let attributes = try await bucket.attributes(key: "\(ulid)/\(file.relPath)")
            guard attributes?.size != file.sizeBytes else { continue }
            log(
                .warning, "file missing or short in bucket; uploading it again", ulid,
                ["file": "\(file.relPath)", "found_bytes": "\(attributes?.size ?? -1)"])
            missing.append(file)
        }
        var sent: Int64 = 0
        if !missing.isEmpty {
            // Already recorded as uploaded: nothing to record as they land.
            let staged = try await stagedFiles(ulid, recorded: recorded, local: local)
            sent = try await uploadAll(missing, of: ulid, staged: staged) { _ in }
        }
        // Every file is in place, so any unfinished upload under the block is an orphan (a crash
        // between creating a multipart upload and recording it): abort it before committing.
        try await abortMultipartUploads(ulid)
        try await failpoints.hit("before:upload:meta.json")
        do throws(SkiffError) {
            try await bucket.upload(key: "\(ulid)/meta.json", bytes: meta)
        } catch {
            // Objects under "<ULID>/meta.json/" (a directory, in a FILESYSTEM bucket) keep the commit
            // marker out for good: no retry helps, so quarantine rather than hold back newer blocks.
            let underMeta = try? await bucket.list(prefix: "\(ulid)/meta.json/", recursive: false)
            guard underMeta?.isEmpty == false else { throw error }
            throw SkiffError(
                .corruptBlock,
                "cannot commit: the bucket \(bucket.name) holds objects under \(ulid)/meta.json/ (a directory where "
                    + "meta.json belongs); remove them and the block commits at its next attempt (\(error.message))",
                transient: false)
        }
        try await failpoints.hit("after:upload:meta.json")
        return (sent + Int64(meta.count), record.totalBytes)
    }

    /// For an abandoned block: adopt it if its meta.json landed, else delete its partial objects.
    func cleanPartialUpload(_ ulid: ULID) async throws(SkiffError) -> ShipEvent {
        try stager.remove(ulid)
        try await abortMultipartUploads(ulid)
        if let found = try await BucketBlockMeta.read(bucket, ulid) {
            switch found.verdict(ulid: ulid, labels: config.labels) {
            case .ours(let meta):
                // Committed before the dir vanished. Its files are not checked here: with the local
                // dir gone nothing could be shipped again; reconcile reports any damage.
                try await ledger.recordAdoptedMeta(ulid, metaJSON: found.bytes, files: meta.files, at: now())
                return .adopted
            case .notOurs(let why):
                // Someone else's block under this ULID: none of its objects is ours to delete.
                log(.warning, "left another's block in the bucket alone", ulid, ["meta": "meta.json \(why)"])
                try await ledger.recordNote(
                    ulid, detail: "abandoned; \(ulid)/meta.json in the bucket \(why): its objects were left alone", at: now())
                return .cleaned
            case .unreadable:
                break  // a partial upload to Thanos too: deleted with the rest below
            }
        }
        let keys = try await bucket.list(prefix: "\(ulid)/", recursive: true)
        for key in keys { try await bucket.delete(key: key) }
        log(.info, "removed partial upload", ulid, ["objects": "\(keys.count)"])
        return .cleaned
    }

    /// The block's meta.json in the bucket, if any. One that cannot be read at all (a FIFO planted
    /// in a FILESYSTEM bucket) quarantines the block: no retry reads it, and newer blocks go on.
    private func bucketMeta(_ ulid: ULID) async throws(SkiffError) -> BucketBlockMeta.Found? {
        do { return try await BucketBlockMeta.read(bucket, ulid) } catch  where !error.transient {
            throw SkiffError(
                .corruptBlock,
                "the bucket's \(ulid)/meta.json cannot be read (\(error.message)), so nothing says whether the block "
                    + "is committed; remove it from the bucket and the block ships at its next attempt", transient: false)
        }
    }

    /// Decides what a meta.json already at the block's key means, before anything is staged.
    /// True: adopt (ours and complete; its bytes and files are recorded for `skiff verify`).
    /// False: ship over it, after deleting it, so readers see no commit until ours lands: it is
    /// unreadable (Thanos counts it a partial upload) or ours with files missing or cut short.
    /// Throws `.corruptBlock` (quarantine) for a readable meta.json that is not ours, whatever
    /// wrote it: another Prometheus' block with this ULID (a cloned data dir), another cluster's
    /// labels, Prometheus' own meta.json with no `thanos` section. Thanos users expect a sidecar
    /// never to replace a block it did not upload, as Thanos' own shipper never does, and a
    /// quarantine names the block and the reason without holding back newer blocks.
    private func adoptOrClear(_ ulid: ULID, _ found: BucketBlockMeta.Found) async throws(SkiffError) -> Bool {
        let why: String
        switch found.verdict(ulid: ulid, labels: config.labels) {
        case .notOurs(let reason):
            throw SkiffError(
                .corruptBlock,
                "the bucket already holds \(ulid)/meta.json, which \(reason): not this sidecar's commit, so it is "
                    + "neither adopted nor overwritten. If it is a damaged copy of this block, delete \(ulid)/meta.json "
                    + "from the bucket and the block ships at its next attempt; if it is another Prometheus' block, "
                    + "move this block dir out of --tsdb.path", transient: false)
        case .ours(let meta):
            guard let missing = try await BucketBlockMeta.missingFiles(bucket, ulid, meta.files) else {
                // Committed another way (a restored ledger, an earlier run): nothing of ours is needed.
                try await abortMultipartUploads(ulid)
                try await ledger.recordAdoptedMeta(ulid, metaJSON: found.bytes, files: meta.files, at: now())
                return true
            }
            why = "is ours but its files are not all there (\(missing))"
        case .unreadable(let reason):
            why = reason
        }
        log(.warning, "removing a damaged meta.json from the bucket before shipping", ulid, ["meta": "meta.json \(why)"])
        try await ledger.recordNote(
            ulid, detail: "deleted \(ulid)/meta.json from the bucket before shipping: it \(why)", at: now())
        try await bucket.delete(key: "\(ulid)/meta.json")
        return false
    }

    /// Aborts the block's unfinished multipart uploads, which S3 would otherwise keep (and bill)
    /// invisibly, and records them as ended.
    func abortMultipartUploads(_ ulid: ULID) async throws(SkiffError) {
        let open = try await ledger.openMultipartUploads(ulid)
        let aborted = try await bucket.abortIncompleteUploads(prefix: "\(ulid)/")
        for upload in open { try await ledger.recordMultipartEnded(upload.uploadID, completed: false, at: now()) }
        if aborted > 0 { log(.info, "aborted unfinished multipart uploads", ulid, ["uploads": "\(aborted)"]) }
    }

    private func upload(
        _ file: FileRecord, of ulid: ULID, staged: [String: StagedFile]
    ) async throws(SkiffError)
        -> Int64
    {
        guard let source = staged[file.relPath] else {
            throw SkiffError(.corruptBlock, "block \(ulid) has no \(file.relPath) any more", transient: false)
        }
        try await failpoints.hit("before:upload:\(file.relPath)")
        let journal = LedgerUploadJournal(
            ledger: ledger, ulid: ulid, relPath: file.relPath, failpoints: failpoints, now: now)
        // What the staging hash saw of this file, when this process hashed it: lets the bucket send
        // it without reading and hashing every byte again (see `HashedFiles`).
        let hashed = stager.hashed.hashed(ulid, relPath: file.relPath, sha256: file.sha256, size: file.sizeBytes)
        do throws(SkiffError) {
            try await bucket.upload(
                key: "\(ulid)/\(file.relPath)", fileAt: source.path, size: file.sizeBytes, sha256: file.sha256,
                hashedAs: hashed, journal: journal)
        } catch  where error.code == .bucket && !error.message.contains(bucket.name) {
            // "upload <key>: Not a directory" alone does not say where: name the bucket.
            throw SkiffError(
                error.code, "\(error.message) (bucket \(bucket.name))", transient: error.transient, context: error.context)
        }
        try await failpoints.hit("after:upload:\(file.relPath)")
        return file.sizeBytes
    }

    /// The staged copies to upload from. After a restart the staging dir is normally still there;
    /// if it is not, the block is staged again from the Prometheus dir, and must match what was
    /// hashed (`recorded`, the ledger's files of the block).
    private func stagedFiles(
        _ ulid: ULID, recorded: [FileRecord], local: LocalView
    ) async throws(SkiffError) -> [String: StagedFile] {
        var files = stager.stagedFiles(for: ulid)
        if files == nil {
            guard let block = local.readable[ulid] else {
                throw SkiffError(.blockVanished, "block dir \(ulid) and its staging copy are gone")
            }
            let stager = self.stager
            files = try await Blocking.run { () throws(SkiffError) in try stager.stage(block) }
        }
        let byPath = Dictionary(uniqueKeysWithValues: files!.map { ($0.relPath, $0) })
        for recorded in recorded where byPath[recorded.relPath]?.size != recorded.sizeBytes {
            throw SkiffError(
                .corruptBlock,
                "block \(ulid) changed since it was hashed: \(recorded.relPath) is "
                    + "\(byPath[recorded.relPath].map { "\($0.size) bytes" } ?? "missing"), expected \(recorded.sizeBytes) bytes",
                transient: false)
        }
        return byPath
    }

    /// Rewrites `thanos.shipper.json` (`--shipper.meta-file-name`): the committed blocks still on disk, as Thanos does (and as
    /// Prometheus 3.9+ reads it through --storage.tsdb.delay-compact-file.path).
    func writeShipperFile(_ local: LocalView) async throws(SkiffError) {
        let committed = try await ledger.blocks().filter { $0.state == .committed && local.contains($0.ulid) }
        try await failpoints.hit("before:shipper_json")
        try ShipperMetaFile.write(uploaded: committed.map(\.ulid), tsdbPath: config.tsdbPath, name: config.metaFileName)
        try await failpoints.hit("after:shipper_json")
    }
}
