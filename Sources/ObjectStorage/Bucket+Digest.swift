import Crypto
import SkiffCore

/// What a verifier learns from reading one object back: its size and SHA-256, or why it could not.
public struct ObjectDigest: Sendable {
    public var size: Int64
    /// Lower-case hex; empty when `problem` is set.
    public var sha256: String
    /// Set when the object is missing or unreadable: a problem of its block, not of the run.
    public var problem: String?
}

extension Bucket {
    /// Streams one object through SHA-256, for the verifiers (`skiff verify`, `skiff bucket
    /// verify`). An object that is missing or cannot be read is reported in `problem`, named by
    /// `relPath`; a transient error (the bucket unreachable after the client's retries) is thrown
    /// and ends the run.
    public func digest(key: String, naming relPath: String) async throws(SkiffError) -> ObjectDigest {
        var hasher = SHA256()
        var size: Int64 = 0
        do throws(SkiffError) {
            try await read(key: key, range: nil) { (piece: ArraySlice<UInt8>) throws(SkiffError) in
                hasher.update(data: piece)
                size += Int64(piece.count)
            }
        } catch  where error.code == .notFound {
            return ObjectDigest(size: 0, sha256: "", problem: "\(relPath) is missing from the bucket")
        } catch  where !error.transient {
            return ObjectDigest(size: 0, sha256: "", problem: "\(relPath) cannot be read: \(error.message)")
        }
        return ObjectDigest(size: size, sha256: Hex.lower(hasher.finalize()), problem: nil)
    }
}
