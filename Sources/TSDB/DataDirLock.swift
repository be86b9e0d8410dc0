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

    /// Takes the lock or fails at once with a message naming the holder's pid. Refuses, before
    /// creating anything, a `tsdbPath` that is a block dir, `wal/` or `chunks_head/` (a `thanos/`
    /// made there would change a dir Prometheus owns), a `thanos` that is not a directory, and a
    /// lock that is not a regular file (opening a FIFO would wait for a writer forever).
    public init(tsdbPath: String) throws(SkiffError) {
        try Self.refusePrometheusDir(tsdbPath)
        let dir = tsdbPath + "/thanos"
        if mkdir(dir, 0o750) != 0 && errno != EEXIST {
            throw SkiffError(.io, "create \(dir): \(String(cString: strerror(errno)))", transient: false)
        }
        if let status = try? Posix.status(dir), status.kind != .directory {
            throw SkiffError(
                .invalidArgument,
                "\(dir) is not a directory: skiff keeps its ledger and lock there; move that file away", transient: false)
        }
        path = dir + "/skiff.lock"
        let opened: Int32
        do throws(Errno) {
            opened = try Posix.openFile(path, O_RDWR | O_CREAT | O_NONBLOCK | O_CLOEXEC, mode: 0o640)
        } catch {
            if error.code == EISDIR { throw Self.notAFile(path, "a directory") }
            throw SkiffError(.io, error.message, transient: false)
        }
        // Every refusal closes `opened` before `fd` is set: a class whose init throws after setting
        // all its properties is deinitialized, and deinit would close the descriptor a second time.
        if let status = try? Posix.status(fd: opened, path: path), status.kind != .file {
            close(opened)
            throw Self.notAFile(path, "not a regular file (a FIFO, socket or device)")
        }
        guard flock(opened, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(opened, &buffer, buffer.count, 0)
            let holder = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingNewline : "unknown"
            close(opened)
            throw SkiffError(
                .invalidArgument,
                "another skiff (pid \(holder)) is already working on \(tsdbPath) (ship, sidecar, reconcile --repair or "
                    + "ledger rebuild); run one skiff at a time per Prometheus data dir",
                transient: false)
        }
        fd = opened
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
    }

    private static func notAFile(_ path: String, _ what: String) -> SkiffError {
        SkiffError(
            .invalidArgument, "lock file \(path) is \(what): remove it (skiff creates it as a regular file) and run again",
            transient: false)
    }

    /// A block dir (ULID-named, or holding meta.json), or Prometheus' `wal/` or `chunks_head/`,
    /// given as the data dir: an easy slip when copying a path from `ls`.
    private static func refusePrometheusDir(_ tsdbPath: String) throws(SkiffError) {
        var trimmed = tsdbPath
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        let name = trimmed.split(separator: "/").last.map(String.init) ?? trimmed
        let fix = "point --tsdb.path at the Prometheus data dir that holds it (\(Posix.dirname(trimmed)))"
        if ULID(String(name.prefix(26))) != nil || (try? Posix.exists(trimmed + "/meta.json")) == true {
            throw SkiffError(
                .invalidArgument, "--tsdb.path \(tsdbPath) is a Prometheus block dir, not the data dir: \(fix)",
                transient: false)
        }
        if name == "wal" || name == "chunks_head" {
            throw SkiffError(
                .invalidArgument, "--tsdb.path \(tsdbPath) is Prometheus' \(name)/ dir, not the data dir: \(fix)",
                transient: false)
        }
    }

    deinit { close(fd) }
}

extension String {
    fileprivate var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
