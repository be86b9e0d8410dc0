import ArgumentParser
import AuditExport
import Foundation
import HTTPServer
import Ledger
import Logging
import ObjectStorage
import ObjstoreConfig
import ServiceLifecycle
import Shipper
import SkiffCore
import TSDB

/// `skiff ship`: ship every eligible block once (or keep watching with `--watch`).
struct Ship: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload finished TSDB blocks to the bucket, oldest first, recording every step in the ledger.",
        discussion: """
            Runs one sync pass and exits: 0 when every eligible block is in the bucket, 1 when a block \
            is failing or quarantined (see `skiff blocks`). With --watch it keeps scanning until SIGTERM/SIGINT.
            """)

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var logOptions: LogOptions

    @OptionGroup var objstore: ObjstoreOptions
    @OptionGroup var audit: AuditExportOptions

    @Option(name: .customLong("label"), help: "External label name=value for shipped blocks (repeatable).")
    var labels: [String] = []

    @Flag(name: .customLong("shipper.upload-compacted"), help: "Also ship blocks with compaction level > 1.")
    var uploadCompacted = false

    @Flag(name: .long, help: "Keep scanning for new blocks until SIGTERM/SIGINT.")
    var watch = false

    @Option(name: .customLong("sync-interval"), parsing: .unconditional, help: "How often --watch scans for new blocks.")
    var syncInterval: String = "30s"

    @Option(name: .customLong("shipper.retry-backoff"), parsing: .unconditional, help: "First retry delay after a failed upload.")
    var retryBackoff: String = "1s"

    @Option(name: .customLong("shipper.retry-backoff-max"), parsing: .unconditional, help: "Longest retry delay.")
    var retryBackoffMax: String = "5m"

    @Option(
        name: .customLong("shipper.attempts-per-pass"), parsing: .unconditional,
        help: "Failed attempts per block before a pass gives up.")
    var attemptsPerPass: Int = 5

    @Option(
        name: .customLong("shipper.upload-concurrency"), parsing: .unconditional,
        help: "Files of one block uploaded at once (0 means 1).")
    var uploadConcurrency: Int = 0

    @Flag(
        name: .customLong("shipper.allow-out-of-order-uploads"),
        help: "A block that fails to upload does not hold back newer ones.")
    var allowOutOfOrderUploads = false

    @Option(
        name: .customLong("shipper.meta-file-name"),
        help: "Name of the file in --tsdb.path listing uploaded blocks (Prometheus' delay-compact-file).")
    var metaFileName = "thanos.shipper.json"

    func run() async throws {
        try await runReportingErrors {
            let logger = logOptions.makeLogger("skiff.ship")
            let labelSet = try LabelSet.parse(flags: labels)
            guard !labelSet.isEmpty else {
                throw SkiffError(
                    .invalidArgument,
                    "no external labels: pass --label name=value (e.g. --label cluster=eu1 --label replica=0); "
                        + "Thanos uses them to tell blocks of different Prometheus servers apart")
            }
            let bucketConfig = try objstore.load()
            let auditSettings = try audit.settings()
            // Every flag is checked before the bucket or the data dir is touched.
            let interval = try FlagValues.durationMillis(
                syncInterval, flag: "--sync-interval", minimumMillis: FlagValues.minimumSyncMillis)
            var config = ShipperConfig(
                tsdbPath: ledgerOptions.tsdbPath, labels: labelSet, uploadCompacted: uploadCompacted,
                backoff: try FlagValues.backoff(
                    first: retryBackoff, max: retryBackoffMax, firstFlag: "--shipper.retry-backoff",
                    maxFlag: "--shipper.retry-backoff-max"),
                attemptsPerPass: try FlagValues.positive(attemptsPerPass, flag: "--shipper.attempts-per-pass"))
            config.uploadConcurrency = try FlagValues.nonNegative(uploadConcurrency, flag: "--shipper.upload-concurrency")
            config.allowOutOfOrderUploads = allowOutOfOrderUploads
            config.metaFileName = try FlagValues.fileName(metaFileName, flag: "--shipper.meta-file-name")
            // The bucket's connections are closed on every way out, errors included.
            try await withBucket(try bucketConfig.makeBucket()) { bucket in
                try await ship(config, bucket: bucket, interval: interval, audit: auditSettings, logger: logger)
            }
        }
    }

    private func ship(
        _ config: ShipperConfig, bucket: any Bucket, interval: Int64, audit: AuditExportSchedule?, logger: Logger
    ) async throws {
        try await bucket.checkAccess()
        let workspace = try await ShipperWorkspace.open(
            tsdbPath: ledgerOptions.tsdbPath, ledgerPath: ledgerOptions.resolvedLedgerPath, logger: logger)
        let ledger = workspace.ledger
        let shipper = try workspace.makeShipper(config: config, bucket: bucket, logger: logger)
        logger.info(
            "starting shipper",
            metadata: [
                "tsdb": "\(config.tsdbPath)", "bucket": "\(bucket.name)", "ledger": "\(ledger.path)",
                "labels": "\(config.labels)",
            ])
        let exporter = try audit.map { settings throws(SkiffError) in
            AuditExporter(
                ledger: ledger, bucket: bucket,
                configuration: .init(labels: config.labels, maxRows: settings.maxRows, skiffVersion: BuildInfo.version),
                failpoints: try Failpoints.parse(ProcessInfo.processInfo.environment["SKIFF_FAILPOINTS"] ?? ""),
                logger: logger)
        }
        if watch {
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
            // The export first: services stop in reverse order, so its final export at shutdown
            // comes after the shipper's last pass.
            if let exporter, let audit {
                services.append(
                    .init(
                        service: AuditExportService(interval: audit.interval, maxRows: audit.maxRows, logger: logger) {
                            exporter
                        }))
            }
            services.append(.init(service: ShipperService(intervalMillis: interval, logger: logger) { shipper }))
            let group = ServiceGroup(
                configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } else {
            let opened = ledger.timing.current
            let summary = try await shipper.syncOnce()
            // What the pass waited on the ledger: not opening it, nor the summary's reads after.
            let spent = ledger.timing.current.since(opened)
            logger.debug(
                "ledger time",
                metadata: [
                    "reads": "\(spent.reads)", "writes": "\(spent.writes)",
                    "waited_ms": "\(LedgerTiming.Totals.milliseconds(spent.waited))",
                    "worked_ms": "\(LedgerTiming.Totals.milliseconds(spent.worked))",
                ])
            if let exporter {
                // After the pass, so this run's transitions are in the bucket when ship exits.
                let exported = try await exporter.exportAll()
                logger.info(
                    "exported audit records", metadata: ["rows": "\(exported.rows)", "objects": "\(exported.objects.count)"])
            }
            let quarantined = try await printSummary(summary, ledger: ledger, bucket: bucket)
            if summary.blockedBy != nil || !summary.skippedAfterFailure.isEmpty || quarantined > 0 { throw ExitCode(1) }
        }
    }

    /// Prints what the pass did; returns how many local blocks are quarantined (this pass or earlier).
    private func printSummary(_ s: SyncSummary, ledger: Ledger, bucket: any Bucket) async throws(SkiffError) -> Int {
        var lines: [String] = []
        let records = Dictionary(uniqueKeysWithValues: try await ledger.blocks().map { ($0.ulid, $0) })
        for ulid in s.committed {
            let r = records[ulid]
            lines.append(
                "shipped \(ulid)  \(RFC3339.format(millis: r?.minTime ?? 0)) .. \(RFC3339.format(millis: r?.maxTime ?? 0))  \(ByteCount.format(r?.totalBytes ?? 0))"
            )
        }
        for ulid in s.adopted { lines.append("adopted \(ulid)  (meta.json was already in the bucket)") }
        for ulid in s.cleaned { lines.append("cleaned \(ulid)  (block dir vanished; partial upload removed)") }
        // Every quarantined block still on disk, not just this pass's: each run exits 1 until it is fixed.
        let quarantined = records.values.filter {
            $0.state == .failed && $0.quarantined
                && FileManager.default.fileExists(atPath: "\(ledgerOptions.tsdbPath)/\($0.ulid)")
        }.sorted { $0.minTime < $1.minTime }
        for r in quarantined {
            let next = r.nextAttemptAt.map { " (next attempt after \(RFC3339.format(millis: $0)))" } ?? ""
            lines.append("quarantined \(r.ulid)  \(r.lastError ?? "")\(next)")
        }
        if !quarantined.isEmpty {
            lines.append(
                "quarantined blocks are retried with a long backoff, or on the next run once their files change; "
                    + "fix or remove them (see `skiff history ULID`)")
        }
        for ulid in s.newlyIgnored { lines.append("ignored \(ulid)  \(records[ulid]?.reason ?? "")") }
        let committedTotal = records.values.filter { $0.state == .committed }.count
        lines.append(
            "\(s.committed.count) block(s) shipped (\(ByteCount.format(s.uploadedBytes)) uploaded), \(s.adopted.count) adopted"
                + (s.newlyIgnored.isEmpty ? "" : ", \(s.newlyIgnored.count) ignored") + "; "
                + "\(committedTotal) committed in total to \(bucket.name)")
        if let (ulid, error) = s.blockedBy {
            lines.append("block \(ulid) is failing and holds back newer blocks: \(error.message)")
            lines.append("run `skiff history \(ulid)` for its attempts; the next run resumes where this one stopped")
        }
        for (ulid, error) in s.skippedAfterFailure {
            lines.append("block \(ulid) failed and was skipped (--shipper.allow-out-of-order-uploads): \(error.message)")
        }
        print(lines.joined(separator: "\n"))
        return quarantined.count
    }
}
