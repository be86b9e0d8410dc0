import GRDB
import SkiffCore

/// Where the fleet audit export stands (`audit_export`, schema 5).
public struct AuditExportCursor: Sendable, Equatable {
    /// A batch planned but not yet confirmed in the bucket.
    public struct Pending: Sendable, Equatable {
        /// The first transition id of the batch is `exportedThrough + 1`; this is its last.
        public let through: Int64
        /// The external labels the batch is written under (JSON object text), kept so a
        /// re-export after a crash lands under the same `source=` prefix even if the labels changed.
        public let labelsJSON: String

        public init(through: Int64, labelsJSON: String) {
            self.through = through
            self.labelsJSON = labelsJSON
        }
    }

    /// Every transition with an id up to this one is in the bucket.
    public let exportedThrough: Int64
    public let pending: Pending?

    public init(exportedThrough: Int64, pending: Pending?) {
        self.exportedThrough = exportedThrough
        self.pending = pending
    }
}

/// A transition with the times of its block, as the audit export writes it.
public struct AuditTransition: Sendable, Equatable {
    public let transition: TransitionRecord
    /// The block's min and max time (Unix ms); nil only when the block row is missing.
    public let blockMinTime: Int64?
    public let blockMaxTime: Int64?

    public init(transition: TransitionRecord, blockMinTime: Int64?, blockMaxTime: Int64?) {
        self.transition = transition
        self.blockMinTime = blockMinTime
        self.blockMaxTime = blockMaxTime
    }
}

extension TransitionRecord {
    /// A transition as a row would read, for code that builds audit records without a ledger
    /// (`Tools/bench-fleet`'s simulated fleet).
    public init(
        id: Int64, ulid: String, from: ShipState?, to: ShipState, at: Int64, attempt: Int, bytes: Int64?,
        detail: String?
    ) {
        self.id = id
        self.ulid = ulid
        self.from = from
        self.to = to
        self.at = at
        self.attempt = attempt
        self.bytes = bytes
        self.detail = detail
    }
}

extension Ledger {
    /// This ledger's identity (`ledger_identity`, schema 6): 16 random lower-case hex digits given
    /// to the file once. The fleet audit writes it into every object name and record, so audit
    /// objects of a rebuilt ledger (whose transition ids start at 1 again) never replace older ones.
    public func identity() async throws(SkiffError) -> String {
        try await read("read the ledger identity") { db in
            guard let id = try String.fetchOne(db, sql: "SELECT ledger_id FROM ledger_identity WHERE id = 1") else {
                throw LedgerError.corruptRow("no ledger_identity row")
            }
            return id
        }
    }

    /// The export cursor.
    public func auditExportCursor() async throws(SkiffError) -> AuditExportCursor {
        try await read("read the audit export cursor") { db in try Self.cursor(db) }
    }

    /// The batch to export next: the one already planned (a crash interrupted it), or a new one
    /// of at most `maxRows` transitions after the cursor, planned under `labelsJSON`. Nil when
    /// every transition is exported. The plan is durable before this returns, so the objects
    /// written for it are always named from the same id range.
    public func planAuditExport(
        maxRows: Int, labelsJSON: String, at now: Int64
    ) async throws(SkiffError)
        -> AuditExportCursor.Pending?
    {
        precondition(maxRows >= 1, "maxRows must be positive")
        return try await write("plan an audit export batch") { db in
            let cursor = try Self.cursor(db)
            if let pending = cursor.pending { return pending }
            let last =
                try Int64.fetchOne(
                    db, sql: "SELECT id FROM transitions WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?",
                    arguments: [cursor.exportedThrough, maxRows - 1])
                ?? Int64.fetchOne(
                    db, sql: "SELECT max(id) FROM transitions WHERE id > ?", arguments: [cursor.exportedThrough])
            guard let last else { return nil }
            try db.execute(
                sql: "UPDATE audit_export SET pending_through = ?, pending_labels = ?, updated_at = ? WHERE id = 1",
                arguments: [last, labelsJSON, now])
            return AuditExportCursor.Pending(through: last, labelsJSON: labelsJSON)
        }
    }

    /// The transitions with ids in `after+1 ... through`, in id order, with their blocks' times.
    public func auditTransitions(after: Int64, through: Int64) async throws(SkiffError) -> [AuditTransition] {
        try await read("read transitions \(after + 1)...\(through) for the audit export") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.*, b.min_time AS block_min_time, b.max_time AS block_max_time
                    FROM transitions t LEFT JOIN blocks b ON b.ulid = t.ulid
                    WHERE t.id > ? AND t.id <= ? ORDER BY t.id
                    """, arguments: [after, through]
            ).map { row in
                AuditTransition(
                    transition: try TransitionRecord(row: row), blockMinTime: row["block_min_time"],
                    blockMaxTime: row["block_max_time"])
            }
        }
    }

    /// Records that the planned batch ending at `through` is durably in the bucket.
    public func completeAuditExport(through: Int64, at now: Int64) async throws(SkiffError) {
        try await write("advance the audit export cursor to \(through)") { db in
            try db.execute(
                sql: """
                    UPDATE audit_export SET exported_through = pending_through, pending_through = NULL,
                        pending_labels = NULL, updated_at = ?
                    WHERE id = 1 AND pending_through = ?
                    """, arguments: [now, through])
            guard db.changesCount == 1 else {
                throw SkiffError(
                    .ledger,
                    "the audit export batch ending at transition \(through) is no longer planned in ledger: "
                        + "is another skiff exporting from the same ledger?", transient: false)
            }
        }
    }

    /// Transitions not yet exported.
    public func auditUnexportedCount() async throws(SkiffError) -> Int64 {
        try await read("count transitions not yet exported") { db in
            let cursor = try Self.cursor(db)
            return try Int64.fetchOne(
                db, sql: "SELECT count(*) FROM transitions WHERE id > ?", arguments: [cursor.exportedThrough]) ?? 0
        }
    }

    private static func cursor(_ db: Database) throws -> AuditExportCursor {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT exported_through, pending_through, pending_labels FROM audit_export WHERE id = 1")
        else { throw LedgerError.corruptRow("no audit_export row") }
        let through: Int64? = row["pending_through"]
        let labels: String? = row["pending_labels"]
        return AuditExportCursor(
            exportedThrough: row["exported_through"],
            pending: through.map { AuditExportCursor.Pending(through: $0, labelsJSON: labels ?? "{}") })
    }
}
