import ObjectStorage
import Shipper
import SkiffCore

/// What downloading a block fetches: its meta.json bytes as the bucket holds them and the files
/// it lists, each with its recorded size and (when recorded) SHA-256.
struct BlockFiles: Sendable {
    let metaJSON: [UInt8]
    let files: [BlockMeta.File]
    /// meta.json lists no files (a Prometheus block copied in, an old producer): the files and
    /// sizes come from the bucket's listing, and there is no hash to check.
    let fromListing: Bool

    /// Reads `<ulid>/meta.json` first (it says what to fetch) and refuses what cannot be a block.
    static func read(_ bucket: any Bucket, _ ulid: ULID) async throws(SkiffError) -> BlockFiles {
        let found: BucketBlockMeta.Found?
        do throws(SkiffError) { found = try await BucketBlockMeta.read(bucket, ulid) } catch  where !error.transient {
            throw SkiffError(.bucket, "\(ulid)/meta.json cannot be read from bucket \(bucket.name): \(error.message)")
        }
        guard case .bytes(let bytes)? = found else {
            if found == .tooLarge {
                throw SkiffError(
                    .invalidArgument,
                    "\(ulid)/meta.json in bucket \(bucket.name) is larger than \(BucketBlockMeta.maxBytes >> 20) MiB: not a block's meta.json; not downloaded"
                )
            }
            let others = try await bucket.list(prefix: "\(ulid)/", recursive: false)
            throw SkiffError(
                .notFound,
                others.isEmpty
                    ? "block \(ulid) is not in bucket \(bucket.name): see `skiff bucket ls`"
                    : "block \(ulid) has no meta.json in bucket \(bucket.name) (a partial upload, or one in progress): not downloaded",
                transient: false)
        }
        let meta: ThanosMeta
        do throws(SkiffError) { meta = try ThanosMeta(json: bytes) } catch {
            throw SkiffError(
                .corruptBlock, "\(ulid)/meta.json in bucket \(bucket.name) \(error.message): not downloaded", transient: false)
        }
        if let named = meta.ulid, named != ulid {
            throw SkiffError(
                .corruptBlock, "\(ulid)/meta.json in bucket \(bucket.name) names block \(named): not downloaded",
                transient: false)
        }
        var files = meta.files
        var fromListing = false
        if files.isEmpty {
            fromListing = true
            let prefix = "\(ulid)/"
            try await bucket.walk(prefix: prefix) { (page: [ObjectEntry]) throws(SkiffError) in
                for entry in page {
                    let rel = String(entry.key.dropFirst(prefix.count))
                    // Only the block's own files: meta.json comes last, markers are the bucket's.
                    guard rel == "index" || rel == "tombstones" || rel.hasPrefix("chunks/") else { continue }
                    files.append(BlockMeta.File(relPath: rel, sizeBytes: entry.size, sha256: ""))
                }
            }
        }
        var seen = Set<String>()
        for file in files {
            guard seen.insert(file.relPath).inserted else {
                throw SkiffError(
                    .corruptBlock, "\(ulid)/meta.json lists \(file.relPath) twice: not downloaded", transient: false)
            }
            guard RelativePath.isSafe(file.relPath) else {
                throw SkiffError(
                    .corruptBlock,
                    "\(ulid)/meta.json in bucket \(bucket.name) lists the file \(GoQuote.quote(file.relPath)), which is not a path inside the block: not downloaded",
                    transient: false)
            }
            guard file.sizeBytes >= 0 else {
                throw SkiffError(
                    .corruptBlock, "\(ulid)/meta.json lists \(file.relPath) with a negative size: not downloaded",
                    transient: false)
            }
        }
        return BlockFiles(metaJSON: bytes, files: files, fromListing: fromListing)
    }
}

/// A path from meta.json, which anyone with write access to the bucket wrote: it becomes a local
/// path under `--dir`, so it must stay inside the block dir.
enum RelativePath {
    static func isSafe(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.utf8.contains(0), path != "meta.json" else { return false }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." && !$0.hasPrefix(BlockDownloader.tempPrefix) }
    }
}
