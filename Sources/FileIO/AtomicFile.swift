import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a file atomically and durably: after a crash the target holds either the old or the
/// new bytes, never a mix, and once the write returns the new bytes survive a power loss. Both
/// the TSDB's small files (`DurableFile`) and the filesystem bucket's objects go through here.
///
/// The sequence: write a temp file in the same directory, fsync it, close it, rename it over the
/// target, fsync the directory so the rename itself is durable. The rename replaces the name, so
/// if the target was a hard link to another file, that file is left untouched.
package enum AtomicFile {
    /// Creates `temp` for writing; it must not exist (O_EXCL), so a stale temp name that is a
    /// link is never written through.
    package static func create(_ temp: String) throws(Errno) -> Int32 {
        try Posix.openFile(temp, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
    }

    /// Makes what was written to `fd` (open on `temp`) the file at `target`: fsync, close,
    /// rename, fsync of the directory. Always closes `fd`; on failure removes `temp`, so nothing
    /// new appears under `target` unless the rename happened.
    package static func commit(_ fd: Int32, temp: String, target: String) throws(Errno) {
        var renamed = false
        defer { if !renamed { unlink(temp) } }
        do throws(Errno) { try Posix.sync(fd, path: temp) } catch {
            close(fd)
            throw error
        }
        // Not retried on EINTR: Linux has closed the descriptor anyway, and it may be reused.
        if close(fd) != 0 && errno != EINTR { throw .current("close \(temp)") }
        try Posix.retryingEINTR("rename \(temp) to \(target)") { rename(temp, target) }
        renamed = true
        try Posix.fsyncDirectory(Posix.dirname(target))
    }

    /// Writes `bytes` to `target` through `temp` (removing a stale `temp` left by a crash first).
    package static func write(_ bytes: [UInt8], to target: String, temp: String) throws(Errno) {
        // A stale temp file may itself be a link: remove the name, never truncate it.
        guard unlink(temp) == 0 || errno == ENOENT else { throw .current("remove \(temp)") }
        let fd = try create(temp)
        do throws(Errno) { try Posix.writeAll(fd, bytes, path: temp) } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        try commit(fd, temp: temp, target: target)
    }
}
