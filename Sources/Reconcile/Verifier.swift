import Crypto
import Ledger
import ObjectStorage
import SkiffCore

/// Re-reads shipped blocks from the bucket and checks every object against the ledger: meta.json
/// byte for byte, and each file's size and SHA-256 (also as listed in the uploaded meta.json).
/// What `skiff verify` runs; reading streams, so memory does not grow with the objects.
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

    public init(ledger: Ledger, bucket: any Bucket) {
        self.ledger = ledger
        self.bucket = bucket
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
        guard let record = try await ledger.block(ulid), let recordedMeta = record.metaJSON else {
            throw SkiffError(.invalidArgument, "block \(ulid) has no recorded meta.json in the ledger")
        }
        var problems: [String] = []
        var bytesRead: Int64 = 0
        let files = try await ledger.files(ulid)

        var listed: [String: (size: Int64?, sha256: String?)] = [:]
        do throws(SkiffError) {
            let meta = try await bucket.readAll(key: "\(ulid)/meta.json")
            bytesRead += Int64(meta.count)
            if meta != recordedMeta { problems.append("meta.json differs from the one recorded when the block was hashed") }
            for entry in (try JSONValue.parse(meta))["thanos"]?["files"]?.arrayValue ?? [] {
                guard let path = entry["rel_path"]?.stringValue else { continue }
                listed[path] = (entry["size_bytes"]?.int64Value, entry["hash"]?["value"]?.stringValue)
            }
        } catch  where error.code == .notFound {
            problems.append("meta.json is missing from the bucket")
        }

        for file in files {
            let key = "\(ulid)/\(file.relPath)"
            if let entry = listed[file.relPath],
                entry.size != file.sizeBytes || (entry.sha256 != nil && entry.sha256 != file.sha256)
            {
                problems.append("\(file.relPath): the uploaded meta.json lists another size or hash than the ledger")
            }
            var hasher = SHA256()
            var size: Int64 = 0
            do throws(SkiffError) {
                try await bucket.read(key: key, range: nil) { (piece: ArraySlice<UInt8>) throws(SkiffError) in
                    hasher.update(data: piece)
                    size += Int64(piece.count)
                }
            } catch  where error.code == .notFound {
                problems.append("\(file.relPath) is missing from the bucket")
                continue
            }
            bytesRead += size
            if size != file.sizeBytes {
                problems.append("\(file.relPath) is \(size) bytes in the bucket, \(file.sizeBytes) in the ledger")
                continue
            }
            let digest = Hex.lower(hasher.finalize())
            if digest != file.sha256 {
                problems.append("\(file.relPath) has sha256 \(digest) in the bucket, \(file.sha256) in the ledger")
            }
        }
        return Finding(ulid: ulid, problems: problems, bytesRead: bytesRead)
    }
}
