import BlockingWork
import Ledger
import Logging
import ObjectStorage
import Shipper
import SkiffCore

/// What one export did.
public struct AuditExportSummary: Sendable, Equatable {
    public var rows = 0
    public var objects: [String] = []
    public init() {}
}

/// Copies the ledger's transitions after the export cursor to the bucket, exactly once.
///
/// Each batch: plan it in the ledger (its last id and the labels, durable), read its rows with
/// their blocks' times, write one object per UTC day (named from the ledger's identity and the
/// first and last id it holds, so a repeat rewrites the same object), then advance the cursor. A crash anywhere repeats the
/// planned batch and nothing else: no gap, no duplicate row.
///
/// Failpoints (`SKIFF_FAILPOINTS`, crash tests): `audit:planned`, `audit:before:upload`,
/// `audit:after:upload` (each object), `audit:before:cursor`, `audit:after:cursor`.
public struct AuditExporter: Sendable {
    public struct Configuration: Sendable {
        /// The labels a new batch is exported under (the sidecar's current external labels).
        public var labels: LabelSet
        /// `--audit.export-max-rows`: the most transitions in one batch.
        public var maxRows: Int
        /// Written into every record.
        public var skiffVersion: String

        public init(labels: LabelSet, maxRows: Int = 10_000, skiffVersion: String) {
            self.labels = labels
            self.maxRows = maxRows
            self.skiffVersion = skiffVersion
        }
    }

    let ledger: Ledger
    let bucket: any Bucket
    let configuration: Configuration
    let failpoints: Failpoints
    let clock: WallClock
    let logger: Logger

    public init(
        ledger: Ledger, bucket: any Bucket, configuration: Configuration, failpoints: Failpoints = .none,
        clock: WallClock = .system, logger: Logger = Logger(label: "skiff.audit")
    ) {
        self.ledger = ledger
        self.bucket = bucket
        self.configuration = configuration
        self.failpoints = failpoints
        self.clock = clock
        self.logger = logger
    }

    /// Exports batches until every transition recorded so far is in the bucket.
    @discardableResult
    public func exportAll() async throws(SkiffError) -> AuditExportSummary {
        var summary = AuditExportSummary()
        while !Task.isCancelled, let batch = try await exportBatch() {
            summary.rows += batch.rows
            summary.objects += batch.objects
        }
        return summary
    }

    /// Exports one batch (the planned one first); nil when there was nothing to export.
    public func exportBatch() async throws(SkiffError) -> AuditExportSummary? {
        let labelsJSON = AuditSource(labels: configuration.labels).labelsJSON.encodedCompact()
        let cursor = try await ledger.auditExportCursor()
        guard
            let pending = try await ledger.planAuditExport(
                maxRows: configuration.maxRows, labelsJSON: labelsJSON, at: clock.nowMillis())
        else { return nil }
        try await failpoints.hit("audit:planned")
        // A batch planned before a crash keeps the labels it was planned under.
        let source = try AuditSource.fromLabelsJSON(pending.labelsJSON)
        let rows = try await ledger.auditTransitions(after: cursor.exportedThrough, through: pending.through)
        let version = configuration.skiffVersion
        let ledgerID = try await ledger.identity()
        let objects = try await Blocking.run { () throws(SkiffError) in
            try Self.objects(rows, source: source, ledger: ledgerID, skiffVersion: version)
        }
        var summary = AuditExportSummary()
        for (name, bytes) in objects {
            try await failpoints.hit("audit:before:upload")
            try await bucket.upload(key: name.key, bytes: bytes)
            try await failpoints.hit("audit:after:upload")
            summary.objects.append(name.key)
        }
        summary.rows = rows.count
        try await failpoints.hit("audit:before:cursor")
        try await ledger.completeAuditExport(through: pending.through, at: clock.nowMillis())
        try await failpoints.hit("audit:after:cursor")
        logger.debug(
            "exported audit records",
            metadata: ["rows": "\(rows.count)", "through": "\(pending.through)", "objects": "\(objects.count)"])
        return summary
    }

    /// The batch's objects: one per run of consecutive rows on the same UTC day, gzipped.
    public static func objects(
        _ rows: [AuditTransition], source: AuditSource, ledger: String, skiffVersion: String
    ) throws(SkiffError) -> [(AuditObjectName, [UInt8])] {
        var out: [(AuditObjectName, [UInt8])] = []
        var start = 0
        while start < rows.count {
            let date = AuditObjectName.utcDate(millis: rows[start].transition.at)
            var end = start + 1
            while end < rows.count, AuditObjectName.utcDate(millis: rows[end].transition.at) == date { end += 1 }
            var body: [UInt8] = []
            for row in rows[start..<end] {
                body += AuditRecord(row, labels: source.labels, ledger: ledger, skiffVersion: skiffVersion).line
            }
            let name = AuditObjectName(
                date: date, source: source.id, ledger: ledger, first: rows[start].transition.id,
                last: rows[end - 1].transition.id)
            out.append((name, try AuditGzip.compress(body)))
            start = end
        }
        return out
    }
}
