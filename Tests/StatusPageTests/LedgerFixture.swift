import Foundation
import GRDB
import Ledger
import SkiffCore
import TestSupport

/// A block row as a test wants it, written straight into a real ledger file.
struct FixtureBlock {
    var n: Int
    var minTime: Int64
    var maxTime: Int64
    var level = 1
    var state = "committed"
    var quarantined = false
    var committedAt: Int64?
    var totalBytes: Int64? = 1000
    var uploadedBytes: Int64 = 0
    var lastError: String?
    var reason: String?
    var updatedAt: Int64 = 0

    var ulid: String { TestULID.make(n) }
}

/// A real SQLite ledger (Skiff's schema, made by `Ledger.open`) filled with SQL in one
/// transaction: ten thousand blocks in well under a second, where one transaction per row through
/// the ledger's API would fsync each.
enum LedgerFixture {
    struct Failure {
        var n: Int
        var error: String
        var at: Int64
    }

    /// About the size of a real block's meta.json with its Thanos section (the ledger keeps it, and
    /// `Ledger.blocks()` reads it back with every row).
    static let metaJSON = Data(String(repeating: "{\"ulid\":\"01HZZZZZZZ0000000000000000\",\"stats\":{}}", count: 24).utf8)

    static func make(
        in dir: TempDir, blocks: [FixtureBlock], filesPerBlock: Int = 2, missing: [Int] = [],
        failures: [Failure] = [], reconcileAt: Int64? = nil
    ) async throws -> Ledger {
        let path = dir.sub("ledger.db")
        let ledger = try Ledger.open(path: path)
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            for b in blocks {
                try db.execute(
                    sql: """
                        INSERT INTO blocks (ulid, min_time, max_time, level, num_samples, num_series, num_chunks, state,
                            resume_state, quarantined, attempts, last_error, reason, total_bytes, uploaded_bytes,
                            discovered_at, updated_at, committed_at, meta_json)
                        VALUES (?, ?, ?, ?, 100, 10, 5, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        b.ulid, b.minTime, b.maxTime, b.level, b.state, b.state == "failed" ? "hashed" : nil,
                        b.quarantined, b.state == "failed" ? 1 : 0, b.lastError, b.reason, b.totalBytes, b.uploadedBytes,
                        b.maxTime, b.updatedAt, b.committedAt, Self.metaJSON,
                    ])
                // discovered -> hashed -> ... -> the block's state, a second apart.
                var at = b.maxTime
                var from: String? = nil
                for to in ["discovered", "hashed", b.state] where to != from {
                    try db.execute(
                        sql:
                            "INSERT INTO transitions (ulid, from_state, to_state, at, attempt, bytes, detail) VALUES (?, ?, ?, ?, 1, ?, ?)",
                        arguments: [
                            b.ulid, from, to, at, to == "hashed" ? b.totalBytes : nil, to == "failed" ? b.lastError : nil,
                        ])
                    from = to
                    at += 1000
                }
                for f in 0..<filesPerBlock {
                    try db.execute(
                        sql:
                            "INSERT INTO block_files (ulid, rel_path, size_bytes, sha256, state) VALUES (?, ?, ?, ?, 'uploaded')",
                        arguments: [
                            b.ulid, f == 0 ? "index" : "chunks/\(String(repeating: "0", count: 5))\(f)", 500,
                            String(repeating: "ab", count: 32),
                        ])
                }
            }
            for f in failures {
                try db.execute(
                    sql:
                        "INSERT INTO transitions (ulid, from_state, to_state, at, attempt, detail) VALUES (?, 'hashed', 'failed', ?, 1, ?)",
                    arguments: [TestULID.make(f.n), f.at, f.error])
            }
            if let reconcileAt {
                try db.execute(
                    sql:
                        "INSERT INTO reconcile_runs (started_at, duration_ms, mode, blocks, drifted, repaired) VALUES (?, 1500, 'report', ?, ?, 0)",
                    arguments: [reconcileAt, blocks.count, missing.count])
                let run = db.lastInsertedRowID
                for n in missing {
                    try db.execute(
                        sql:
                            "INSERT INTO reconcile_findings (run_id, ulid, status, detail) VALUES (?, ?, 'missing_from_bucket', 'meta.json is not in the bucket')",
                        arguments: [run, TestULID.make(n)])
                }
            }
        }
        try queue.close()
        return ledger
    }
}
