import Foundation
import GRDB
import SkiffCore

/// The SQLite ledger: every block's lifecycle, its files, and the append-only transition log.
///
/// Invariants (see docs/ARCHITECTURE.md):
/// - WAL with `synchronous = FULL`: a method that returned has its transaction on disk, so the
///   shipper may start the side effect that depends on it. The exceptions are progress records
///   within a step (a file or a multipart part acknowledged, `writeWithoutSync`): they survive a
///   crash of the process, and a power cut can only make a file or part go again.
/// - Every method is one transaction. A transition updates the block row and appends to
///   `transitions` together, and only if the block is still in the expected `from` state.
/// - `transitions` rows are never updated or deleted (triggers enforce it).
public final class Ledger: Sendable {
    public let path: String
    let pool: DatabasePool
    /// The time callers waited on this ledger, for `skiff ship` to report and benchmarks to read.
    public let timing = LedgerTiming()

    /// The newest migration this binary knows.
    public static var schemaName: String { embeddedMigrations.last!.name }

    init(path: String, pool: DatabasePool) {
        self.path = path
        self.pool = pool
    }

    /// The names of the migrations applied to this ledger, in order.
    public func appliedMigrations() async throws(SkiffError) -> [String] {
        try await read("read migrations") { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
        }
    }

    // MARK: - Queries

    /// Every block, oldest first (by min time, then ULID).
    public func blocks() async throws(SkiffError) -> [BlockRecord] {
        try await read("list blocks") { db in
            try BlockRecord.fetchAll(db, sql: "SELECT * FROM blocks ORDER BY min_time, ulid")
        }
    }

    /// Every block without its meta.json bytes (`metaJSON` nil): the status page lists 10,000
    /// blocks on each view, and the meta.json blobs were most of what it read.
    public func blockSummaries() async throws(SkiffError) -> [BlockRecord] {
        try await read("list blocks") { db in
            try BlockRecord.fetchAll(db, sql: "SELECT \(Self.summaryColumns) FROM blocks ORDER BY min_time, ulid")
        }
    }

    static let summaryColumns = """
        ulid, min_time, max_time, level, num_samples, num_series, num_chunks, state, resume_state, quarantined, \
        attempts, last_error, reason, next_attempt_at, total_bytes, uploaded_bytes, NULL AS meta_json, \
        discovered_at, updated_at, committed_at
        """

    public func block(_ ulid: ULID) async throws(SkiffError) -> BlockRecord? {
        try await read("read block \(ulid)") { db in
            try BlockRecord.fetchOne(db, sql: "SELECT * FROM blocks WHERE ulid = ?", arguments: [ulid.string])
        }
    }

    public func files(_ ulid: ULID) async throws(SkiffError) -> [FileRecord] {
        try await read("read files of \(ulid)") { db in try Self.files(db, ulid) }
    }

    /// The block with its files, in one read (what committing it needs).
    public func blockWithFiles(_ ulid: ULID) async throws(SkiffError) -> (block: BlockRecord, files: [FileRecord])? {
        try await read("read block \(ulid) with its files") { db in
            guard let block = try BlockRecord.fetchOne(db, sql: "SELECT * FROM blocks WHERE ulid = ?", arguments: [ulid.string])
            else { return nil }
            return (block, try Self.files(db, ulid))
        }
    }

    private static func files(_ db: Database, _ ulid: ULID) throws -> [FileRecord] {
        try FileRecord.fetchAll(db, sql: "SELECT * FROM block_files WHERE ulid = ? ORDER BY rel_path", arguments: [ulid.string])
    }

    /// Every transition of one block, in order.
    public func history(_ ulid: ULID) async throws(SkiffError) -> [TransitionRecord] {
        try await read("read history of \(ulid)") { db in
            try TransitionRecord.fetchAll(
                db, sql: "SELECT * FROM transitions WHERE ulid = ? ORDER BY id", arguments: [ulid.string])
        }
    }

    // MARK: - Writes (one transaction each)

    /// Records a newly found block in its initial state (discovered, or ignored with a reason).
    public func insertBlock(
        _ block: BlockSummary, machine: ShipStateMachine, reason: String?, at now: Int64
    ) async throws(SkiffError) {
        try await write("record block \(block.ulid)") { db in
            try db.execute(
                sql: """
                    INSERT INTO blocks (ulid, min_time, max_time, level, num_samples, num_series, num_chunks,
                                        state, reason, discovered_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    block.ulid.string, block.minTime, block.maxTime, block.level, block.numSamples,
                    block.numSeries, block.numChunks, machine.state.rawValue, reason, now, now,
                ])
            try Self.appendTransition(
                db, block.ulid, from: nil, to: machine.state, at: now, attempt: 1, bytes: nil, detail: reason)
        }
    }

    /// Records `hashed`: the files with their sizes and digests and the exact meta.json to upload.
    public func recordHashed(
        _ ulid: ULID, _ transition: ShipTransition, machine: ShipStateMachine,
        files: [BlockMeta.File], metaJSON: [UInt8], at now: Int64
    ) async throws(SkiffError) {
        let total = files.reduce(Int64(0)) { $0 + $1.sizeBytes }
        try await write("record \(ulid) hashed") { db in
            try db.execute(sql: "DELETE FROM block_files WHERE ulid = ?", arguments: [ulid.string])
            for f in files {
                try db.execute(
                    sql: "INSERT INTO block_files (ulid, rel_path, size_bytes, sha256) VALUES (?, ?, ?, ?)",
                    arguments: [ulid.string, f.relPath, f.sizeBytes, f.sha256])
            }
            try db.execute(
                sql: "UPDATE blocks SET meta_json = ?, total_bytes = ?, uploaded_bytes = 0 WHERE ulid = ?",
                arguments: [Data(metaJSON), total, ulid.string])
            try Self.applyTransition(
                db, ulid, transition, machine: machine, at: now, bytes: total, detail: "\(files.count) files")
        }
    }

    /// Records that one file is confirmed in the bucket, so a resumed upload skips it. Progress
    /// within a step, not a transition: it survives a crash of the process without an fsync of
    /// its own (`writeWithoutSync`), and the step's transition makes it durable with its own;
    /// only a power cut in between could lose it, and then the file is sent again.
    public func recordFileUploaded(_ ulid: ULID, relPath: String, at now: Int64) async throws(SkiffError) {
        try await writeWithoutSync("record \(ulid)/\(relPath) uploaded") { db in
            try db.execute(
                sql: "UPDATE block_files SET state = 'uploaded', uploaded_at = ? WHERE ulid = ? AND rel_path = ?",
                arguments: [now, ulid.string, relPath])
            guard db.changesCount == 1 else { throw LedgerError.corruptRow("no file row \(ulid)/\(relPath)") }
            try db.execute(
                sql: """
                    UPDATE blocks SET updated_at = ?, uploaded_bytes =
                        (SELECT coalesce(sum(size_bytes), 0) FROM block_files WHERE ulid = ? AND state = 'uploaded')
                    WHERE ulid = ?
                    """, arguments: [now, ulid.string, ulid.string])
        }
    }

    /// Records any other transition. `detail` is kept as the block's last error when failing;
    /// the machine carries the rest (resume state, quarantine, attempts, next attempt time).
    /// `origin`, when given, says the row now stands for a block this ledger did not upload.
    public func recordTransition(
        _ ulid: ULID, _ transition: ShipTransition, machine: ShipStateMachine, at now: Int64,
        bytes: Int64? = nil, detail: String? = nil, origin: BlockOrigin? = nil
    ) async throws(SkiffError) {
        try await write("record \(ulid) \(transition.to.rawValue)") { db in
            try Self.applyTransition(db, ulid, transition, machine: machine, at: now, bytes: bytes, detail: detail)
            if let origin {
                try db.execute(sql: "UPDATE blocks SET origin = ? WHERE ulid = ?", arguments: [origin.rawValue, ulid.string])
            }
        }
    }

    /// Updates the block row if it is still in `t.from`, and appends the transition. A commit
    /// clears `last_error`: the error belonged to an attempt the commit made history (it stays in
    /// the transition log and the `failures` view), and `skiff blocks` would otherwise show a
    /// shipped block with an error next to it.
    private static func applyTransition(
        _ db: Database, _ ulid: ULID, _ t: ShipTransition, machine: ShipStateMachine, at now: Int64,
        bytes: Int64?, detail: String?
    ) throws {
        precondition(machine.state == t.to, "machine and transition disagree")
        let row = machine.persisted
        try db.execute(
            sql: """
                UPDATE blocks SET state = ?, resume_state = ?, quarantined = ?, attempts = ?,
                    last_error = CASE ? WHEN 'failed' THEN ? WHEN 'committed' THEN NULL ELSE last_error END,
                    next_attempt_at = ?, updated_at = ?,
                    committed_at = CASE WHEN ? = 'committed' THEN ? ELSE committed_at END
                WHERE ulid = ? AND state = ?
                """,
            arguments: [
                row.state.rawValue, row.resumeState?.rawValue, row.quarantined, row.attempts,
                t.to.rawValue, detail, row.nextAttemptAt, now, t.to.rawValue, now, ulid.string, t.from.rawValue,
            ])
        guard db.changesCount == 1 else {
            throw SkiffError(
                .ledger,
                "block \(ulid) is no longer \(t.from.rawValue) in the ledger: is another skiff shipping the same --tsdb.path?",
                transient: false)
        }
        let attempt = t.to == .failed ? row.attempts : row.attempts + 1
        try appendTransition(db, ulid, from: t.from, to: t.to, at: now, attempt: attempt, bytes: bytes, detail: detail)
    }

    static func appendTransition(
        _ db: Database, _ ulid: ULID, from: ShipState?, to: ShipState, at: Int64, attempt: Int, bytes: Int64?,
        detail: String?
    ) throws {
        try db.execute(
            sql: "INSERT INTO transitions (ulid, from_state, to_state, at, attempt, bytes, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [ulid.string, from?.rawValue, to.rawValue, at, attempt, bytes, detail])
    }

    // MARK: - Plumbing

    func read<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(SkiffError) -> T {
        let started = ContinuousClock.now
        let timing = self.timing
        defer { timing.waited(read: true, since: started) }
        do {
            return try await pool.read { db in
                let working = ContinuousClock.now
                defer { timing.worked(read: true, since: working) }
                return try body(db)
            }
        } catch {
            throw Self.map(error, what, path: path)
        }
    }

    /// One write transaction, committed with its fsync (`synchronous = FULL`).
    func write<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(SkiffError) -> T {
        try await write(what, synced: true, body)
    }

    /// A write that must survive a crash of the process but not a power loss: committed to the
    /// WAL without waiting for its fsync (`synchronous = NORMAL` for this one transaction; the
    /// next ordinary write's fsync covers it too). Only for records that merely save work after
    /// a restart, never for a transition: an acknowledged multipart part the journal lost is
    /// found again by ListParts and kept by its ETag. On a busy disk each fsync costs
    /// milliseconds, and a 1 GiB file has 64 parts.
    func writeWithoutSync<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(SkiffError) -> T {
        try await write(what, synced: false, body)
    }

    /// The transaction is begun and committed here rather than by GRDB's `write`, so the time
    /// counted as the ledger's own work (`LedgerTiming`) includes the commit and its fsync.
    private func write<T: Sendable>(
        _ what: String, synced: Bool, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(SkiffError) -> T {
        let started = ContinuousClock.now
        let timing = self.timing
        defer { timing.waited(read: false, since: started) }
        do {
            return try await pool.writeWithoutTransaction { db in
                let working = ContinuousClock.now
                defer { timing.worked(read: false, since: working) }
                if !synced { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
                let outcome = Result { () throws -> T in
                    var value: T?
                    try db.inTransaction(.immediate) {
                        value = try body(db)
                        return .commit
                    }
                    return value!
                }
                // Back to FULL whatever happened: every other write must wait for its fsync.
                if !synced { try db.execute(sql: "PRAGMA synchronous = FULL") }
                return try outcome.get()
            }
        } catch {
            throw Self.map(error, what, path: path)
        }
    }

    static func map(_ error: any Error, _ what: String, path: String) -> SkiffError {
        if let e = error as? SkiffError { return e }
        if case LedgerError.corruptRow(let detail) = error {
            // Only a hand edit or another program puts such a row in: the schema's checks refuse it.
            return SkiffError(
                .ledger,
                "\(what): ledger \(path) holds a row skiff cannot read (\(detail)); was it edited by hand? Fix or delete "
                    + "that row with sqlite3, or stop skiff and run `skiff ledger rebuild --force --ledger.path \(path) ...` "
                    + "to recreate the ledger from the bucket (the old file is kept)", transient: false)
        }
        if let e = error as? DatabaseError {
            let busy = e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED
            return SkiffError(.ledger, "\(what): \(e.message ?? "\(e.resultCode)")", transient: busy)
        }
        return SkiffError(.ledger, "\(what): \(error)", transient: false)
    }
}
