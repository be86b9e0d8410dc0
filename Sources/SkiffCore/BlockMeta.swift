/// A Prometheus block's meta.json: the fields Skiff reads, plus the whole document so that
/// every field (unknown ones too) is kept when the Thanos section is added.
public struct BlockMeta: Sendable, Equatable {
    public let ulid: ULID
    /// Inclusive start, in ms.
    public let minTime: Int64
    /// Exclusive end, in ms.
    public let maxTime: Int64
    public let level: Int
    public let numSamples: Int64
    public let numSeries: Int64
    public let numChunks: Int64
    /// The document as read.
    public let document: JSONValue

    /// Parses and validates meta.json bytes. `dirName` is the block dir's name, which must match `ulid`.
    public init(json bytes: some Collection<UInt8>, dirName: String? = nil) throws(SkiffError) {
        let doc: JSONValue
        do {
            doc = try JSONValue.parse(bytes)
        } catch {
            throw SkiffError(.corruptBlock, "meta.json is not valid JSON (\(error.message))", transient: false)
        }
        func bad(_ what: String) -> SkiffError {
            SkiffError(.corruptBlock, "meta.json \(what)", transient: false)
        }
        guard let top = doc.members else { throw bad("is not a JSON object") }
        // A repeated key reads as its first value here but as its last in Go (Thanos, the Store
        // Gateway): the ledger and the bucket's readers would disagree about the block.
        for (members, prefix) in [(top, ""), (doc["compaction"]?.members ?? [], "compaction.")] {
            var seen = Set<String>()
            for member in members where !seen.insert(member.key).inserted {
                throw bad("has \"\(prefix)\(member.key)\" twice (Prometheus writes each key once)")
            }
        }
        guard let version = doc["version"]?.int64Value else { throw bad("has no \"version\"") }
        guard version == 1 else { throw bad("has unexpected version \(version) (only version 1 is known)") }
        guard let text = doc["ulid"]?.stringValue, let id = ULID(text) else { throw bad("has no valid \"ulid\"") }
        if let dirName, dirName != text, ULID(dirName) != id {
            throw bad("names block \(text) but lives in dir \(dirName)")
        }
        guard let minT = doc["minTime"]?.int64Value, let maxT = doc["maxTime"]?.int64Value else {
            throw bad("has no integer \"minTime\"/\"maxTime\"")
        }
        guard minT <= maxT else { throw bad("has minTime \(minT) after maxTime \(maxT)") }
        guard let level = doc["compaction"]?["level"]?.int64Value, level >= 1 else {
            throw bad("has no \"compaction.level\" of at least 1")
        }
        if let thanosVersion = doc["thanos"]?["version"]?.int64Value, thanosVersion > 1 {
            throw bad("has unexpected thanos.version \(thanosVersion)")
        }
        let stats = try Self.stats(doc)
        ulid = id
        minTime = minT
        maxTime = maxT
        self.level = Int(level)
        numSamples = stats["numSamples"] ?? 0
        numSeries = stats["numSeries"] ?? 0
        numChunks = stats["numChunks"] ?? 0
        document = doc
    }

    /// The largest meta.json read: Prometheus writes a few KB (a compacted block lists its
    /// sources, still far below this), so anything bigger is not a block's and is not loaded.
    public static let maxBytes = 16 << 20

    /// Prometheus' `BlockStats` fields, all Go `uint64`.
    static let statsFields = [
        "numSamples", "numFloatSamples", "numHistogramSamples", "numSeries", "numChunks", "numTombstones",
    ]

    /// The stats that are present. A missing `stats` object reads as zeros, as Thanos reads it
    /// (so the block is ignored as empty). A present field must be what Prometheus writes, a plain
    /// non-negative integer: Thanos fails on a string, a fraction or an exponent (`1.5e3`), or a
    /// number past uint64; reading any of them as 0 would silently ignore a full block as empty.
    /// null (which Go would skip) and values past Int64 (which the ledger cannot hold) are refused
    /// too: Prometheus never writes either.
    static func stats(_ doc: JSONValue) throws(SkiffError) -> [String: Int64] {
        guard let value = doc["stats"] else { return [:] }
        guard let members = value.members else {
            throw SkiffError(
                .corruptBlock, "meta.json has \"stats\" that is not a JSON object (found \(value.brief))",
                transient: false)
        }
        var out: [String: Int64] = [:]
        for member in members where statsFields.contains(member.key) {
            guard out[member.key] == nil else {
                throw SkiffError(.corruptBlock, "meta.json has \"stats.\(member.key)\" twice", transient: false)
            }
            guard case .number(let text) = member.value, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let number = Int64(text)
            else {
                throw SkiffError(
                    .corruptBlock,
                    "meta.json has \"stats.\(member.key)\" \(member.value.brief), not a non-negative integer "
                        + "(Prometheus writes a plain count such as 1200); Thanos cannot read this meta.json either",
                    transient: false)
            }
            out[member.key] = number
        }
        return out
    }

    /// One file of the block as listed in `thanos.files`.
    public struct File: Sendable, Equatable {
        public let relPath: String
        public let sizeBytes: Int64
        /// Lower-case hex SHA-256.
        public let sha256: String
        public init(relPath: String, sizeBytes: Int64, sha256: String) {
            self.relPath = relPath
            self.sizeBytes = sizeBytes
            self.sha256 = sha256
        }
    }

    /// The meta.json to upload: the Prometheus document with the Thanos section Thanos' sidecar
    /// writes (labels merged over any existing ones, external values winning; source "sidecar";
    /// downsample 0; segment files; files with SHA-256; upload time). Tab-indented, trailing newline.
    /// Label names and values are compared and sorted byte-wise, as Go's JSON encoder writes a map.
    public func thanosDocument(labels: LabelSet, files: [File], uploadTimeMillis: Int64) -> [UInt8] {
        let existing = (document["thanos"]?["labels"]?.members ?? []).compactMap { member in
            member.value.stringValue.map { Label(name: member.key, value: $0) }
        }
        let merged = LabelSet(existing + labels.labels)  // a repeated name: the last, ours, wins
        let sortedFiles = files.sorted { $0.relPath < $1.relPath }
        let segments = sortedFiles.compactMap { f -> JSONValue? in
            f.relPath.hasPrefix("chunks/") ? .string(String(f.relPath.dropFirst("chunks/".count))) : nil
        }
        var fileEntries: [JSONValue] = sortedFiles.map { f in
            .object([
                .init("rel_path", .string(f.relPath)),
                .init("size_bytes", .int(f.sizeBytes)),
                .init("hash", .object([.init("hashFunc", .string("SHA256")), .init("value", .string(f.sha256))])),
            ])
        }
        fileEntries.append(.object([.init("rel_path", .string("meta.json"))]))
        var thanos: [JSONValue.Member] = [
            .init("version", .int(1)),
            .init("labels", .object(merged.map { .init($0.name, .string($0.value)) })),
            .init("downsample", .object([.init("resolution", .int(0))])),
            .init("source", .string("sidecar")),
        ]
        if !segments.isEmpty { thanos.append(.init("segment_files", .array(segments))) }
        thanos.append(.init("files", .array(fileEntries)))
        thanos.append(.init("index_stats", .object([])))
        thanos.append(.init("upload_time", .string(RFC3339.format(millis: uploadTimeMillis))))
        var doc = document
        doc.set("thanos", .object(thanos))
        return doc.encodedIndented()
    }
}

extension JSONValue {
    /// A short rendering of a value for messages: at most 40 characters of its compact JSON.
    var brief: String {
        let text = encodedCompact()
        return text.count > 40 ? String(text.prefix(40)) + "..." : text
    }
}

/// RFC 3339 UTC timestamps as Go's time.Time marshals them (fraction trimmed of trailing zeros).
public enum RFC3339 {
    public static func format(millis: Int64) -> String {
        // Floor division without `millis - 86_399_999`, which overflows near Int64.min: a hostile
        // meta.json's time must print, not trap.
        let (quotient, remainder) = millis.quotientAndRemainder(dividingBy: 86_400_000)
        let days = remainder < 0 ? quotient - 1 : quotient
        let msOfDay = remainder < 0 ? remainder + 86_400_000 : remainder
        // Civil-from-days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let secs = msOfDay / 1000
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
        text += "\(pad(secs / 3600, 2)):\(pad(secs / 60 % 60, 2)):\(pad(secs % 60, 2))"
        var frac = pad(msOfDay % 1000, 3)
        while frac.hasSuffix("0") { frac.removeLast() }
        if !frac.isEmpty { text += "." + frac }
        return text + "Z"
    }
}
