import ObjectStorage
import Shipper
import SkiffCore

/// One ULID-named prefix of a bucket as `skiff bucket ls` and `inspect` show it: its objects'
/// sizes from the listing and, when it has one, what its meta.json says. Any producer's block
/// (a sidecar's, a compactor's, a receiver's, a copied-in Prometheus block) reads the same way.
public struct BucketBlock: Sendable {
    public let ulid: ULID
    /// Object sizes by path inside the block ("chunks/000001", "index", "meta.json").
    public let sizes: [String: Int64]
    public let meta: MetaState

    /// What the block's meta.json is.
    public enum MetaState: Sendable {
        /// No meta.json: a partial upload (or one being uploaded now), as Thanos calls it.
        case missing
        /// Larger than `BucketBlockMeta.maxBytes`: not read.
        case tooLarge
        /// There, but not a JSON object (or unreadable): Thanos' fetcher calls this corrupted.
        case unreadable(String)
        case parsed(MetaSummary)
    }

    public init(ulid: ULID, sizes: [String: Int64], meta: MetaState) {
        self.ulid = ulid
        self.sizes = sizes
        self.meta = meta
    }

    public var summary: MetaSummary? { if case .parsed(let summary) = meta { summary } else { nil } }
    public var deletionMarked: Bool { sizes["deletion-mark.json"] != nil }
    public var noCompactMarked: Bool { sizes["no-compact-mark.json"] != nil }
    /// No meta.json that Thanos could load: missing, too large or not JSON.
    public var partial: Bool { summary == nil }

    /// The marks `ls` prints: "deletion-marked", "no-compact", "partial" (no meta.json) or
    /// "corrupt-meta" (meta.json that is not JSON).
    public var marks: [String] {
        var out: [String] = []
        switch meta {
        case .missing: out.append("partial")
        case .tooLarge, .unreadable: out.append("corrupt-meta")
        case .parsed: break
        }
        if deletionMarked { out.append("deletion-marked") }
        if noCompactMarked { out.append("no-compact") }
        return out
    }

    /// The block's size: the sum of `thanos.files` sizes when meta.json lists them (what the
    /// producer recorded), else the sum of the objects listed under the prefix.
    public var sizeBytes: Int64 {
        if let files = summary?.files, !files.isEmpty { return files.reduce(0) { $0 + $1.sizeBytes } }
        return sizes.values.reduce(0, +)
    }
}

/// The fields of a bucket block's meta.json that the bucket commands show, read leniently (as
/// Thanos' readers do, a missing field is zero or empty).
public struct MetaSummary: Sendable, Equatable {
    public let minTime: Int64
    public let maxTime: Int64
    public let level: Int64
    public let compactionFailed: Bool
    public let numSeries: Int64
    public let numSamples: Int64
    public let numChunks: Int64
    public let labels: LabelSet
    /// `thanos.downsample.resolution` in ms: 0 raw, 300000 (5m), 3600000 (1h).
    public let resolution: Int64
    public let source: String
    /// `thanos.files` (meta.json excluded); sha256 "" where no SHA256 hash is recorded.
    public let files: [BlockMeta.File]
    /// Whether meta.json has a `thanos.files` list at all (a Prometheus block copied in has not).
    public let listsFiles: Bool

    /// Parses meta.json bytes; throws (`.corruptBlock`) only when they are not a JSON object.
    public init(json bytes: [UInt8]) throws(SkiffError) {
        let thanos = try ThanosMeta(json: bytes)
        let doc = try JSONValue.parse(bytes)
        minTime = thanos.minTime ?? 0
        maxTime = thanos.maxTime ?? 0
        level = doc["compaction"]?["level"]?.int64Value ?? 0
        compactionFailed = doc["compaction"]?["failed"] == .bool(true)
        numSeries = doc["stats"]?["numSeries"]?.int64Value ?? 0
        numSamples = doc["stats"]?["numSamples"]?.int64Value ?? 0
        numChunks = doc["stats"]?["numChunks"]?.int64Value ?? 0
        labels = thanos.labels
        resolution = doc["thanos"]?["downsample"]?["resolution"]?.int64Value ?? 0
        source = thanos.source ?? ""
        files = thanos.files
        listsFiles = doc["thanos"]?["files"]?.arrayValue != nil
    }
}
