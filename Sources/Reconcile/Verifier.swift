import Ledger
import ObjectStorage
import Shipper
import SkiffCore

/// Re-reads shipped blocks from the bucket and checks every object against the ledger: meta.json
/// byte for byte, and each file's size and SHA-256 (also as listed in the uploaded meta.json).
/// What `skiff verify` runs; reading streams, so memory does not grow with the objects. One
/// block's damage (even a meta.json that cannot be read) is that block's finding, never the end of
/// the run; only an error no block can be checked through (the bucket unreachable) is thrown.
public struct Verifier: Sendable {
    /// What verifying one block found; no problems means the bucket holds exactly what was shipped.
    public struct Finding: Sendable, Equatable {
        public let ulid: ULID
        public let problems: [String]
        public let bytesRead: Int64
        public var ok: Bool { problems.isEmpty }
    }

    let ledger: Ledger
    let bucket: any Bucket
    /// Our external labels, checked for blocks whose meta.json the ledger did not record (adopted
    /// by an older skiff); nil: any labels, as long as there is a `thanos` section.
    let labels: LabelSet?

    public init(ledger: Ledger, bucket: any Bucket, labels: LabelSet? = nil) {
        self.ledger = ledger
        self.bucket = bucket
        self.labels = labels
    }

    /// The committed blocks to verify: `only` when given (each must be committed), else all, or a
    /// random `samplePercent` of them (at least one).
    public func selectBlocks(only: [ULID], samplePercent: Double?) async throws(SkiffError) -> [ULID] {
        let committed = try await ledger.blocks().filter { $0.state == .committed }.map(\.ulid)
        if !only.isEmpty {
            for ulid in only where !committed.contains(ulid) {
                throw SkiffError(.invalidArgument, "block \(ulid) is not committed in the ledger: see `skiff blocks`")
            }
            return only
        }
        guard let samplePercent, samplePercent < 100, !committed.isEmpty else { return committed }
        let count = max(1, Int((Double(committed.count) * samplePercent / 100).rounded(.up)))
        return Array(committed.shuffled().prefix(count)).sorted()
    }

    public func verify(_ ulid: ULID) async throws(SkiffError) -> Finding {
        guard let record = try await ledger.block(ulid) else {
            throw SkiffError(.invalidArgument, "block \(ulid) is not in the ledger: see `skiff blocks`")
        }
        let recordedMeta = record.metaJSON.flatMap { $0.isEmpty ? nil : $0 }
        var problems: [String] = []
        var bytesRead: Int64 = 0
        var files = try await ledger.files(ulid).map(\.file)

        var listed: [String: BlockMeta.File] = [:]
        let found: BucketBlockMeta.Found?
        do throws(SkiffError) { found = try await BucketBlockMeta.read(bucket, ulid) } catch  where !error.transient {
            found = nil
            problems.append("meta.json cannot be read: \(error.message)")
        }
        switch found {
        case nil where !problems.isEmpty:
            break  // there, but it could not be read: said above
        case nil:
            problems.append("meta.json is missing from the bucket")
        case .tooLarge:
            problems.append("meta.json is larger than \(BucketBlockMeta.maxBytes >> 20) MiB in the bucket (not read)")
        case .bytes(let meta):
            bytesRead += Int64(meta.count)
            if let recordedMeta, meta != recordedMeta {
                problems.append("meta.json differs from the one recorded when the block was hashed")
            }
            do throws(SkiffError) {
                let parsed = try ThanosMeta(json: meta)
                for file in parsed.files { listed[file.relPath] = file }
                // Without a recorded copy to compare with, the bucket's must at least be this block's, ours.
                if recordedMeta == nil, let problem = parsed.notOurs(ulid: ulid, labels: labels) {
                    problems.append("meta.json \(problem)")
                }
                // Adopted by an older skiff, which recorded no files: check what the meta.json lists.
                if files.isEmpty { files = parsed.files }
            } catch {
                problems.append("meta.json in the bucket \(error.message)")
            }
        }

        for file in files {
            if let entry = listed[file.relPath],
                entry.sizeBytes != file.sizeBytes
                    || (!entry.sha256.isEmpty && !file.sha256.isEmpty && entry.sha256 != file.sha256)
            {
                problems.append("\(file.relPath): the uploaded meta.json lists another size or hash than the ledger")
            }
            let object = try await bucket.digest(key: "\(ulid)/\(file.relPath)", naming: file.relPath)
            let (size, digest, problem) = (object.size, object.sha256, object.problem)
            if let problem {
                problems.append(problem)
                continue
            }
            bytesRead += size
            if size != file.sizeBytes {
                problems.append("\(file.relPath) is \(size) bytes in the bucket, \(file.sizeBytes) in the ledger")
            } else if !file.sha256.isEmpty && digest != file.sha256 {
                // No recorded hash (adopted from a Thanos sidecar, which does not hash): the size is all there is.
                problems.append("\(file.relPath) has sha256 \(digest) in the bucket, \(file.sha256) in the ledger")
            }
        }
        return Finding(ulid: ulid, problems: problems, bytesRead: bytesRead)
    }
}
