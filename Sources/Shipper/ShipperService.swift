import CoreMetrics
import Logging
import ServiceLifecycle
import SkiffCore

/// Runs a sync pass every interval until graceful shutdown, for `skiff ship --watch` and the
/// sidecar. Shutdown cancels an in-flight pass at once: the ledger holds every finished step, so
/// the next start resumes the block (a multipart upload with its missing parts only).
public struct ShipperService: Service {
    let intervalMillis: Int64
    let logger: Logger
    let metrics: ShipperMetrics
    /// The shipper for the next pass; the sidecar builds it with the external labels Prometheus
    /// reports at that moment.
    let shipper: @Sendable () async throws -> Shipper
    /// Runs after every pass, failed or not (the sidecar refreshes its ledger gauges there).
    let afterPass: @Sendable () async -> Void

    public init(
        intervalMillis: Int64, logger: Logger, metrics: ShipperMetrics = ShipperMetrics(),
        afterPass: @escaping @Sendable () async -> Void = {},
        shipper: @escaping @Sendable () async throws -> Shipper
    ) {
        self.intervalMillis = intervalMillis
        self.logger = logger
        self.metrics = metrics
        self.afterPass = afterPass
        self.shipper = shipper
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let (summary, uploadCompacted) = try await cancelWhenGracefulShutdown {
                    let shipper = try await shipper()
                    return (try await shipper.syncOnce(), shipper.config.uploadCompacted)
                }
                metrics.record(summary, uploadCompacted: uploadCompacted)
                if let (ulid, error) = summary.blockedBy {
                    logger.warning("sync pass stopped at a failing block", metadata: ["block": "\(ulid)", "err": "\(error)"])
                } else {
                    logger.debug("sync pass done", metadata: ["shipped": "\(summary.committed.count)"])
                }
            } catch let error as SkiffError where error.transient {
                metrics.recordFailedPass()
                logger.warning("sync pass failed", metadata: ["err": "\(error)"])
            } catch {
                // Shutdown cancels the pass wherever it is (a ledger write, a request): every
                // finished step is in the ledger, so the next start resumes from there.
                if Task.isShuttingDownGracefully || Task.isCancelled || error is CancellationError {
                    logger.info("sync pass interrupted by shutdown; the next start resumes it")
                    break
                }
                metrics.recordFailedPass()
                throw error
            }
            await afterPass()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(intervalMillis)) }
        }
        logger.info("shipper stopped")
    }
}

/// The shipper's metrics under Thanos' names, so its dashboards and alerts work unchanged.
public struct ShipperMetrics: Sendable {
    let dirSyncs: Counter
    let dirSyncFailures: Counter
    let uploads: Counter
    let uploadFailures: Counter
    let corruptedBlocks: Counter
    let uploadCompactedDone: Gauge
    let bytesUploaded: Counter

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        dirSyncs = Counter(label: "thanos_shipper_dir_syncs_total", factory: factory)
        dirSyncFailures = Counter(label: "thanos_shipper_dir_sync_failures_total", factory: factory)
        uploads = Counter(label: "thanos_shipper_uploads_total", factory: factory)
        uploadFailures = Counter(label: "thanos_shipper_upload_failures_total", factory: factory)
        corruptedBlocks = Counter(label: "thanos_shipper_corrupted_blocks_total", factory: factory)
        // Registered at 0 whatever the flag, as Thanos does since v0.27 (v0.26 registered it only with the flag).
        uploadCompactedDone = Gauge(label: "thanos_shipper_upload_compacted_done", factory: factory)
        uploadCompactedDone.record(0)
        bytesUploaded = Counter(label: "skiff_shipper_uploaded_bytes_total", factory: factory)
    }

    /// A finished pass: blocks committed by upload (adopted ones were not uploaded), failed
    /// attempts, newly quarantined (unreadable) blocks; a pass stopped by a failing block counts
    /// as a failed sync.
    ///
    /// `thanos_shipper_upload_compacted_done` follows Thanos' `Sync`: a clean pass (no failing,
    /// failed or unreadable block) sets it to 1 with `--shipper.upload-compacted` (every compacted
    /// block then is in the bucket) and to 0 without; any other pass leaves it as it was.
    public func record(_ summary: SyncSummary, uploadCompacted: Bool = false) {
        dirSyncs.increment()
        // Thanos counts a pass that left a block behind as a failed sync, skipped or not.
        if summary.blockedBy != nil || !summary.skippedAfterFailure.isEmpty { dirSyncFailures.increment() }
        uploads.increment(by: Int64(summary.committed.count))
        uploadFailures.increment(by: Int64(summary.failures))
        corruptedBlocks.increment(by: Int64(summary.quarantined.count))
        bytesUploaded.increment(by: summary.uploadedBytes)
        if summary.blockedBy == nil && summary.skippedAfterFailure.isEmpty && summary.failures == 0
            && summary.quarantined.isEmpty
        {
            uploadCompactedDone.record(uploadCompacted ? 1 : 0)
        }
    }

    /// A pass that failed as a whole (the bucket or the data dir could not be read).
    public func recordFailedPass() {
        dirSyncs.increment()
        dirSyncFailures.increment()
    }
}
