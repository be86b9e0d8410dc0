import Crypto
import FileIO
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Streaming SHA-256 of a file, the hash Thanos records in meta.json `thanos.files`.
public enum FileDigest {
    /// A file's size, hash and (for a chunk segment) how many chunks its framing holds.
    public struct Digest: Sendable, Equatable {
        public let size: Int64
        /// Lower-case hex, as `sha256sum` prints it.
        public let sha256: String
        /// Chunks found by the framing walk; nil unless hashed as a chunk segment.
        public let chunks: Int?
        /// The file's identity while it was read, when it provably held these bytes throughout
        /// (see `FileIdentity`), with its parts' hashes when asked for: an upload that finds the
        /// same identity sends these bytes without hashing them again (see `HashedFile`).
        public let hashed: HashedFile?

        public init(size: Int64, sha256: String, chunks: Int?, hashed: HashedFile? = nil) {
            self.size = size
            self.sha256 = sha256
            self.chunks = chunks
            self.hashed = hashed
        }
    }

    /// 1 MiB: large enough that syscalls cost nothing next to hashing, small enough to stay in L2.
    public static let bufferSize = 1 << 20

    /// Hashes `path` in one sequential read pass, never holding the file in memory. With
    /// `chunkSegment`, also walks the chunk framing over the same buffers, so a truncated
    /// segment fails here as `.corruptBlock`. `name` (e.g. "block X file chunks/000001") is
    /// used in messages instead of the path. With `partSize`, also hashes each `partSize` bytes
    /// on their own from the same buffers (`HashedFile.parts`, for S3 to sign each part with).
    /// A missing file is `.blockVanished`, a failed read `.io`.
    public static func sha256(
        of path: String, chunkSegment: Bool = false, name: String? = nil, partSize: Int64? = nil
    ) throws(SkiffError)
        -> Digest
    {
        let label = name ?? path
        let fd: Int32
        do {
            // A staged hard link, so a regular file unless the block was tampered with: never
            // opened if it is a FIFO (which would block forever) or a device (endless).
            fd = try Posix.openRegularFile(path, followSymlinks: false).fd
        } catch {
            if error.vanished {
                throw SkiffError(
                    .blockVanished, "\(label) vanished before it could be hashed (deleted by retention or compaction)")
            }
            if error.notRegular != nil || error.code == EACCES || error.code == EPERM {
                throw SkiffError(
                    .corruptBlock,
                    "cannot hash \(label): \(error.reason); the block is quarantined and will not be uploaded "
                        + "until it is fixed (Prometheus writes only regular files, readable by its user, in a block)",
                    transient: false)
            }
            throw SkiffError(.io, "cannot open \(label) to hash it: \(error.reason)")
        }
        defer { close(fd) }
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
        let watch = FileIdentityWatch(fd: fd)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        // swift-crypto's SHA256 is BoringSSL's, which takes the CPU's SHA extensions (SHA-NI, ARMv8
        // SHA2) when present, as OpenSSL does: same instructions, same speed. Measured in one run
        // of Tools/bench-ship (1 GiB block, page cache warm, CPU seconds, user + system, reads
        // included): `openssl dgst -sha256` 0.90 s (median of 5), `skiff verify` of the same bytes
        // 0.96 s (one run, also paying its async reads); quiet machine: openssl 0.63-0.71 user +
        // 0.18-0.25 sys. perf of a ship: 48% of samples in `sha256_block_data_order_hw`, the
        // SHA-NI routine. Linking the system libcrypto would add a dependency for nothing.
        var hasher = SHA256()
        var walker = chunkSegment ? ChunkFramingWalker() : nil
        var parts = partSize.map { PartHashing(partSize: $0) }
        var size: Int64 = 0
        while true {
            let n: Int
            do {
                n = try Posix.readSome(fd, into: buffer, path: path)
            } catch {
                throw SkiffError(.io, "cannot read \(label) at offset \(size): \(error.reason)")
            }
            if n == 0 { break }
            let filled = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher.update(bufferPointer: filled)
            parts?.feed(filled)
            do {
                try walker?.feed(filled)
            } catch {
                throw corrupt(label, error)
            }
            size += Int64(n)
        }
        do {
            try walker?.finish()
        } catch {
            throw corrupt(label, error)
        }
        let sha = hasher.finalize().withUnsafeBytes { Hex.lower($0) }
        let hashed = watch?.finish(fd: fd, bytesRead: size).map { HashedFile(identity: $0, parts: parts?.finish()) }
        return Digest(size: size, sha256: sha, chunks: walker?.chunks, hashed: hashed)
    }

    private static func corrupt(_ label: String, _ error: ChunkFramingWalker.Corrupt) -> SkiffError {
        SkiffError(
            .corruptBlock,
            "\(label) \(error.message); the block is corrupt (Prometheus crashed while writing it, or the disk lost data) "
                + "and will not be uploaded: check it with `promtool tsdb analyze` and move it out of the data dir",
            transient: false)
    }
}

/// SHA-256 of each consecutive `partSize` bytes of a stream fed in buffers of any size: a second
/// hasher beside the whole-file one, so parts cost no second read of the file.
struct PartHashing {
    let partSize: Int64
    private var hasher = SHA256()
    private var filled: Int64 = 0
    private var finished: [String] = []

    init(partSize: Int64) {
        precondition(partSize > 0, "a part has at least one byte")
        self.partSize = partSize
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        while !rest.isEmpty {
            let take = Int(min(Int64(rest.count), partSize - filled))
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: rest[..<take]))
            filled += Int64(take)
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if filled == partSize { endPart() }
        }
    }

    /// The hashes; a trailing short part counts, and an empty stream is one empty part.
    mutating func finish() -> PartHashes {
        if filled > 0 || finished.isEmpty { endPart() }
        return PartHashes(partSize: partSize, sha256: finished)
    }

    private mutating func endPart() {
        finished.append(hasher.finalize().withUnsafeBytes { Hex.lower($0) })
        hasher = SHA256()
        filled = 0
    }
}
