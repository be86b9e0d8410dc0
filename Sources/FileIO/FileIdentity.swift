import FileIOSystemCalls
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which inode a file is and when it last changed: what a whole-file read (the staging hash)
/// saw, so a later copy can prove it copies the same bytes without hashing them again.
///
/// Why this is enough: every change of a file's bytes through the file system (write, truncate,
/// fallocate, a write through another hard link) sets its ctime to the current time, and ctime
/// cannot be set back by any call (only `utimensat` moves mtime, and that sets ctime too). So if
/// (device, inode, size, mtime, ctime) are the same after a copy as they were while the hash
/// read the file, no byte changed in between, provided a change could not have kept ctime's
/// value: the kernel stamps ctime from a coarse clock (one tick, 1-10 ms), so a write in the
/// same tick as the last change leaves ctime as it was. `FileIdentityWatch` only vouches for a
/// file whose ctime was already older than the coarse clock when watching began: any later
/// write stamps a ctime at least that clock, so it shows ("racy git" files, solved the same way).
///
/// What it does not cover, and why that is acceptable for Prometheus' finished blocks: stores
/// through a shared writable mmap made before the hash (Prometheus writes block files with
/// write(2) and maps them read-only), a backwards step of the wall clock landing on the very same
/// nanosecond, and file systems whose ctime is not kept by the kernel itself (NFS, FUSE): the
/// watch trusts only the local file systems named in `trustedFileSystems`, others always hash.
public struct FileIdentity: Sendable, Equatable, CustomStringConvertible {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    /// mtime and ctime in nanoseconds since the Unix epoch.
    public let modifiedNanos: Int64
    public let changedNanos: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, modifiedNanos: Int64, changedNanos: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modifiedNanos = modifiedNanos
        self.changedNanos = changedNanos
    }

    init(_ st: stat) {
        #if canImport(Darwin)
        let (m, c) = (st.st_mtimespec, st.st_ctimespec)
        #else
        let (m, c) = (st.st_mtim, st.st_ctim)
        #endif
        self.init(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
            modifiedNanos: Int64(m.tv_sec) * 1_000_000_000 + Int64(m.tv_nsec),
            changedNanos: Int64(c.tv_sec) * 1_000_000_000 + Int64(c.tv_nsec))
    }

    public var description: String {
        "dev \(device) ino \(inode) size \(size) mtime \(modifiedNanos) ns ctime \(changedNanos) ns"
    }

    /// Local file systems whose ctime the kernel keeps itself (`statfs` f_type): ext2/3/4, XFS,
    /// Btrfs, tmpfs, F2FS, ZFS. Network and FUSE file systems report times their server keeps
    /// (or caches), so a copy from them always hashes.
    static let trustedFileSystems: Set<Int64> = [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0xF2F5_2010, 0x2FC1_2FC1]
}

/// Watches an open file across a whole read of it: `finish` returns its identity only when the
/// file provably did not change during the read and any later change will show (see
/// `FileIdentity`); nil otherwise, and the caller then knows nothing about the file.
package struct FileIdentityWatch: Sendable {
    package let before: FileIdentity
    /// CLOCK_REALTIME_COARSE when the watch began, read before the first fstat.
    package let clock: Int64

    /// Starts watching `fd` before its first byte is read; nil on an untrusted file system.
    /// A file changed within the current clock tick (a staged file is linked, which stamps its
    /// ctime, just before it is hashed) is waited for until the tick has passed, at most
    /// `settleLimit` ms (once per block in practice: its files are linked together).
    package init?(fd: Int32) {
        guard FileIdentity.trustedFileSystems.contains(skiff_file_system_type(fd)) else { return nil }
        for _ in 0..<Self.settleLimit {
            let clock = Posix.coarseRealtimeNanos()  // before the fstat: see `FileIdentity`
            guard let before = try? Posix.identity(fd: fd, path: "") else { return nil }
            if before.changedNanos < clock {
                self.before = before
                self.clock = clock
                return
            }
            usleep(1000)
        }
        return nil
    }

    /// Milliseconds to wait at most for a file's ctime to fall behind the coarse clock.
    static let settleLimit = 50

    /// The identity of `fd` after reading `bytesRead` bytes (all of it), if it is the one the
    /// read saw from start to end and it was settled (older than the clock) when the read began.
    package func finish(fd: Int32, bytesRead: Int64) -> FileIdentity? {
        guard let after = try? Posix.identity(fd: fd, path: ""), after == before, after.size == bytesRead,
            before.changedNanos < clock
        else { return nil }
        return before
    }
}

extension Posix {
    /// The identity (`fstat`) of an open file.
    package static func identity(fd: Int32, path: String) throws(Errno) -> FileIdentity {
        var st = stat()
        try retryingEINTR("stat \(path)") { fstat(fd, &st) }
        return FileIdentity(st)
    }

    /// The coarse wall clock the kernel stamps file times from, in nanoseconds.
    package static func coarseRealtimeNanos() -> Int64 {
        var ts = timespec()
        #if os(Linux)
        clock_gettime(CLOCK_REALTIME_COARSE, &ts)
        #else
        clock_gettime(CLOCK_REALTIME, &ts)
        #endif
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Asks the kernel to start writing `count` bytes at `offset` of `fd` to disk, without
    /// waiting: a later fsync then has less left to wait for. Best effort (errors ignored: the
    /// fsync that follows still makes the file durable, or fails itself).
    package static func startWriteback(_ fd: Int32, offset: Int64, count: Int64) {
        _ = skiff_start_writeback(fd, offset, count)
    }

    /// The outcome of `copyFileRange`.
    package enum KernelCopy: Equatable {
        /// Bytes copied; 0 at the end of the input.
        case copied(Int)
        /// The kernel cannot copy between these two files (another file system, no support):
        /// copy them with read and write instead.
        case unsupported
    }

    /// copy_file_range(2) of up to `count` bytes from `input`'s offset to `output`'s, both
    /// advanced: the kernel moves the bytes page cache to page cache (or shares extents on
    /// XFS/Btrfs), never through a user-space buffer.
    package static func copyFileRange(from input: Int32, to output: Int32, count: Int, path: String) throws(Errno) -> KernelCopy {
        while true {
            let n = skiff_copy_file_range(input, output, count)
            if n >= 0 { return .copied(n) }
            let code = errno
            if code == EINTR { continue }
            // EXDEV: another file system (or one that cannot copy across); ENOSYS: an old kernel;
            // EINVAL/EOPNOTSUPP: a file system or file kind without support.
            if [EXDEV, ENOSYS, EINVAL, EOPNOTSUPP, ENOTSUP].contains(code) { return .unsupported }
            throw Errno(code: code, what: "copy \(path)")
        }
    }
}
