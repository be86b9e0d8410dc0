import Foundation
import GRDB
import SkiffCore

/// What the ledger records about a block when it is first found.
public struct BlockSummary: Sendable, Equatable {
    public let ulid: ULID
    public let minTime: Int64
    public let maxTime: Int64
    public let level: Int
    public let numSamples: Int64
    public let numSeries: Int64
    public let numChunks: Int64

    public init(_ meta: BlockMeta) {
        ulid = meta.ulid
        minTime = meta.minTime
        maxTime = meta.maxTime
        level = meta.level
        numSamples = meta.numSamples
        numSeries = meta.numSeries
        numChunks = meta.numChunks
    }

    /// A block whose meta.json cannot be read: placed in time by its ULID, stats unknown (0).
    public init(unreadable ulid: ULID) {
        self.ulid = ulid
        minTime = ulid.timestampMillis
        maxTime = ulid.timestampMillis
        level = 1
        numSamples = 0
        numSeries = 0
        numChunks = 0
    }
}

/// One row of `blocks`: a block's current state and totals.
public struct BlockRecord: Sendable, Equatable, FetchableRecord {
    public let ulid: ULID
    public let minTime: Int64
    public let maxTime: Int64
    public let level: Int
    public let numSamples: Int64
    public let numSeries: Int64
    public let numChunks: Int64
    public let state: ShipState
    public let resumeState: ShipState?
    public let quarantined: Bool
    public let attempts: Int
    public let lastError: String?
    public let reason: String?
    public let nextAttemptAt: Int64?
    public let totalBytes: Int64?
    public let uploadedBytes: Int64
    public let metaJSON: [UInt8]?
    public let discoveredAt: Int64
    public let updatedAt: Int64
    public let committedAt: Int64?

    /// The state machine as persisted for this block, with the default retry policy (the
    /// shipper sets its own).
    public let machine: ShipStateMachine

    public init(row: Row) throws {
        let text: String = row["ulid"]
        guard let id = ULID(text) else { throw LedgerError.corruptRow("blocks.ulid \(text) is not a ULID") }
        ulid = id
        minTime = row["min_time"]
        maxTime = row["max_time"]
        level = row["level"]
        numSamples = row["num_samples"]
        numSeries = row["num_series"]
        numChunks = row["num_chunks"]
        state = try LedgerError.state(row["state"])
        resumeState = try (row["resume_state"] as String?).map(LedgerError.state)
        quarantined = row["quarantined"]
        attempts = row["attempts"]
        lastError = row["last_error"]
        reason = row["reason"]
        nextAttemptAt = row["next_attempt_at"]
        totalBytes = row["total_bytes"]
        uploadedBytes = row["uploaded_bytes"]
        metaJSON = (row["meta_json"] as Data?).map { [UInt8]($0) }
        discoveredAt = row["discovered_at"]
        updatedAt = row["updated_at"]
        committedAt = row["committed_at"]
        let persisted = ShipStateMachine.Persisted(
            state: state, resumeState: resumeState, quarantined: quarantined, attempts: attempts,
            nextAttemptAt: nextAttemptAt)
        guard let machine = ShipStateMachine(persisted) else {
            throw LedgerError.corruptRow("block \(text) is failed with resume state \(resumeState?.rawValue ?? "-")")
        }
        self.machine = machine
    }
}

/// One row of `block_files`.
public struct FileRecord: Sendable, Equatable, FetchableRecord {
    public let relPath: String
    public let sizeBytes: Int64
    public let sha256: String
    public let uploaded: Bool
    public let uploadedAt: Int64?

    public init(row: Row) {
        relPath = row["rel_path"]
        sizeBytes = row["size_bytes"]
        sha256 = row["sha256"]
        uploaded = (row["state"] as String) == "uploaded"
        uploadedAt = row["uploaded_at"]
    }

    public var file: BlockMeta.File { BlockMeta.File(relPath: relPath, sizeBytes: sizeBytes, sha256: sha256) }
}

/// One row of the append-only `transitions` log.
public struct TransitionRecord: Sendable, Equatable, FetchableRecord {
    public let id: Int64
    public let ulid: String
    public let from: ShipState?
    public let to: ShipState
    public let at: Int64
    public let attempt: Int
    public let bytes: Int64?
    public let detail: String?

    public init(row: Row) throws {
        id = row["id"]
        ulid = row["ulid"]
        from = try (row["from_state"] as String?).map(LedgerError.state)
        to = try LedgerError.state(row["to_state"])
        at = row["at"]
        attempt = row["attempt"]
        bytes = row["bytes"]
        detail = row["detail"]
    }
}

enum LedgerError: Error {
    case corruptRow(String)

    static func state(_ text: String) throws -> ShipState {
        guard let s = ShipState(rawValue: text) else { throw corruptRow("unknown state \(text)") }
        return s
    }
}
