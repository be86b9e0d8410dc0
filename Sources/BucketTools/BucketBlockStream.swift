import ObjectStorage
import Shipper
import SkiffCore

/// Every block of a bucket, streamed: one recursive walk of the bucket (a block's objects are
/// contiguous in key order, so a block is complete when the next ULID starts) and a bounded read
/// of each block's meta.json, `window` at a time concurrently, handed out in ULID order. Memory
/// holds at most `window` blocks' listings and meta.json files, whatever the bucket's size.
public enum BucketBlockStream {
    public static func forEach(
        _ bucket: any Bucket, window: Int = 16, only: Set<ULID>? = nil,
        _ body: (BucketBlock) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        var current: (ulid: ULID, sizes: [String: Int64])?
        var pending: [(ULID, [String: Int64])] = []
        func flush() async throws(SkiffError) {
            let blocks = try await withMetas(bucket, pending)
            pending.removeAll(keepingCapacity: true)
            for block in blocks { try await body(block) }
        }
        func close() async throws(SkiffError) {
            guard let done = current else { return }
            current = nil
            if let only, !only.contains(done.ulid) { return }
            pending.append((done.ulid, done.sizes))
            if pending.count >= window { try await flush() }
        }
        try await bucket.walk(prefix: "") { (page: [ObjectEntry]) throws(SkiffError) in
            for entry in page {
                guard let slash = entry.key.utf8.firstIndex(of: UInt8(ascii: "/")),
                    let ulid = ULID(String(entry.key[..<slash]))
                else { continue }  // not a block (debug/, a marker at the top, ...)
                let rel = String(entry.key[entry.key.index(after: slash)...])
                if current?.ulid != ulid {
                    try await close()
                    current = (ulid, [:])
                }
                current!.sizes[rel] = entry.size
            }
        }
        try await close()
        try await flush()
    }

    /// Reads the meta.json of each block that lists one, concurrently; results in input order.
    static func withMetas(_ bucket: any Bucket, _ blocks: [(ULID, [String: Int64])]) async throws(SkiffError) -> [BucketBlock] {
        let results = await withTaskGroup(of: (Int, Result<BucketBlock.MetaState, SkiffError>).self) { group in
            for (index, (ulid, sizes)) in blocks.enumerated() {
                group.addTask {
                    guard let size = sizes["meta.json"] else { return (index, .success(.missing)) }
                    if size > BucketBlockMeta.maxBytes { return (index, .success(.tooLarge)) }
                    do throws(SkiffError) {
                        return (index, .success(try await readMeta(bucket, ulid)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var out = [Result<BucketBlock.MetaState, SkiffError>?](repeating: nil, count: blocks.count)
            for await (index, result) in group { out[index] = result }
            return out
        }
        var out: [BucketBlock] = []
        for (index, result) in results.enumerated() {
            switch result! {
            case .success(let state): out.append(BucketBlock(ulid: blocks[index].0, sizes: blocks[index].1, meta: state))
            case .failure(let error): throw error
            }
        }
        return out
    }

    /// One block's meta.json; a block whose meta.json went away since the listing is partial now.
    /// An object nobody can read is that block's finding; only a transient error (the bucket
    /// unreachable after the client's retries) ends the listing.
    public static func readMeta(_ bucket: any Bucket, _ ulid: ULID) async throws(SkiffError) -> BucketBlock.MetaState {
        let found: BucketBlockMeta.Found?
        do throws(SkiffError) { found = try await BucketBlockMeta.read(bucket, ulid) } catch  where !error.transient {
            return .unreadable(error.message)
        }
        switch found {
        case nil: return .missing
        case .tooLarge?: return .tooLarge
        case .bytes(let bytes)?:
            do throws(SkiffError) { return .parsed(try MetaSummary(json: bytes)) } catch { return .unreadable(error.message) }
        }
    }
}
