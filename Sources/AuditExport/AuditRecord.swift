import Ledger
import SkiffCore

/// One line of an audit object: one ledger transition, schema v1 (documented in the README's
/// "Fleet audit in the bucket"). Members, in this order:
///
/// | member | JSON type | meaning |
/// |---|---|---|
/// | `schema` | string | always "v1" |
/// | `labels` | object | the source's external labels |
/// | `ledger` | string | the exporting ledger's identity (16 hex digits; new after a rebuild) |
/// | `seq` | integer | the transition's id in its ledger (ascending; unique per source and ledger) |
/// | `ulid` | string | the block |
/// | `block_min_time`, `block_max_time` | integer or null | the block's time range, Unix ms |
/// | `from_state` | string or null | null for a block's first row |
/// | `to_state` | string | discovered, hashed, ..., committed, failed, cleaned, ignored |
/// | `time_ms` | integer | when the transition was recorded, Unix ms |
/// | `attempt` | integer | 1 for the first try, +1 after each failure |
/// | `bytes` | integer or null | bytes the step moved or covered |
/// | `error` | string or null | the error, for `to_state` = failed |
/// | `detail` | string or null | what happened, for other transitions |
/// | `skiff_version` | string | the exporting Skiff |
///
/// `date` and `source` are not members: they are the object's partitions (Hive engines refuse a
/// partition column that the data repeats).
public struct AuditRecord: Sendable, Equatable {
    public static let schema = "v1"

    public let labels: LabelSet
    public let ledger: String
    public let seq: Int64
    public let ulid: String
    public let blockMinTime: Int64?
    public let blockMaxTime: Int64?
    public let fromState: String?
    public let toState: String
    public let timeMillis: Int64
    public let attempt: Int64
    public let bytes: Int64?
    public let error: String?
    public let detail: String?
    public let skiffVersion: String

    public init(_ row: AuditTransition, labels: LabelSet, ledger: String, skiffVersion: String) {
        let t = row.transition
        self.labels = labels
        self.ledger = ledger
        seq = t.id
        ulid = t.ulid
        blockMinTime = row.blockMinTime
        blockMaxTime = row.blockMaxTime
        fromState = t.from?.rawValue
        toState = t.to.rawValue
        timeMillis = t.at
        attempt = Int64(t.attempt)
        bytes = t.bytes
        error = t.to == .failed ? t.detail : nil
        detail = t.to == .failed ? nil : t.detail
        self.skiffVersion = skiffVersion
    }

    /// The record as one JSON object.
    public var json: JSONValue {
        func int(_ v: Int64?) -> JSONValue { v.map { .int($0) } ?? .null }
        func str(_ v: String?) -> JSONValue { v.map { .string($0) } ?? .null }
        return .object([
            .init("schema", .string(Self.schema)),
            .init("labels", AuditSource(labels: labels).labelsJSON),
            .init("ledger", .string(ledger)), .init("seq", .int(seq)), .init("ulid", .string(ulid)),
            .init("block_min_time", int(blockMinTime)), .init("block_max_time", int(blockMaxTime)),
            .init("from_state", str(fromState)), .init("to_state", .string(toState)),
            .init("time_ms", .int(timeMillis)), .init("attempt", .int(attempt)), .init("bytes", int(bytes)),
            .init("error", str(error)), .init("detail", str(detail)),
            .init("skiff_version", .string(skiffVersion)),
        ])
    }

    /// One NDJSON line, newline included.
    public var line: [UInt8] {
        var out = Array(json.encodedCompact().utf8)
        out.append(0x0A)
        return out
    }
}
