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
        let tsdb = tsdbPath
        (fd, path) = try Self.take(dir + "/skiff.lock") { holder in
            "another skiff (pid \(holder)) is already working on \(tsdb) (ship, sidecar, reconcile --repair or "
                + "ledger rebuild); run one skiff at a time per Prometheus data dir"
        }
    }

    /// The lock for a ledger kept outside `<tsdb>/thanos` (`--ledger.path` elsewhere), on
    /// `<ledger>.lock`: two data dirs sharing one ledger file must not ship into it, nor rebuild
    /// it, at the same time, and their data dir locks differ. Nil when the ledger lies in
    /// `<tsdb>/thanos`, which the data dir's own lock already covers. Makes the ledger's directory
    /// when missing, as opening the ledger would: the caller has judged the path (`LedgerPath`).
    public init?(ledgerPath: String, tsdbPath: String) throws(SkiffError) {
        let dir = Posix.dirname(ledgerPath)
        do throws(Errno) { try Posix.makeDirectories(dir) } catch {
            throw SkiffError(.io, "create the ledger's directory \(dir): \(error.reason)", transient: false)
        }
        guard let real = Self.realPath(dir), real != Self.realPath(tsdbPath + "/thanos") else { return nil }
        (fd, path) = try Self.take(ledgerPath + ".lock") { holder in
            "another skiff (pid \(holder)) is already using the ledger \(ledgerPath) (for another --tsdb.path); "
                + "run one skiff at a time per ledger, and give each Prometheus data dir its own --ledger.path"
        }
    }

    /// Opens (creating) and flocks `lockPath`, writing our pid into it; `busy` words the refusal
    /// when another process holds it. Every refusal closes the descriptor here, before the init
    /// sets its properties: a class whose init throws after that is deinitialized, and deinit
    /// would close it a second time.
    private static func take(_ lockPath: String, busy: (String) -> String) throws(SkiffError) -> (Int32, String) {
        let opened: Int32
        do throws(Errno) {
            // O_NONBLOCK: a FIFO put there must not make the open wait for a writer.
            opened = try Posix.openFile(lockPath, O_RDWR | O_CREAT | O_NONBLOCK | O_CLOEXEC, mode: 0o640)
        } catch {
            if error.code == EISDIR { throw notAFile(lockPath, "a directory") }
            throw SkiffError(.io, error.message, transient: false)
        }
        if let status = try? Posix.status(fd: opened, path: lockPath), status.kind != .file {
            close(opened)
            throw notAFile(lockPath, "not a regular file (a FIFO, socket or device)")
        }
        guard flock(opened, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(opened, &buffer, buffer.count, 0)
            let holder = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingNewline : "unknown"
            close(opened)
            throw SkiffError(.invalidArgument, busy(holder), transient: false)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(opened, 0)
        _ = pwrite(opened, pid, pid.count, 0)
        return (opened, lockPath)
    }

    private static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
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
        // Named as Prometheus names blocks: an upper-case ULID, alone or before `.tmp-for-...`.
        let head = String(name.prefix(26))
        let ulidNamed = ULID(head)?.string == head && (name.count == 26 || name.dropFirst(26).first == ".")
        if ulidNamed || (try? Posix.exists(trimmed + "/meta.json")) == true {
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
