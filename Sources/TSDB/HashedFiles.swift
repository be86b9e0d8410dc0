import FileIO
import SkiffCore
import Synchronization

/// What the staging hash saw of each staged file (`FileIdentity`), so the upload that follows in
/// the same process can copy the file without hashing it again: the FILESYSTEM bucket copies
/// kernel-side when the staged file still has this identity, and hashes while copying otherwise.
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
        let identity: FileIdentity
    }

    /// Far more files than the blocks in flight hold; past it everything is forgotten at once,
    /// which only costs hashing copies (a sidecar whose blocks vanish mid-upload never grows).
    static let limit = 4096

    private let entries = Mutex<[Key: Entry]>([:])

    public init() {}

    func record(_ ulid: ULID, relPath: String, sha256: String, identity: FileIdentity) {
        entries.withLock {
            if $0.count >= Self.limit { $0.removeAll() }
            $0[Key(ulid: ulid, relPath: relPath)] = Entry(sha256: sha256, identity: identity)
        }
    }

    /// The identity `relPath` of `ulid` had when it was hashed to `sha256` with `size` bytes.
    public func identity(_ ulid: ULID, relPath: String, sha256: String, size: Int64) -> FileIdentity? {
        entries.withLock { entries -> FileIdentity? in
            guard let entry = entries[Key(ulid: ulid, relPath: relPath)], entry.sha256 == sha256,
                entry.identity.size == size
            else { return nil }
            return entry.identity
        }
    }

    /// Forgets a block's files (staged again, removed, or committed).
    public func forget(_ ulid: ULID) {
        entries.withLock { entries in entries = entries.filter { $0.key.ulid != ulid } }
    }
}
