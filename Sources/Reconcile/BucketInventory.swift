import ObjectStorage
import Shipper
import SkiffCore

/// What the bucket holds, block by block, read with one streamed walk of the whole bucket (sizes
/// come with the listing) plus a bounded read of each block's meta.json that `needsMeta` asks for
/// (the reconciler: every block, since even a committed block's meta.json can be replaced by one
/// of the same size). Grows with the number of blocks, never with a page or an object.
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

    /// A bucket block's meta.json as read (or why it was not).
    struct Meta: Sendable {
        /// The bytes read; empty when too large to read.
        let bytes: [UInt8]
        /// Nil when the bytes are not a JSON object, or were not read.
        let parsed: ThanosMeta?
        let parseError: String?
        /// Larger than `BucketBlockMeta.maxBytes`: not read.
        let tooLarge: Bool
        /// Why it could not be read at all (e.g. a FIFO in a FILESYSTEM bucket).
        var readError: String? = nil

        var labels: LabelSet { parsed?.labels ?? LabelSet() }
        /// `thanos.source`: "sidecar" for shipped blocks, "compactor" for merged or downsampled ones.
        var source: String? { parsed?.source }
        /// `thanos.files` with sizes (meta.json itself excluded).
        var files: [BlockMeta.File] { parsed?.files ?? [] }

        /// Whether it is a sidecar's commit of `ulid` with `labels`, as the shipper judges it.
        func verdict(_ ulid: ULID, labels: LabelSet) -> ThanosMeta.Verdict {
            if let readError { return .notOurs("cannot be read (\(readError))") }
            return (tooLarge ? BucketBlockMeta.Found.tooLarge : .bytes(bytes)).verdict(ulid: ulid, labels: labels)
        }
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
        let wanted = inventory.blocks.filter { $0.value.hasMeta && needsMeta($0.key) }
        for (ulid, block) in wanted where block.sizes["meta.json"]! > BucketBlockMeta.maxBytes {
            // The listing's size is enough to refuse it: never read into memory.
            inventory.blocks[ulid]?.meta = Meta(bytes: [], parsed: nil, parseError: nil, tooLarge: true)
        }
        let small = wanted.filter { $0.value.sizes["meta.json"]! <= BucketBlockMeta.maxBytes }.map(\.key)
        for (ulid, meta) in try await readMetas(bucket, small) { inventory.blocks[ulid]?.meta = meta }
        return inventory
    }

    private static func readMetas(_ bucket: any Bucket, _ ulids: [ULID]) async throws(SkiffError) -> [(ULID, Meta)] {
        // Batches of 8 concurrent reads: latency-bound on S3, and memory stays at 8 meta.json files.
        var out: [(ULID, Meta)] = []
        var start = 0
        while start < ulids.count {
            let batch = Array(ulids[start..<min(start + 8, ulids.count)])
            start += batch.count
            let results: [(ULID, Result<BucketBlockMeta.Found, SkiffError>)] = await withTaskGroup(
                of: (ULID, Result<BucketBlockMeta.Found, SkiffError>).self
            ) { group in
                for ulid in batch {
                    group.addTask {
                        do throws(SkiffError) {
                            guard let found = try await BucketBlockMeta.read(bucket, ulid) else {
                                throw SkiffError(.notFound, "\(ulid)/meta.json is gone")
                            }
                            return (ulid, .success(found))
                        } catch {
                            return (ulid, .failure(error))
                        }
                    }
                }
                var collected: [(ULID, Result<BucketBlockMeta.Found, SkiffError>)] = []
                for await result in group { collected.append(result) }
                return collected
            }
            for (ulid, result) in results {
                switch result {
                case .success(.bytes(let bytes)): out.append((ulid, parse(ulid, bytes)))
                case .success(.tooLarge): out.append((ulid, Meta(bytes: [], parsed: nil, parseError: nil, tooLarge: true)))
                case .failure(let error) where error.code == .notFound: continue  // deleted since the walk
                case .failure(let error) where error.transient: throw error
                case .failure(let error):
                    // One object nobody can read is that block's finding, not the end of the comparison.
                    out.append(
                        (ulid, Meta(bytes: [], parsed: nil, parseError: error.message, tooLarge: false, readError: error.message))
                    )
                }
            }
        }
        return out
    }

    static func parse(_ ulid: ULID, _ bytes: [UInt8]) -> Meta {
        do throws(SkiffError) {
            return Meta(bytes: bytes, parsed: try ThanosMeta(json: bytes), parseError: nil, tooLarge: false)
        } catch {
            return Meta(bytes: bytes, parsed: nil, parseError: error.message, tooLarge: false)
        }
    }
}
