import ObjectStorage
import SkiffCore

/// A block's meta.json as the bucket holds it, read with a bound: the object is the bucket's, and
/// anyone with write access can put 100 MB there. The same reading (and `ThanosMeta.verdict`) is
/// what the shipper, the reconciler and `skiff verify` use to decide whether a block is ours.
public enum BucketBlockMeta {
    /// Far above any real meta.json (a block with 10,000 segment files lists ~1.5 MB).
    public static let maxBytes: Int64 = 16 << 20

    /// What `<ulid>/meta.json` holds.
    public enum Found: Sendable, Equatable {
        case bytes([UInt8])
        /// Larger than `maxBytes`: not read.
        case tooLarge

        /// The bytes read; empty when too large.
        public var bytes: [UInt8] { if case .bytes(let bytes) = self { bytes } else { [] } }

        /// The verdict for `ulid` shipped with `labels`: a meta.json too large to read is not
        /// judged ours, and it is not ours to overwrite either.
        public func verdict(ulid: ULID, labels: LabelSet) -> ThanosMeta.Verdict {
            switch self {
            case .bytes(let bytes): ThanosMeta.verdict(bytes, ulid: ulid, labels: labels)
            case .tooLarge: .notOurs("is larger than \(maxBytes >> 20) MiB, more than any block's meta.json")
            }
        }
    }

    /// The block's meta.json, or nil when the bucket has none.
    public static func read(_ bucket: any Bucket, _ ulid: ULID) async throws(SkiffError) -> Found? {
        var bytes: [UInt8] = []
        do throws(SkiffError) {
            // One byte past the limit tells "too large" from "exactly the limit" in one request.
            try await bucket.read(key: "\(ulid)/meta.json", range: 0..<(maxBytes + 1)) {
                (piece: ArraySlice<UInt8>) throws(SkiffError) in bytes.append(contentsOf: piece)
            }
        } catch  where error.code == .notFound {
            return nil
        }
        return bytes.count > maxBytes ? .tooLarge : .bytes(bytes)
    }

    /// "index: 10 bytes, listed 12; ..." for each file `files` lists that the bucket lacks or has at
    /// another size, from one listing of the block's prefix; nil when all are there.
    public static func missingFiles(
        _ bucket: any Bucket, _ ulid: ULID, _ files: [BlockMeta.File]
    ) async throws(SkiffError)
        -> String?
    {
        var sizes: [String: Int64] = [:]
        let prefix = "\(ulid)/"
        try await bucket.walk(prefix: prefix) { (page: [ObjectEntry]) throws(SkiffError) in
            for entry in page { sizes[String(entry.key.dropFirst(prefix.count))] = entry.size }
        }
        let problems = files.compactMap { f -> String? in
            sizes[f.relPath] == f.sizeBytes
                ? nil : "\(f.relPath): \(sizes[f.relPath].map { "\($0) bytes" } ?? "missing"), listed \(f.sizeBytes)"
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }
}
