import FileIO
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on `<tsdb>/thanos/skiff.lock`, so two Skiff processes never ship the same
/// data dir (they would race on the ledger and the staging dirs). It is an `flock`: the kernel
/// drops it when the process dies, even by `kill -9`, so a crash never leaves a stale lock.
public final class DataDirLock: Sendable {
    private let fd: Int32
    public let path: String

    /// Takes the lock or fails at once with a message naming the holder's pid.
    public init(tsdbPath: String) throws(SkiffError) {
        let dir = tsdbPath + "/thanos"
        if mkdir(dir, 0o750) != 0 && errno != EEXIST {
            throw SkiffError(.io, "create \(dir): \(String(cString: strerror(errno)))", transient: false)
        }
        path = dir + "/skiff.lock"
        do throws(Errno) { fd = try Posix.openFile(path, O_RDWR | O_CREAT, mode: 0o640) } catch {
            throw SkiffError(.io, error.message, transient: false)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            let holder = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingNewline : "unknown"
            close(fd)
            throw SkiffError(
                .invalidArgument,
                "another skiff (pid \(holder)) is already shipping \(tsdbPath); run one skiff per Prometheus data dir",
                transient: false)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
    }

    deinit { close(fd) }
}

extension String {
    fileprivate var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
