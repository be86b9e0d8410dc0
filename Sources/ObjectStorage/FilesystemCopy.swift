import Crypto
import FileIO
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the FILESYSTEM bucket copied a file into a temp object.
public enum FilesystemCopyPath: Sendable, CaseIterable {
    /// copy_file_range(2): page cache to page cache in the kernel, no user-space copy, no hash;
    /// the file kept the identity it was hashed with from before the copy to after it.
    case kernel
    /// read and write, no hash, identity kept likewise: where the kernel cannot copy between the
    /// two files (the staging dir and the bucket on different file systems: EXDEV).
    case readWrite
    /// read, SHA-256 and write, checked against the recorded hash: the identity was unknown
    /// (another process hashed it, or a restart), or the file's identity changed.
    case hashing
}

/// The upload copy. Each byte is hashed once per ship: `Stager.hash` reads the staged file,
/// hashes it and notes its `FileIdentity` (device, inode, size, mtime and ctime, settled); the
/// upload then copies it with copy_file_range only if the file has that identity both before and
/// after the copy and exactly `size` bytes were copied: nothing can have written the file in
/// between without changing its ctime, so the copy holds the hashed bytes without reading them
/// into user space or hashing them again (profiled on a 1 GiB block: the second SHA-256 pass was
/// 13% of the ship, the user-space write copies most of the rest). Whenever that proof is missing
/// (no identity known, any field changed: Prometheus deleting its block dir drops the link count,
/// which moves ctime) the copy starts over hashing every byte, as before, and a file whose bytes
/// differ from the recorded hash fails without leaving an object. A wrong commit needs a change
/// the ctime does not show (see `FileIdentity` for those cases and why blocks never meet them).
extension FilesystemBucket {
    func copy(key: String, from path: String, size: Int64, sha256: String?, identity: FileIdentity?) throws(SkiffError) {
        let source: Int32
        do throws(Errno) {
            source = try Posix.openFile(path, O_RDONLY)
        } catch {
            if error.code == ENOENT {
                throw SkiffError(.blockVanished, "upload \(key): source file \(path) is gone", transient: false)
            }
            throw SkiffError(.io, "upload \(key): open \(path): \(error.reason)", transient: error.isTransient)
        }
        defer { close(source) }
        #if os(Linux)
        // Doubles the kernel's read-ahead: every path is one sequential pass.
        _ = posix_fadvise(source, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
        // Without a hash to prove there is nothing to check: any plain copy will do.
        let unchecked = sha256 == nil
        let proven = identity.map { $0.size == size && (try? Posix.identity(fd: source, path: path)) == $0 } ?? false

        try writeAtomically(key: key) { (out: Int32) throws(SkiffError) in
            if proven || unchecked {
                let (how, copied) = try plainCopy(source, to: out, key: key, path: path)
                if unchecked {
                    try Self.checkLength(copied, size, key: key, path: path)
                    copies.add(how)
                    return
                }
                if copied == size, (try? Posix.identity(fd: source, path: path)) == identity {
                    copies.add(how)
                    return
                }
                // Changed while copying, or cut short: start over, hashing, so a change shows.
                do throws(Errno) {
                    try Posix.retryingEINTR("seek \(path)") { lseek(source, 0, SEEK_SET) }
                    try Posix.retryingEINTR("truncate \(key)") { ftruncate(out, 0) }
                    try Posix.retryingEINTR("seek \(key)") { lseek(out, 0, SEEK_SET) }
                } catch {
                    throw osError("upload", key, error)
                }
            }
            try hashingCopy(source, to: out, key: key, path: path, size: size, sha256: sha256)
            copies.add(.hashing)
        }
    }

    /// The whole of `source` into `out`: in the kernel where it can, by read and write otherwise.
    private func plainCopy(
        _ source: Int32, to out: Int32, key: String, path: String
    ) throws(SkiffError) -> (FilesystemCopyPath, Int64) {
        var copied: Int64 = 0
        while true {
            let step: Posix.KernelCopy
            do throws(Errno) {
                step = try Posix.copyFileRange(from: source, to: out, count: Self.kernelCopyStep, path: path)
            } catch {
                throw osError("upload", key, error)  // as a failed write: mostly the bucket's disk (ENOSPC)
            }
            switch step {
            case .copied(0): return (.kernel, copied)
            case .copied(let n):
                Posix.startWriteback(out, offset: copied, count: Int64(n))
                copied += Int64(n)
            case .unsupported:
                // Both offsets moved by what was copied so far: read and write carry on from there.
                var noHash: SHA256? = nil
                try readWrite(source, to: out, key: key, path: path, copied: &copied, hasher: &noHash)
                return (.readWrite, copied)
            }
        }
    }

    private func hashingCopy(
        _ source: Int32, to out: Int32, key: String, path: String, size: Int64, sha256: String?
    ) throws(SkiffError) {
        var hasher: SHA256? = sha256 == nil ? nil : SHA256()
        var copied: Int64 = 0
        try readWrite(source, to: out, key: key, path: path, copied: &copied, hasher: &hasher)
        try Self.checkLength(copied, size, key: key, path: path)
        if let expected = sha256, let actual = hasher.map({ Hex.lower($0.finalize()) }), actual != expected.lowercased() {
            throw SkiffError(
                .bucket,
                "upload \(key): sha256 of \(path) is \(actual), expected \(expected); it changed since it was hashed",
                transient: false)
        }
    }

    private func readWrite(
        _ source: Int32, to out: Int32, key: String, path: String, copied: inout Int64, hasher: inout SHA256?
    ) throws(SkiffError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let n: Int
            do throws(Errno) {
                n = try Posix.readSome(source, into: buffer, path: path)
            } catch {
                throw SkiffError(.io, "upload \(key): read \(path): \(error.reason)", transient: error.isTransient)
            }
            if n == 0 { return }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher?.update(bufferPointer: chunk)
            do throws(Errno) { try Posix.writeAll(out, chunk, path: key) } catch { throw osError("upload", key, error) }
            copied += Int64(n)
            if copied % Int64(Self.kernelCopyStep) == 0 {
                Posix.startWriteback(out, offset: copied - Int64(Self.kernelCopyStep), count: Int64(Self.kernelCopyStep))
            }
        }
    }

    private static func checkLength(_ copied: Int64, _ size: Int64, key: String, path: String) throws(SkiffError) {
        guard copied != size else { return }
        throw SkiffError(
            .bucket, "upload \(key): source \(path) has \(copied) bytes, expected \(size); it changed since it was hashed",
            transient: false)
    }

    /// Bytes per copy_file_range call, after each of which their writeback is started
    /// (`Posix.startWriteback`), so the disk writes one step while the next is copied instead of
    /// the final fsync waiting for the whole file (512 MiB segments: that wait was 0.2-0.5 s per
    /// file). Measured on this machine, 2 x 512 MiB copy + fsync, medians of 8 interleaved
    /// rounds: 1.00 s without, 0.78 s with 32 MiB steps. The pages stay cached and clean: no
    /// work is done twice, and the fsync still decides durability.
    static let kernelCopyStep = 1 << 25
}
