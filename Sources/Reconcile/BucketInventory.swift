import ObjectStorage
import SkiffCore

/// What the bucket holds, block by block, read with one streamed walk of the whole bucket (sizes
/// come with the listing, so no per-object requests) plus a meta.json read for each block the
/// ledger cannot vouch for. Grows with the number of blocks, never with a page or an object.
struct BucketInventory: Sendable {
    /// One ULID-named prefix.
    struct Block: Sendable {
        /// Object sizes by path inside the block ("chunks/000001", "index", "meta.json").
        var sizes: [String: Int64] = [:]
        var hasMeta: Bool { sizes["meta.json"] != nil }
        var markedForDeletion: Bool { sizes["deletion-mark.json"] != nil }
        /// Filled for blocks whose meta.json was read.
        var meta: Meta?
        /// An unfinished multipart upload exists under the prefix.
        var hasIncompleteUpload = false
    }

    /// The parts of a bucket block's meta.json the reconciler needs.
    struct Meta: Sendable {
        let bytes: [UInt8]
        let labels: LabelSet
        /// `thanos.source`: "sidecar" for shipped blocks, "compactor" for merged or downsampled ones.
        let source: String?
        /// ULIDs this block was compacted from (itself excluded).
        let sources: [ULID]
        /// `thanos.files` with sizes (meta.json itself excluded).
        let files: [BlockMeta.File]
        let parseError: String?
    }

    var blocks: [ULID: Block] = [:]

    /// Walks the bucket; then reads meta.json of every block `needsMeta` asks for, 8 at a time.
    static func read(
        _ bucket: any Bucket, needsMeta: @Sendable (ULID) -> Bool
    ) async throws(SkiffError) -> BucketInventory {
        var inventory = BucketInventory()
        try await bucket.walk(prefix: "") { (page: [ObjectEntry]) throws(SkiffError) in
            for entry in page {
                guard let slash = entry.key.utf8.firstIndex(of: UInt8(ascii: "/")),
                    let ulid = ULID(String(entry.key[..<slash]))
                else { continue }  // not a block (e.g. debug/ or a marker at the top)
                let rel = String(entry.key[entry.key.index(after: slash)...])
                inventory.blocks[ulid, default: Block()].sizes[rel] = entry.size
            }
        }
        for key in try await bucket.incompleteUploads(prefix: "") {
            if let slash = key.firstIndex(of: "/"), let ulid = ULID(String(key[..<slash])) {
                inventory.blocks[ulid, default: Block()].hasIncompleteUpload = true
            }
        }
        let wanted = inventory.blocks.filter { $0.value.hasMeta && needsMeta($0.key) }.map(\.key)
        for (ulid, meta) in try await readMetas(bucket, wanted) { inventory.blocks[ulid]?.meta = meta }
        return inventory
    }

    private static func readMetas(_ bucket: any Bucket, _ ulids: [ULID]) async throws(SkiffError) -> [(ULID, Meta)] {
        // Batches of 8 concurrent reads: latency-bound on S3, and memory stays at 8 meta.json files.
        var out: [(ULID, Meta)] = []
        var start = 0
        while start < ulids.count {
            let batch = Array(ulids[start..<min(start + 8, ulids.count)])
            start += batch.count
            let results: [(ULID, Result<[UInt8], SkiffError>)] = await withTaskGroup(of: (ULID, Result<[UInt8], SkiffError>).self)
            { group in
                for ulid in batch {
                    group.addTask {
                        do throws(SkiffError) {
                            return (ulid, .success(try await bucket.readAll(key: "\(ulid)/meta.json")))
                        } catch {
                            return (ulid, .failure(error))
                        }
                    }
                }
                var collected: [(ULID, Result<[UInt8], SkiffError>)] = []
                for await result in group { collected.append(result) }
                return collected
            }
            for (ulid, result) in results {
                switch result {
                case .success(let bytes): out.append((ulid, parse(ulid, bytes)))
                case .failure(let error) where error.code == .notFound: continue  // deleted since the walk
                case .failure(let error): throw error
                }
            }
        }
        return out
    }

    static func parse(_ ulid: ULID, _ bytes: [UInt8]) -> Meta {
        let doc: JSONValue
        do throws(SkiffError) { doc = try JSONValue.parse(bytes) } catch {
            return Meta(bytes: bytes, labels: LabelSet(), source: nil, sources: [], files: [], parseError: error.message)
        }
        let thanos = doc["thanos"]
        // Byte-wise, as Thanos reads them: a later duplicate name wins, as in Go's JSON decoder.
        let labels = (thanos?["labels"]?.members ?? []).compactMap { m in
            m.value.stringValue.map { Label(name: m.key, value: $0) }
        }
        let files = (thanos?["files"]?.arrayValue ?? []).compactMap { f -> BlockMeta.File? in
            guard let rel = f["rel_path"]?.stringValue, rel != "meta.json", let size = f["size_bytes"]?.int64Value else {
                return nil
            }
            let sha = f["hash"]?["hashFunc"]?.stringValue == "SHA256" ? f["hash"]?["value"]?.stringValue ?? "" : ""
            return BlockMeta.File(relPath: rel, sizeBytes: size, sha256: sha)
        }
        return Meta(
            bytes: bytes, labels: LabelSet(labels), source: thanos?["source"]?.stringValue,
            sources: (doc["compaction"]?["sources"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(ULID.init) }
                .filter { $0 != ulid },
            files: files, parseError: nil)
    }
}
