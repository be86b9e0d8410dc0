import ObjectStorage
import Shipper
import SkiffCore

/// `skiff bucket verify`: checks blocks in a bucket against their own meta.json, for blocks any
/// producer shipped (no ledger): every file `thanos.files` lists must be there with its size and,
/// when a SHA-256 is recorded, that hash (the object is read through SHA-256, streamed). Files
/// without a recorded hash (Thanos' sidecar does not hash by default) are checked for size only,
/// and the finding says so. One block's damage is its finding; only an error no block can be
/// checked through (the bucket unreachable) is thrown.
public struct BucketBlockVerifier: Sendable {
    public struct Finding: Sendable, Equatable {
        public let ulid: ULID
        public let problems: [String]
        public let bytesRead: Int64
        /// "sha256" (every file hashed), "size" (no file had a hash), "sha256+size" (some had),
        /// "-" (nothing to check against).
        public let checked: String
        public var ok: Bool { problems.isEmpty }
    }

    let bucket: any Bucket

    public init(bucket: any Bucket) { self.bucket = bucket }

    public func verify(_ ulid: ULID) async throws(SkiffError) -> Finding {
        let prefix = "\(ulid)/"
        var sizes: [String: Int64] = [:]
        try await bucket.walk(prefix: prefix) { (page: [ObjectEntry]) throws(SkiffError) in
            for entry in page { sizes[String(entry.key.dropFirst(prefix.count))] = entry.size }
        }
        let state = try await BucketBlockStream.readMeta(bucket, ulid)
        let summary: MetaSummary
        switch state {
        case .missing:
            let problem =
                sizes.isEmpty ? "not in the bucket" : "meta.json is missing (a partial upload, or one in progress)"
            return Finding(ulid: ulid, problems: [problem], bytesRead: 0, checked: "-")
        case .tooLarge:
            return Finding(
                ulid: ulid, problems: ["meta.json is larger than \(BucketBlockMeta.maxBytes >> 20) MiB (not read)"],
                bytesRead: 0, checked: "-")
        case .unreadable(let why):
            return Finding(ulid: ulid, problems: ["meta.json \(why)"], bytesRead: 0, checked: "-")
        case .parsed(let parsed):
            summary = parsed
        }
        guard summary.listsFiles else {
            return Finding(
                ulid: ulid, problems: ["meta.json has no thanos.files list: nothing to check the objects against"],
                bytesRead: Int64(sizes["meta.json"] ?? 0), checked: "-")
        }
        var problems: [String] = []
        var bytesRead = Int64(sizes["meta.json"] ?? 0)
        for file in summary.files {
            guard let size = sizes[file.relPath] else {
                problems.append("\(file.relPath) is missing from the bucket")
                continue
            }
            guard size == file.sizeBytes else {
                problems.append("\(file.relPath) is \(size) bytes in the bucket, meta.json records \(file.sizeBytes)")
                continue
            }
            guard !file.sha256.isEmpty else { continue }
            let object = try await bucket.digest(key: prefix + file.relPath, naming: file.relPath)
            let (read, digest, problem) = (object.size, object.sha256, object.problem)
            bytesRead += read
            if let problem {
                problems.append(problem)
            } else if read != file.sizeBytes {
                problems.append("\(file.relPath) read \(read) bytes, meta.json records \(file.sizeBytes)")
            } else if digest != file.sha256.lowercased() {
                problems.append("\(file.relPath) has sha256 \(digest) in the bucket, meta.json records \(file.sha256)")
            }
        }
        let hashed = summary.files.filter { !$0.sha256.isEmpty }.count
        let checked =
            summary.files.isEmpty ? "-" : hashed == summary.files.count ? "sha256" : hashed == 0 ? "size" : "sha256+size"
        return Finding(ulid: ulid, problems: problems, bytesRead: bytesRead, checked: checked)
    }
}
