#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the staging hash proved about a file, for the upload that follows in the same process:
/// the identity the file kept throughout the read (see `FileIdentity`), and, for a bucket that
/// sends the file in parts each carrying its own SHA-256 (S3 signs every part's payload hash),
/// the SHA-256 of each part, computed from the very bytes of the whole-file hash in that read.
///
/// While the file still has `identity`, a bucket may rely on these instead of reading and
/// hashing the file again: the FILESYSTEM bucket copies it kernel-side, S3 signs each part with
/// its staged hash (and the server, which checks every part's payload against its hash, then
/// stores exactly the bytes the recorded whole-file hash was computed from).
public struct HashedFile: Sendable, Equatable {
    public let identity: FileIdentity
    /// The parts' hashes, when the bucket asked for parts (`Bucket.signedPartSize`).
    public let parts: PartHashes?

    public init(identity: FileIdentity, parts: PartHashes? = nil) {
        self.identity = identity
        self.parts = parts
    }

    /// True when the file at `path` is, right now, the one that was hashed: same device, inode,
    /// size, mtime and ctime. A later change of its bytes would move its ctime.
    public func holds(at path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return FileIdentity(st) == identity
    }
}

/// The SHA-256 (lower-case hex) of each consecutive `partSize` bytes of a file, the last part
/// possibly shorter.
public struct PartHashes: Sendable, Equatable {
    public let partSize: Int64
    public let sha256: [String]

    public init(partSize: Int64, sha256: [String]) {
        self.partSize = partSize
        self.sha256 = sha256
    }
}
