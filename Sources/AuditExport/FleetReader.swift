import ObjectStorage
import SkiffCore

/// One audit record as the fleet reports read it back, with its object's partitions.
public struct FleetRecord: Sendable, Equatable {
    public let date: String
    public let source: String
    /// The labels' canonical text (`AuditSource.canonicalText`).
    public let labels: String
    /// The exporting ledger's identity: (source, ledger, seq) names one transition.
    public let ledger: String
    public let seq: Int64
    public let ulid: String
    public let blockMaxTime: Int64?
    public let toState: String
    public let timeMillis: Int64
    public let bytes: Int64?
    public let error: String?
}

/// Streams every v1 audit record in a bucket: one walk of `skiff-audit/v1/`, each object read
/// and gunzipped piece by piece, each line handed on and dropped. Memory holds one listing page,
/// one gunzip window and one line.
public enum FleetReader {
    /// Calls `record` for every record, object by object in key order. Keys under the prefix
    /// that are not audit object names (a stray file) are skipped and counted.
    @discardableResult
    public static func forEach(
        in bucket: any Bucket, _ record: (FleetRecord) throws(SkiffError) -> Void
    ) async throws(SkiffError) -> (objects: Int, skipped: Int) {
        var objects = 0
        var skipped = 0
        try await bucket.walk(prefix: AuditObjectName.prefix) { (page: [ObjectEntry]) throws(SkiffError) in
            for entry in page {
                guard let name = AuditObjectName(key: entry.key) else {
                    skipped += 1
                    continue
                }
                try await read(bucket, name, record)
                objects += 1
            }
        }
        return (objects, skipped)
    }

    static func read(
        _ bucket: any Bucket, _ name: AuditObjectName, _ record: (FleetRecord) throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        let reader = try AuditGzip.LineReader(what: "audit object \(name.key)")
        var labelsCache: (json: [UInt8], text: String)?
        try await bucket.read(key: name.key, range: nil) { (piece: ArraySlice<UInt8>) throws(SkiffError) in
            try reader.feed(piece) { (line: [UInt8]) throws(SkiffError) in
                guard !line.isEmpty else { return }
                try record(parse(line, name, labelsCache: &labelsCache))
            }
        }
        try reader.finish()
    }

    static func parse(
        _ line: [UInt8], _ name: AuditObjectName, labelsCache: inout (json: [UInt8], text: String)?
    ) throws(SkiffError) -> FleetRecord {
        let value: JSONValue
        do throws(SkiffError) { value = try JSONValue.parse(line) } catch {
            throw SkiffError(.bucket, "audit object \(name.key) has a line that is not JSON: \(error.message)", transient: false)
        }
        guard value["schema"]?.stringValue == AuditRecord.schema, let seq = value["seq"]?.int64Value,
            let ulid = value["ulid"]?.stringValue, let to = value["to_state"]?.stringValue,
            let time = value["time_ms"]?.int64Value, seq >= name.first, seq <= name.last,
            value["ledger"]?.stringValue == name.ledger
        else {
            throw SkiffError(
                .bucket,
                "audit object \(name.key) has a record that is not schema v1, or not of the ledger and id range "
                    + "its name says", transient: false)
        }
        let labels = value["labels"] ?? .object([])
        let labelsJSON = Array(labels.encodedCompact().utf8)
        let text: String
        if let cached = labelsCache, cached.json == labelsJSON {
            text = cached.text
        } else {
            let members = labels.members ?? []
            text =
                AuditSource(
                    labels: LabelSet(members.map { Label(name: $0.key, value: $0.value.stringValue ?? "") })
                ).canonicalText
            labelsCache = (labelsJSON, text)
        }
        return FleetRecord(
            date: name.date, source: name.source, labels: text, ledger: name.ledger, seq: seq, ulid: ulid,
            blockMaxTime: value["block_max_time"]?.int64Value, toState: to, timeMillis: time,
            bytes: value["bytes"]?.int64Value, error: value["error"]?.stringValue)
    }
}
