import CoreMetrics
import Foundation
import Ledger
import SkiffCore

/// `skiff_*` gauges computed from the ledger after every sync pass: what the counters cannot say
/// (how many blocks wait, and for how long).
struct LedgerGauges: Sendable {
    let ledger: Ledger

    func refresh(nowMillis: Int64 = WallClock.system.nowMillis()) async {
        guard let blocks = try? await ledger.blockSummaries() else { return }
        for state in ShipState.allCases {
            Gauge(label: "skiff_ledger_blocks", dimensions: [("state", state.rawValue)])
                .record(blocks.filter { $0.state == state }.count)
        }
        let unshipped = blocks.filter { !$0.state.isFinal }
        // A block is due once its time range has ended: its age is how late its upload is.
        let oldest = unshipped.map(\.maxTime).min()
        Gauge(label: "skiff_oldest_unshipped_block_age_seconds")
            .record(oldest.map { Double(max(0, nowMillis - $0)) / 1000 } ?? 0)
        let shipped = blocks.filter { $0.state == .committed }.reduce(Int64(0)) { $0 + ($1.totalBytes ?? 0) }
        Gauge(label: "skiff_ledger_committed_bytes").record(shipped)
    }
}
