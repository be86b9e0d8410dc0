import Foundation
import GRDB
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Putting a whole ledger file in place. A ledger is built complete under a scratch name beside
/// its final path and then linked or renamed there, so the path never holds a half-made ledger:
/// a 0-byte file at the ledger path is never skiff's own doing and can be called a lost history,
/// and a failed `ledger rebuild` leaves the old ledger exactly where it was.
public enum LedgerFile {
    /// Creates a new, fully migrated ledger at `path` (which is absent), making its directory.
    static func create(_ path: String, configuration: Configuration) throws(SkiffError) {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw SkiffError(.ledger, "create ledger directory \(dir): \(error.localizedDescription)", transient: false)
            }
        }
        let scratch = "\(path).creating-\(getpid())"
        discard(scratch)
        do {
            let pool = try Ledger.openPool(scratch, configuration)
            try Ledger.makeMigrator().migrate(pool)
            try Ledger.checkpointAndClose(pool)
        } catch {
            discard(scratch)
            if let error = error as? DatabaseError { throw Ledger.openError(path, error) }
            throw SkiffError(.ledger, "create ledger \(path): \(error)", transient: false)
        }
        // link(2) never replaces: when another process created the ledger meanwhile, theirs stands.
        if link(scratch, path) != 0, errno != EEXIST {
            // A filesystem without hard links: rename, which only this process can race with now.
            if rename(scratch, path) != 0 {
                let reason = String(cString: strerror(errno))
                discard(scratch)
                throw SkiffError(.ledger, "create ledger \(path): \(reason)", transient: false)
            }
        }
        discard(scratch)
        syncDirectory(dir)
    }

    /// Where `ledger rebuild` builds the replacement for `path`: beside it, so the swap is a rename.
    public static func scratchPath(for path: String, stamp: String) -> String { "\(path).rebuild-\(stamp)" }

    /// Removes scratch ledgers that a killed create or rebuild left beside `path` (regular files
    /// with skiff's scratch names only; unlink never follows a symlink).
    public static func removeStaleScratch(besides path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir)) ?? []
        for name in names where name.hasPrefix(base + ".rebuild-") || name.hasPrefix(base + ".creating-") {
            var st = stat()
            let full = dir.isEmpty ? name : dir + "/" + name
            if lstat(full, &st) == 0, st.st_mode & S_IFMT == S_IFREG { unlink(full) }
        }
    }

    /// Removes a scratch ledger and its WAL files, if there.
    public static func discard(_ scratch: String) {
        for suffix in ["", "-wal", "-shm"] { unlink(scratch + suffix) }
    }

    /// Puts the closed ledger `built` at `path`. An existing ledger there is kept as
    /// `<path>.broken-<stamp>` (returned). Every step leaves a whole ledger at `path`: the old one
    /// gets its second name by a hard link before the rename replaces it in one step, and its WAL
    /// goes with it first, so the new file never meets a WAL that is not its own.
    public static func install(_ built: String, at path: String, stamp: String) throws(SkiffError) -> String? {
        let dir = (path as NSString).deletingLastPathComponent
        let kept = "\(path).broken-\(stamp)"
        var st = stat()
        let hadOld = lstat(path, &st) == 0
        if hadOld {
            checkpoint(path)
            if link(path, kept) != 0 {
                // No hard links here: a plain rename, leaving the path empty until the next one.
                guard rename(path, kept) == 0 else { throw failure("keep the old ledger \(path) as \(kept)") }
            }
            for suffix in ["-wal", "-shm"] where lstat(path + suffix, &st) == 0 {
                guard rename(path + suffix, kept + suffix) == 0 else {
                    throw failure("move \(path + suffix) to \(kept + suffix)")
                }
            }
        }
        guard rename(built, path) == 0 else { throw failure("move the rebuilt ledger \(built) to \(path)") }
        discard(built)  // its emptied -wal and -shm
        syncDirectory(dir)
        return hadOld ? kept : nil
    }

    /// Folds a sound old ledger's WAL into its file, so the file alone is the whole ledger when it
    /// is renamed. A damaged one is left as it is (its WAL moves with it).
    private static func checkpoint(_ path: String) {
        guard (try? LedgerPath.check(path, for: .write)) == .sqlite else { return }
        var config = Configuration()
        config.busyMode = .timeout(10)
        guard let queue = try? DatabaseQueue(path: path, configuration: config) else { return }
        _ = try? queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try? queue.close()
    }

    private static func failure(_ what: String) -> SkiffError {
        SkiffError(.ledger, "\(what): \(String(cString: strerror(errno)))", transient: false)
    }

    /// Makes a rename or link in `dir` durable.
    static func syncDirectory(_ dir: String) {
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
