import BlockingWork
import Ledger
import SkiffCore

/// The last reconcile run and the blocks it found out of sync.
public struct ReconcileSummary: Sendable, Equatable {
    public struct Finding: Sendable, Equatable {
        public var ulid: String
        public var status: String
        public var detail: String
        public var action: String?
        public var outcome: String?
    }

    public var startedAt: Int64
    public var durationMillis: Int64
    public var mode: String
    public var blocks: Int64
    public var drifted: Int64
    public var repaired: Int64
    public var findings: [Finding]

    /// The status the reconciler gives a committed block whose objects are gone from the bucket.
    static let missingStatus = "missing_from_bucket"
}

/// Failed attempts sharing one error text.
public struct FailureGroup: Sendable, Equatable {
    public var error: String
    public var attempts: Int64
    public var blocks: Int64
    public var lastAt: Int64
}

/// What the status page reads from the ledger for one answer.
public struct LedgerReading: Sendable {
    public var blocks: [BlockRecord]
    public var reconcile: ReconcileSummary?
    public var failures: [FailureGroup]

    public init(blocks: [BlockRecord] = [], reconcile: ReconcileSummary? = nil, failures: [FailureGroup] = []) {
        self.blocks = blocks
        self.reconcile = reconcile
        self.failures = failures
    }

    /// Blocks through the ledger's own API; the reconcile run and the failures (which it has no
    /// call for) through its read-only query path, on the blocking pool as SQLite calls must be.
    public static func read(_ ledger: Ledger, failureLimit: Int = 10) async throws(SkiffError) -> LedgerReading {
        let blocks = try await ledger.blockSummaries()
        let path = ledger.path
        let (reconcile, failures) = try await Blocking.run { () throws(SkiffError) in
            (try lastReconcile(path: path), try failureGroups(path: path, limit: failureLimit))
        }
        return LedgerReading(blocks: blocks, reconcile: reconcile, failures: failures)
    }

    static func lastReconcile(path: String) throws(SkiffError) -> ReconcileSummary? {
        let runs = try Ledger.query(
            path: path,
            sql: """
                SELECT id, started_at, duration_ms, mode, blocks, drifted, repaired
                FROM reconcile_runs ORDER BY id DESC LIMIT 1
                """)
        guard let run = runs.rows.first, case .integer(let id) = run[0] else { return nil }
        let findings = try Ledger.query(
            path: path,
            sql: "SELECT ulid, status, detail, action, outcome FROM reconcile_findings WHERE run_id = \(id) ORDER BY ulid")
        return ReconcileSummary(
            startedAt: run[1].int, durationMillis: run[2].int, mode: run[3].text ?? "", blocks: run[4].int,
            drifted: run[5].int, repaired: run[6].int,
            findings: findings.rows.map { row in
                .init(
                    ulid: row[0].text ?? "", status: row[1].text ?? "", detail: row[2].text ?? "", action: row[3].text,
                    outcome: row[4].text)
            })
    }

    /// The most recent distinct errors first (the `failures` view is every failed attempt).
    static func failureGroups(path: String, limit: Int) throws(SkiffError) -> [FailureGroup] {
        let result = try Ledger.query(
            path: path,
            sql: """
                SELECT coalesce(error, ''), count(*), count(DISTINCT ulid), max(at) FROM failures
                GROUP BY error ORDER BY max(at) DESC LIMIT \(limit)
                """)
        return result.rows.map { row in
            FailureGroup(error: row[0].text ?? "", attempts: row[1].int, blocks: row[2].int, lastAt: row[3].int)
        }
    }
}

extension SQLValue {
    fileprivate var int: Int64 { if case .integer(let v) = self { v } else { 0 } }
    fileprivate var text: String? { if case .text(let v) = self { v } else { nil } }
}
