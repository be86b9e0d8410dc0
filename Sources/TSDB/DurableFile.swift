#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
import SkiffCore

/// Replaces a file atomically and durably: after a crash the path holds either the old or the
/// new bytes, never a mix, and once `write` returns the new bytes survive a power loss.
public enum DurableFile {
    /// Writes `bytes` to a temp file in the same dir, fsyncs and closes it, renames it over
    /// `path`, then fsyncs the dir so the rename itself is durable. The rename replaces the
    /// name, so if `path` was a hard link to another file, that file is left untouched.
    public static func write(_ bytes: [UInt8], to path: String) throws(SkiffError) {
        let dir = Posix.dirname(path)
        let temp = path + ".tmp"
        do throws(Posix.Failure) {
            // A stale temp file (from a crash) may itself be a link: remove the name, never truncate it.
            guard unlink(temp) == 0 || errno == ENOENT else { throw Posix.fail("remove \(temp)") }
            let fd = try Posix.openFile(temp, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
            do throws(Posix.Failure) {
                try Posix.writeAll(fd, bytes, path: temp)
                try Posix.sync(fd, path: temp)
            } catch {
                close(fd)
                throw error
            }
            guard close(fd) == 0 else { throw Posix.fail("close \(temp)") }
            guard rename(temp, path) == 0 else { throw Posix.fail("rename \(temp) to \(path)") }
            try Posix.fsyncDir(dir)
        } catch {
            unlink(temp)
            throw SkiffError(.io, "cannot write \(path): \(error.message); check that the dir exists, is writable and the disk is not full")
        }
    }
}
