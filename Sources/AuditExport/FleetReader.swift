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
        var labelsCache: (json: ArraySlice<UInt8>, text: String)?
        try await bucket.read(key: name.key, range: nil) { (piece: ArraySlice<UInt8>) throws(SkiffError) in
            try reader.feed(piece) { (line: [UInt8]) throws(SkiffError) in
                guard !line.isEmpty else { return }
                try record(parse(line, name, labelsCache: &labelsCache))
            }
        }
        try reader.finish()
    }

    static func parse(
        _ line: [UInt8], _ name: AuditObjectName, labelsCache: inout (json: ArraySlice<UInt8>, text: String)?
    ) throws(SkiffError) -> FleetRecord {
        func bad(_ what: String) -> SkiffError {
            SkiffError(.bucket, "audit object \(name.key) has a record that is not valid: \(what)", transient: false)
        }
        do throws(AuditLineScanner.Malformed) {
            let r = try AuditLineScanner(line)
            guard r.equals(.schema, "\"\(AuditRecord.schema)\""), let seq = try r.int(.seq), let ulid = try r.string(.ulid),
                let to = try r.string(.toState), let time = try r.int(.timeMillis), seq >= name.first, seq <= name.last,
                try r.string(.ledger) == name.ledger
            else {
                throw AuditLineScanner.Malformed(what: "not schema v1, or not of the ledger and id range its name says")
            }
            let labels = r.raw(.labels) ?? ArraySlice("{}".utf8)
            let text: String
            if let cached = labelsCache, cached.json.elementsEqual(labels) {
                text = cached.text
            } else {
                text = try canonicalLabels(labels)
                labelsCache = (labels, text)
            }
            return FleetRecord(
                date: name.date, source: name.source, labels: text, ledger: name.ledger, seq: seq, ulid: ulid,
                blockMaxTime: try r.int(.blockMaxTime), toState: to, timeMillis: time, bytes: try r.int(.bytes),
                error: try r.string(.error))
        } catch {
            throw bad(error.what)
        }
    }

    /// The labels' canonical text, from the record's `labels` object.
    static func canonicalLabels(_ json: ArraySlice<UInt8>) throws(AuditLineScanner.Malformed) -> String {
        let value: JSONValue
        do throws(SkiffError) { value = try JSONValue.parse(json) } catch {
            throw AuditLineScanner.Malformed(what: "labels: \(error.message)")
        }
        guard let members = value.members else { throw AuditLineScanner.Malformed(what: "labels is not an object") }
        var labels: [Label] = []
        for member in members {
            guard let v = member.value.stringValue else {
                throw AuditLineScanner.Malformed(what: "label \(member.key) is not a string")
            }
            labels.append(Label(name: member.key, value: v))
        }
        return AuditSource(labels: LabelSet(labels)).canonicalText
    }
}
