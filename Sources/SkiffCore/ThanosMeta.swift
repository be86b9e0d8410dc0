/// A bucket block's meta.json as Thanos' readers see it: the few fields that say whose block it is
/// (ULID, `thanos.labels`, `thanos.source`), what it lists (`thanos.files`) and what it was
/// compacted from. Read leniently: anything missing is empty, so one odd field never hides the rest.
public struct ThanosMeta: Sendable, Equatable {
    /// `ulid`, when it is a valid ULID.
    public let ulid: ULID?
    /// `version` (Thanos reads only 1).
    public let version: Int64?
    /// `minTime` and `maxTime`, in ms.
    public let minTime: Int64?
    public let maxTime: Int64?
    /// Whether there is a `thanos` object at all (Prometheus' own meta.json has none).
    public let hasThanosSection: Bool
    /// `thanos.labels`, byte-wise as Thanos reads them: a later duplicate name wins, as in Go.
    public let labels: LabelSet
    /// `thanos.source`: "sidecar" for shipped blocks, "compactor" for merged or downsampled ones.
    public let source: String?
    /// `compaction.sources`, as listed (possibly including the block itself).
    public let sources: [ULID]
    /// `thanos.files` with sizes (meta.json itself excluded); sha256 is "" when not SHA256-hashed
    /// (Thanos' sidecar does not hash by default).
    public let files: [BlockMeta.File]

    /// Parses meta.json bytes. Throws (`.corruptBlock`) only when they are not a JSON object:
    /// exactly when Thanos' `json.Unmarshal` fails and its fetcher calls the block corrupted,
    /// i.e. a partial upload.
    public init(json bytes: some Collection<UInt8>) throws(SkiffError) {
        let doc: JSONValue
        do { doc = try JSONValue.parse(bytes) } catch {
            throw SkiffError(.corruptBlock, "is not valid JSON (\(error.message))", transient: false)
        }
        guard doc.members != nil else { throw SkiffError(.corruptBlock, "is not a JSON object", transient: false) }
        let thanos = doc["thanos"]
        ulid = doc["ulid"]?.stringValue.flatMap(ULID.init)
        version = doc["version"]?.int64Value
        minTime = doc["minTime"]?.int64Value
        maxTime = doc["maxTime"]?.int64Value
        hasThanosSection = thanos?.members != nil
        labels = LabelSet(
            (thanos?["labels"]?.members ?? []).compactMap { m in m.value.stringValue.map { Label(name: m.key, value: $0) } })
        source = thanos?["source"]?.stringValue
        sources = (doc["compaction"]?["sources"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(ULID.init) }
        files = (thanos?["files"]?.arrayValue ?? []).compactMap { f -> BlockMeta.File? in
            guard let rel = f["rel_path"]?.stringValue, rel != "meta.json", let size = f["size_bytes"]?.int64Value else {
                return nil
            }
            let sha = f["hash"]?["hashFunc"]?.stringValue == "SHA256" ? f["hash"]?["value"]?.stringValue ?? "" : ""
            return BlockMeta.File(relPath: rel, sizeBytes: size, sha256: sha)
        }
    }

    /// What a meta.json found at `<ulid>/meta.json` means for a sidecar shipping `ulid` with `labels`.
    public enum Verdict: Sendable, Equatable {
        /// A commit of this block with our labels by a sidecar: safe to adopt.
        case ours(ThanosMeta)
        /// Not JSON, or not an object: Thanos' fetcher counts the block as a partial upload (and
        /// its compactor eventually deletes it), so nobody's commit is lost by shipping over it.
        case unreadable(String)
        /// A readable meta.json that is not ours (another ULID, no `thanos` section, other
        /// external labels, another source, another version): someone else's block, which
        /// Thanos would load as theirs. Never adopted, never overwritten.
        case notOurs(String)
    }

    /// Judges meta.json bytes found in the bucket for `ulid`; each reason completes "meta.json ...".
    public static func verdict(_ bytes: some Collection<UInt8>, ulid: ULID, labels: LabelSet) -> Verdict {
        let meta: ThanosMeta
        do { meta = try ThanosMeta(json: bytes) } catch { return .unreadable(error.message) }
        if let problem = meta.notOurs(ulid: ulid, labels: labels) { return .notOurs(problem) }
        return .ours(meta)
    }

    /// Why this meta.json is not a sidecar's commit of `ulid` with `labels` (any labels when nil);
    /// nil when it is.
    public func notOurs(ulid expected: ULID, labels ours: LabelSet?) -> String? {
        guard version == 1 else { return "has version \(version.map { "\($0)" } ?? "(none)"), not 1" }
        guard let ulid else { return "has no valid \"ulid\"" }
        guard ulid == expected else { return "names block \(ulid)" }
        guard hasThanosSection else { return "has no \"thanos\" section (a Prometheus block copied in as it is?)" }
        if let ours, labels != ours { return "carries external labels \(labels), ours are \(ours)" }
        guard (source ?? "sidecar") == "sidecar" else { return "was written by \(source ?? ""), not a sidecar" }
        return nil
    }
}
