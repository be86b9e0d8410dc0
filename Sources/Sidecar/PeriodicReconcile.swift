import CoreMetrics
import Foundation
import Ledger
import Logging
import ObjectStorage
import Reconcile
import SkiffCore
import Synchronization

/// The sidecar's reconciler: runs after the first sync pass and then at most every
/// `--reconcile.interval`, between passes, so a repair never races an upload. Findings go to the
/// ledger (`skiff report drift`) and to `skiff_reconcile_blocks{status}`; re-shipped blocks are
/// uploaded by the next pass.
final class PeriodicReconcile: Sendable {
    let ledger: Ledger
    let bucket: any Bucket
    let tsdbPath: String
    let intervalMillis: Int64
    let repair: Bool
    let logger: Logger
    private let lastRun = Mutex<Int64?>(nil)

    init(ledger: Ledger, bucket: any Bucket, tsdbPath: String, intervalMillis: Int64, repair: Bool, logger: Logger) {
        self.ledger = ledger
        self.bucket = bucket
        self.tsdbPath = tsdbPath
        self.intervalMillis = intervalMillis
        self.repair = repair
        self.logger = logger
        for status in Reconciler.Status.allCases {
            Gauge(label: "skiff_reconcile_blocks", dimensions: [("status", status.rawValue)]).record(0)
        }
        _ = Counter(label: "skiff_reconcile_repairs_total")
        _ = Counter(label: "skiff_reconcile_runs_total")
    }

    /// Runs when due. Errors are logged, never fatal: the shipper keeps shipping.
    func runIfDue(labels: LabelSet?, nowMillis: Int64 = WallClock.system.nowMillis()) async {
        guard intervalMillis > 0, let labels else { return }
        let due = lastRun.withLock { last in
            guard last.map({ nowMillis - $0 >= intervalMillis }) ?? true else { return false }
            last = nowMillis
            return true
        }
        guard due else { return }
        let reconciler = Reconciler(ledger: ledger, bucket: bucket, tsdbPath: tsdbPath, labels: labels)
        do {
            let result = try await reconciler.run(repair ? .repair : .report)
            Counter(label: "skiff_reconcile_runs_total").increment()
            for status in Reconciler.Status.allCases {
                Gauge(label: "skiff_reconcile_blocks", dimensions: [("status", status.rawValue)])
                    .record(result.entries.filter { $0.status == status }.count)
            }
            if result.repaired > 0 { Counter(label: "skiff_reconcile_repairs_total").increment(by: result.repaired) }
            let drifted = result.entries.filter { !$0.status.isHealthy }
            if drifted.isEmpty {
                logger.debug("reconcile: local dirs, ledger and bucket agree", metadata: ["blocks": "\(result.entries.count)"])
            } else {
                for entry in drifted {
                    logger.warning(
                        "reconcile found drift",
                        metadata: [
                            "block": "\(entry.ulid)", "status": "\(entry.status.rawValue)", "detail": "\(entry.detail)",
                            "action": "\(entry.action?.rawValue ?? "none")",
                            "outcome": "\(entry.outcome ?? (repair ? "none" : "report only"))",
                        ])
                }
            }
        } catch {
            logger.warning("reconcile failed; retrying at the next interval", metadata: ["err": "\(error)"])
        }
    }
}
