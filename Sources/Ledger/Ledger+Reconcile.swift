import Foundation
import GRDB
import SkiffCore

/// Where a block's ledger row came from (`blocks.origin`).
public enum BlockOrigin: String, Sendable {
    /// This ledger recorded the upload.
    case shipped
    /// Found committed in the bucket (by the shipper or `skiff reconcile --repair`) and taken over.
    case adopted
    /// Recreated by `skiff ledger rebuild`; its history before the rebuild is unknown.
    case rebuilt
}

/// One block's finding in a reconcile run, as stored in `reconcile_findings`.
public struct ReconcileFinding: Sendable, Equatable {
    public let ulid: ULID
    public let status: String
    public let detail: String
    public let action: String?
    public let outcome: String?

    public init(ulid: ULID, status: String, detail: String, action: String?, outcome: String?) {
        self.ulid = ulid
        self.status = status
        self.detail = detail
        self.action = action
        self.outcome = outcome
    }
}

extension Ledger {
    /// Every block's files in one read (the reconciler compares them all; a query per block
    /// would be thousands of round trips on a big ledger).
    public func filesByBlock() async throws(SkiffError) -> [ULID: [FileRecord]] {
        try await read("read every block's files") { db in
            var out: [ULID: [FileRecord]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM block_files ORDER BY ulid, rel_path") {
                guard let ulid = ULID(row["ulid"] as String) else { continue }
                out[ulid, default: []].append(FileRecord(row: row))
            }
            return out
        }
    }

    /// A block found committed in the bucket and unknown to this ledger.
    public struct FoundBlock: Sendable {
        public let summary: BlockSummary
        public let files: [BlockMeta.File]
        public let metaJSON: [UInt8]

        public init(summary: BlockSummary, files: [BlockMeta.File], metaJSON: [UInt8]) {
            self.summary = summary
            self.files = files
            self.metaJSON = metaJSON
        }
    }

    /// Records blocks found committed in the bucket, in one transaction: each as committed, its
    /// files as uploaded, and a single transition whose detail says where it came from.
    public func insertCommitted(
        _ blocks: [FoundBlock], origin: BlockOrigin, detail: String, at now: Int64
    ) async throws(SkiffError) {
        try await write("record \(blocks.count) \(origin.rawValue) block(s)") { db in
            for block in blocks { try Self.insertCommitted(db, block, origin: origin, detail: detail, at: now) }
        }
    }

    private static func insertCommitted(
        _ db: Database, _ block: FoundBlock, origin: BlockOrigin, detail: String, at now: Int64
    ) throws {
        let b = block.summary
        let total = block.files.reduce(Int64(0)) { $0 + $1.sizeBytes }
        try db.execute(
            sql: """
                INSERT INTO blocks (ulid, min_time, max_time, level, num_samples, num_series, num_chunks, state,
                                    total_bytes, uploaded_bytes, meta_json, discovered_at, updated_at, committed_at, origin)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'committed', ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                b.ulid.string, b.minTime, b.maxTime, b.level, b.numSamples, b.numSeries, b.numChunks, total, total,
                Data(block.metaJSON), now, now, now, origin.rawValue,
            ])
        for f in block.files {
            try db.execute(
                sql:
                    "INSERT INTO block_files (ulid, rel_path, size_bytes, sha256, state, uploaded_at) VALUES (?, ?, ?, ?, 'uploaded', ?)",
                arguments: [b.ulid.string, f.relPath, f.sizeBytes, f.sha256, now])
        }
        try appendTransition(db, b.ulid, from: nil, to: .committed, at: now, attempt: 1, bytes: total, detail: detail)
    }

    /// Records the meta.json found in the bucket for a block about to be adopted, and the files
    /// it lists as uploaded, so `skiff verify` can check an adopted block like a shipped one.
    /// Written before the adoption's transition, in its own transaction: on its own it changes
    /// no state, and a crash before the transition only repeats it (a later `hashed` replaces it).
    /// A listed file without a SHA-256 keeps the one this ledger hashed for the same path and size.
    public func recordAdoptedMeta(
        _ ulid: ULID, metaJSON: [UInt8], files: [BlockMeta.File], at now: Int64
    ) async throws(SkiffError) {
        let total = files.reduce(Int64(0)) { $0 + $1.sizeBytes }
        try await write("record the bucket's meta.json of \(ulid)") { db in
            var hashed: [String: (Int64, String)] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT rel_path, size_bytes, sha256 FROM block_files WHERE ulid = ?", arguments: [ulid.string])
            {
                hashed[row["rel_path"]] = (row["size_bytes"], row["sha256"])
            }
            try db.execute(sql: "DELETE FROM block_files WHERE ulid = ?", arguments: [ulid.string])
            for f in files {
                let known = hashed[f.relPath].flatMap { $0.0 == f.sizeBytes ? $0.1 : nil }
                try db.execute(
                    sql:
                        "INSERT INTO block_files (ulid, rel_path, size_bytes, sha256, state, uploaded_at) VALUES (?, ?, ?, ?, 'uploaded', ?)",
                    arguments: [ulid.string, f.relPath, f.sizeBytes, f.sha256.isEmpty ? known ?? "" : f.sha256, now])
            }
            try db.execute(
                sql: "UPDATE blocks SET meta_json = ?, total_bytes = ?, uploaded_bytes = ?, updated_at = ? WHERE ulid = ?",
                arguments: [Data(metaJSON), total, total, now, ulid.string])
            guard db.changesCount == 1 else {
                throw SkiffError(.ledger, "block \(ulid) is not in the ledger", transient: false)
            }
        }
    }

    /// Appends an audit row for something done to a block without changing its state (a
    /// reconcile action such as deleting leftover objects): from and to are the current state.
    public func recordNote(_ ulid: ULID, detail: String, at now: Int64) async throws(SkiffError) {
        try await write("record a note on \(ulid)") { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT state, attempts FROM blocks WHERE ulid = ?", arguments: [ulid.string]),
                let state = ShipState(rawValue: row["state"])
            else { throw SkiffError(.ledger, "block \(ulid) is not in the ledger", transient: false) }
            let attempts: Int = row["attempts"]
            try Self.appendTransition(
                db, ulid, from: state, to: state, at: now, attempt: attempts + 1, bytes: nil, detail: detail)
            try db.execute(sql: "UPDATE blocks SET updated_at = ? WHERE ulid = ?", arguments: [now, ulid.string])
        }
    }

    /// Stores a reconcile run and its findings (only blocks that were not in sync); returns its id.
    @discardableResult
    public func recordReconcileRun(
        startedAt: Int64, durationMillis: Int64, mode: String, blocks: Int, drifted: Int, repaired: Int,
        findings: [ReconcileFinding]
    ) async throws(SkiffError) -> Int64 {
        try await write("record a reconcile run") { db in
            try db.execute(
                sql: """
                    INSERT INTO reconcile_runs (started_at, duration_ms, mode, blocks, drifted, repaired)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [startedAt, durationMillis, mode, blocks, drifted, repaired])
            let id = db.lastInsertedRowID
            for f in findings {
                try db.execute(
                    sql:
                        "INSERT INTO reconcile_findings (run_id, ulid, status, detail, action, outcome) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [id, f.ulid.string, f.status, f.detail, f.action, f.outcome])
            }
            return id
        }
    }

    /// SQLite's integrity check: empty when the file is sound, else what SQLite found (first 10).
    public func integrityProblems() async throws(SkiffError) -> [String] {
        try await read("check ledger integrity") { db in
            do {
                let rows = try String.fetchAll(db, sql: "PRAGMA integrity_check(10)")
                return rows == ["ok"] ? [] : rows
            } catch let error as DatabaseError where [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode) {
                // Damage bad enough to stop the check itself is a finding too.
                return [error.message ?? "database disk image is malformed"]
            }
        }
    }
}
