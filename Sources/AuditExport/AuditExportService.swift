import Logging
import ServiceLifecycle
import SkiffCore

/// Exports the ledger's transitions to the bucket every `interval`, or sooner once `maxRows` are
/// waiting (checked every `checkInterval`), until graceful shutdown, then once more (at most
/// `finalExportLimit`) so the last transitions are in the bucket when the process ends; for the
/// sidecar and `skiff ship --watch`. List it before the shipper in the ServiceGroup: services
/// stop in reverse order, so the final export then sees the shipper's last transitions.
/// A failed export is logged and retried at the next check: the cursor only moves once a batch
/// is in the bucket, so nothing is lost meanwhile.
public struct AuditExportService: Service {
    /// How long shutdown waits for the final export; the rest goes out at the next start.
    public static let finalExportLimit: Duration = .seconds(10)

    let interval: Duration
    let checkInterval: Duration
    let maxRows: Int
    let logger: Logger
    /// The exporter for the next export; the sidecar builds it with the labels current then.
    /// Nil while the labels are not known yet.
    let exporter: @Sendable () async throws -> AuditExporter?

    public init(
        interval: Duration, maxRows: Int, checkInterval: Duration? = nil, logger: Logger,
        exporter: @escaping @Sendable () async throws -> AuditExporter?
    ) {
        self.interval = interval
        self.maxRows = maxRows
        self.checkInterval = min(checkInterval ?? .seconds(10), interval)
        self.logger = logger
        self.exporter = exporter
    }

    public func run() async throws {
        let clock = ContinuousClock()
        var lastExport: ContinuousClock.Instant?  // nil: export at the first check
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: checkInterval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            do {
                guard let exporter = try await exporter() else { continue }
                let due = lastExport.map { clock.now - $0 >= interval } ?? true
                if !due, try await exporter.ledger.auditUnexportedCount() < Int64(maxRows) { continue }
                let summary = try await cancelWhenGracefulShutdown { try await exporter.exportAll() }
                lastExport = clock.now
                if summary.rows > 0 {
                    logger.info(
                        "exported audit records to the bucket",
                        metadata: ["rows": "\(summary.rows)", "objects": "\(summary.objects.count)"])
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled || error is CancellationError { break }
                logger.warning("audit export failed; retrying at the next check", metadata: ["err": "\(error)"])
            }
        }
        if Task.isShuttingDownGracefully && !Task.isCancelled { await exportAtShutdown() }
        logger.info("audit export stopped")
    }

    /// The last export, bounded by `finalExportLimit`: a slow or unreachable bucket must not hold
    /// the shutdown (Kubernetes kills the pod after its grace period anyway). A cut-short batch
    /// stays planned in the ledger and is rewritten identically at the next start.
    func exportAtShutdown() async {
        let logger = self.logger
        do {
            guard let exporter = try await exporter() else { return }
            let summary = try await withThrowingTaskGroup(of: AuditExportSummary?.self) { group in
                group.addTask { try await exporter.exportAll() }
                group.addTask {
                    try await Task.sleep(for: Self.finalExportLimit)
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
            guard let summary else {
                logger.warning(
                    "audit export at shutdown took longer than \(Self.finalExportLimit); the next start exports the rest")
                return
            }
            if summary.rows > 0 {
                logger.info(
                    "exported audit records to the bucket at shutdown",
                    metadata: ["rows": "\(summary.rows)", "objects": "\(summary.objects.count)"])
            }
        } catch {
            logger.warning(
                "audit export at shutdown failed; the next start exports the rest", metadata: ["err": "\(error)"])
        }
    }
}

/// When the export runs (`--audit.export-interval`, `--audit.export-max-rows`); the sidecar and
/// `skiff ship --watch` export only when given one.
public struct AuditExportSchedule: Sendable, Equatable {
    public var interval: Duration
    public var maxRows: Int

    public init(interval: Duration = .seconds(300), maxRows: Int = 10_000) {
        self.interval = interval
        self.maxRows = maxRows
    }
}
