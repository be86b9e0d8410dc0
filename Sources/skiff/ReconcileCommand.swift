import ArgumentParser
import Foundation
import Ledger
import Logging
import ObjectStorage
import ObjstoreConfig
import Reconcile
import Shipper
import SkiffCore
import TSDB

/// `skiff reconcile`: how local dirs, the ledger and the bucket compare, block by block, and with
/// `--repair` what it did about it.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare local blocks, the ledger and the bucket; report drift, and repair it with --repair.",
        discussion: """
            Statuses: in_sync, not_shipped, local_only, bucket_only, unrecorded_commit, partial_in_bucket, \
            missing_from_bucket, size_mismatch, damaged_meta, foreign_meta, content_mismatch (with --verify), \
            overlapping (ours by labels, unknown, overlapping one of our blocks: another Prometheus with our labels?), \
            merged_by_compactor, marked_for_deletion, stale_upload. Bucket blocks with other external labels, or \
            written by the Compactor, are not ours and are never touched. Without --label, ours are the labels the \
            ledger's blocks were shipped with (when they all carry the same); a --label that none of them carries \
            is refused. Every block's meta.json is read and a committed block's compared with the recorded bytes.

            --repair: adopt (record a commit found in the bucket, after checking sizes), reship (ship a committed \
            block again from its local dir when it is missing or damaged in the bucket, its damaged meta.json \
            removed first), delete_partial (remove objects of an abandoned upload), abort_uploads (abort stale \
            multipart uploads). Every action is a transition in the block's history. --dry-run prints the same plan \
            without acting. --verify also hashes every in-sync committed block's objects, as `skiff verify` does, so \
            damage that keeps sizes is found (and re-shipped with --repair).

            Each run is recorded in the ledger (see `skiff report drift`). Exits 0 when nothing needs attention \
            (after the repair, with --repair), 1 otherwise.
            """)

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var logOptions: LogOptions
    @OptionGroup var objstore: ObjstoreOptions

    @OptionGroup var ourLabels: OurLabelsOptions

    @Flag(name: .long, help: "Act on the drift found (adopt, re-ship, delete partial uploads, abort stale uploads).")
    var repair = false

    @Flag(
        name: .long,
        help:
            "Also re-read and hash every in-sync committed block's objects (as `skiff verify`); with --repair, re-ship damaged ones."
    )
    var verify = false

    @Flag(name: .customLong("dry-run"), help: "With or without --repair: print what --repair would do, change nothing.")
    var dryRun = false

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    func run() async throws {
        try await runReportingErrors {
            let flagged = try ourLabels.parseIfGiven()
            let mode: Reconciler.Mode = dryRun ? .dryRun : repair ? .repair : .report
            let config = try objstore.load()
            _ = try BlockScanner(tsdbPath: ledgerOptions.tsdbPath)
            // A repair must not race a running shipper (it would see a half-shipped block as drift).
            let lock = mode == .repair ? try DataDirLock(tsdbPath: ledgerOptions.tsdbPath) : nil
            // And a ledger kept outside <tsdb>/thanos may be another data dir's too: lock it as well.
            let ledgerLock =
                mode == .repair
                ? try DataDirLock(
                    ledgerPath: LedgerPath.resolve(ledgerOptions.resolvedLedgerPath), tsdbPath: ledgerOptions.tsdbPath)
                : nil
            defer { withExtendedLifetime((lock, ledgerLock)) {} }
            guard FileManager.default.fileExists(atPath: ledgerOptions.resolvedLedgerPath) else {
                throw SkiffError(
                    .ledger,
                    "no ledger at \(ledgerOptions.resolvedLedgerPath): run `skiff ship` first, or `skiff ledger rebuild` "
                        + "to recreate it from the bucket")
            }
            let ledger = try Ledger.open(path: ledgerOptions.resolvedLedgerPath)
            let ours = try await RecordedLabels.resolve(flags: flagged, ledger: ledger) { note in
                FileHandle.standardError.write(Data("\(note)\n".utf8))
            }
            let healthy = try await withBucket(try config.makeBucket()) { bucket in
                try BucketPlacement.check(bucket, tsdbPath: ledgerOptions.tsdbPath)
                return try await reconcile(
                    mode: mode, labels: ours, checkLabels: !flagged.isEmpty, ledger: ledger, bucket: bucket)
            }
            if !healthy { throw ExitCode(1) }
        }
    }

    /// Runs, prints, and for a repair ships what it moved back; true when nothing needs attention.
    private func reconcile(
        mode: Reconciler.Mode, labels: LabelSet, checkLabels: Bool, ledger: Ledger, bucket: any Bucket
    ) async throws -> Bool {
        var reconciler = Reconciler(ledger: ledger, bucket: bucket, tsdbPath: ledgerOptions.tsdbPath, labels: labels)
        reconciler.verifyContent = verify
        reconciler.requireRecordedLabels = checkLabels
        let result = try await reconciler.run(mode)
        print(Self.render(result.entries, mode: mode, output: output), terminator: "")
        guard mode == .repair else { return !result.entries.contains { !$0.status.isHealthy } }
        if !result.reshipped.isEmpty {
            let logger = logOptions.makeLogger("skiff.reconcile")
            let shipper = try Shipper(
                config: ShipperConfig(tsdbPath: ledgerOptions.tsdbPath, labels: labels), ledger: ledger, bucket: bucket,
                logger: logger)
            let summary = try await shipper.syncOnce()
            FileHandle.standardError.write(Data("re-shipped \(summary.committed.count) block(s)\n".utf8))
        }
        // What is left after the repair decides the exit code; it is recorded as a run of its own.
        let after = try await reconciler.run(.report).entries.filter { !$0.status.isHealthy }
        if !after.isEmpty {
            FileHandle.standardError.write(
                Data(
                    "\(after.count) block(s) still need attention: \(after.map { "\($0.ulid) \($0.status.rawValue)" }.joined(separator: ", "))\n"
                        .utf8))
        }
        return after.isEmpty
    }

    static func render(_ entries: [Reconciler.Entry], mode: Reconciler.Mode, output: TabularFormat) -> String {
        let withActions = mode != .report
        var columns = ["ulid", "status", "detail", "action"]
        if withActions { columns.append("outcome") }
        let rows: [[SQLValue]] = entries.map { e in
            var row: [SQLValue] = [
                .text(e.ulid.string), .text(e.status.rawValue), .text(e.detail), e.action.map { .text($0.rawValue) } ?? .null,
            ]
            if withActions { row.append(e.outcome.map { .text($0) } ?? .null) }
            return row
        }
        let result = SQLResult(columns: columns, rows: rows)
        guard output == .table else { return Tabular.render(result, as: output) }
        var table = TextTable(columns.map { $0.uppercased() })
        for row in rows { table.add(row.map { if case .text(let t) = $0 { t } else { "" } }) }
        let counts = Reconciler.Status.allCases.compactMap { status -> String? in
            let n = entries.filter { $0.status == status }.count
            return n == 0 ? nil : "\(n) \(status.rawValue)"
        }
        return table.render() + (counts.isEmpty ? "no blocks" : counts.joined(separator: ", ")) + "\n"
    }
}
