import GRDB
import SkiffCore

extension Ledger {
    /// Replaces an unfinished block's times, level and stats with those of its meta.json.
    ///
    /// A block first seen with an unreadable meta.json is recorded with placeholders (both times
    /// at its ULID's time, zero stats); once it is fixed and read, the row must describe the real
    /// block, or `lag`, the reports and the oldest-first order stay wrong for good. Rows that are
    /// finished (committed, ignored, cleaned) keep what they recorded. Not a transition: the
    /// state does not change (nor `updated_at`, the time of the last transition). Returns whether
    /// the row changed.
    @discardableResult
    public func updateSummary(_ block: BlockSummary) async throws(SkiffError) -> Bool {
        try await write("update summary of block \(block.ulid)") { db in
            try db.execute(
                sql: """
                    UPDATE blocks SET min_time = ?, max_time = ?, level = ?, num_samples = ?, num_series = ?,
                        num_chunks = ?
                    WHERE ulid = ? AND state NOT IN ('committed', 'ignored', 'cleaned')
                      AND NOT (min_time = ? AND max_time = ? AND level = ? AND num_samples = ? AND num_series = ?
                               AND num_chunks = ?)
                    """,
                arguments: [
                    block.minTime, block.maxTime, block.level, block.numSamples, block.numSeries, block.numChunks,
                    block.ulid.string, block.minTime, block.maxTime, block.level, block.numSamples, block.numSeries,
                    block.numChunks,
                ])
            return db.changesCount == 1
        }
    }
}
