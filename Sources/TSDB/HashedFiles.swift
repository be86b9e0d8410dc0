import FileIO
import SkiffCore
import Synchronization

/// What the staging hash saw of each staged file (`HashedFile`: its identity, and its parts'
/// hashes for S3), so the upload that follows in the same process can send the file without
/// hashing it again: the FILESYSTEM bucket copies kernel-side and S3 signs each part with its
/// staged hash while the staged file still has this identity; both hash while sending otherwise.
///
/// Kept in memory, not in the ledger: the identity only saves work, it never decides what is
/// committed (a file whose identity is unknown is hashed while copying, as before), so losing it
/// in a restart costs one hashing copy of the files not yet uploaded, and needs no migration.
/// An entry is tied to the SHA-256 and size it was hashed to, so it never vouches for another
/// recorded hash (a block hashed again after a failed ledger write).
public final class HashedFiles: Sendable {
    private struct Key: Hashable {
        let ulid: ULID
        let relPath: String
    }

    private struct Entry {
        let sha256: String
        let hashed: HashedFile
    }

    /// Far more files than the blocks in flight hold; past it everything is forgotten at once,
    /// which only costs hashing copies (a sidecar whose blocks vanish mid-upload never grows).
    static let limit = 4096

    private let entries = Mutex<[Key: Entry]>([:])

    public init() {}

    func record(_ ulid: ULID, relPath: String, sha256: String, hashed: HashedFile) {
        entries.withLock {
            if $0.count >= Self.limit { $0.removeAll() }
            $0[Key(ulid: ulid, relPath: relPath)] = Entry(sha256: sha256, hashed: hashed)
        }
    }

    /// What the read that hashed `relPath` of `ulid` to `sha256` with `size` bytes proved.
    public func hashed(_ ulid: ULID, relPath: String, sha256: String, size: Int64) -> HashedFile? {
        entries.withLock { entries -> HashedFile? in
            guard let entry = entries[Key(ulid: ulid, relPath: relPath)], entry.sha256 == sha256,
                entry.hashed.identity.size == size
            else { return nil }
            return entry.hashed
        }
    }

    /// Forgets a block's files (staged again, removed, or committed).
    public func forget(_ ulid: ULID) {
        entries.withLock { entries in entries = entries.filter { $0.key.ulid != ulid } }
    }
}
