import FileIO
import SkiffCore

/// `<tsdb>/thanos.shipper.json`, the list of uploaded blocks that Thanos' shipper keeps and that
/// Prometheus 3.9+ reads (`--storage.tsdb.delay-compact-file.path`) to decide what it may compact.
public enum ShipperMetaFile {
    public static let fileName = "thanos.shipper.json"

    /// The file's path for a TSDB dir; `name` is `--shipper.meta-file-name`.
    public static func path(tsdbPath: String, name: String = fileName) -> String { Posix.join(tsdbPath, name) }

    /// The bytes Thanos writes: Go's tab-indented encoding with a trailing newline, and
    /// `"uploaded": null` for an empty list (Go encodes a nil slice as null).
    public static func encode(uploaded: [ULID]) -> [UInt8] {
        let list: JSONValue = uploaded.isEmpty ? .null : .array(uploaded.map { .string($0.string) })
        return JSONValue.object([.init("version", .int(1)), .init("uploaded", list)]).encodedIndented()
    }

    /// Replaces the file durably (temp file, fsync, rename, dir fsync).
    public static func write(uploaded: [ULID], tsdbPath: String, name: String = fileName) throws(SkiffError) {
        try DurableFile.write(encode(uploaded: uploaded), to: path(tsdbPath: tsdbPath, name: name))
    }

    /// The uploaded list; nil when the file is missing, unparsable, not version 1, or names a
    /// non-ULID (Thanos then starts over with an empty list, and so do we).
    public static func read(tsdbPath: String, name: String = fileName) -> [ULID]? {
        guard let bytes = try? Posix.readAll(path(tsdbPath: tsdbPath, name: name)),
            let doc = try? JSONValue.parse(bytes),
            doc["version"]?.int64Value == 1,
            let uploaded = doc["uploaded"]
        else { return nil }
        if uploaded == .null { return [] }
        guard let items = uploaded.arrayValue else { return nil }
        var ulids: [ULID] = []
        for item in items {
            guard let text = item.stringValue, let ulid = ULID(text) else { return nil }
            ulids.append(ulid)
        }
        return ulids
    }
}
