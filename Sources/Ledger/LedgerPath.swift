import Foundation
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What is at a ledger path, judged before SQLite touches it. SQLite opens whatever it is given:
/// a device (leaving `/dev/null-journal` behind), a FIFO (waiting forever for a writer), a
/// Prometheus `index` (after which `ledger rebuild` would rename it and put a database in its
/// place). Every command reaches the ledger through `Ledger.open` or `ledger rebuild`, and both
/// ask here first, so each gets the same refusals and messages.
public enum LedgerPath {
    /// What the caller is about to do with the path.
    public enum Purpose: Sendable {
        /// Read it (reports, `sql`, `verify`, `ledger check`): nothing is created.
        case read
        /// Open it for writing, creating it when absent (`ship`, `sidecar`, `reconcile`).
        case write
        /// Replace it (`ledger rebuild`): an empty or damaged ledger is fine, it is what gets replaced.
        case replace
    }

    /// What was found.
    public enum Found: Sendable, Equatable {
        case absent
        /// A 0-byte file with no WAL beside it: whatever history it held is gone.
        case empty
        /// A regular file starting with SQLite's header.
        case sqlite
    }

    static let sqliteHeader = Array("SQLite format 3\0".utf8)

    /// Checks the path for `purpose`; throws a message naming the path and the fix.
    @discardableResult
    public static func check(_ path: String, for purpose: Purpose) throws(SkiffError) -> Found {
        guard !path.isEmpty else { throw refuse("the ledger path is empty: pass --ledger.path FILE or leave it unset") }
        let lexical = URL(fileURLWithPath: path).standardizedFileURL.path
        let resolved = resolve(lexical)
        for candidate in Set([lexical, resolved]) {
            if let area = prometheusArea(candidate) {
                let via = candidate == lexical ? "" : " (it resolves to \(candidate))"
                throw refuse(
                    "ledger path \(path)\(via) is \(area): skiff never writes there and never moves a Prometheus file; "
                        + "leave --ledger.path unset (<tsdb.path>/thanos/skiff-ledger.db) or point it outside the data dir's "
                        + "block dirs, wal/ and chunks_head/")
            }
        }
        var link = stat()
        guard lstat(path, &link) == 0 else {
            let err = errno
            if err == ENOENT { return try absent(path, purpose) }
            let advice =
                switch err {
                case ENAMETOOLONG: "pass a shorter --ledger.path or --tsdb.path"
                case ENOTDIR: "a part of the path is a file, not a directory; check --ledger.path and --tsdb.path"
                case ELOOP: "a symlink on the path loops; fix or remove it"
                default: "check the permissions of its directories"
                }
            throw refuse("ledger path \(path) cannot be inspected: \(reason(err)); \(advice)")
        }
        var st = link
        if fileType(link) == S_IFLNK {
            guard stat(path, &st) == 0 else {
                let err = errno
                let target = readLink(path) ?? "?"
                if err == ENOENT {
                    throw refuse(
                        "ledger path \(path) is a symlink to \(target), which does not exist: restore the ledger there, "
                            + "or remove the link and run `skiff ledger rebuild` to recreate the ledger from the bucket")
                }
                throw refuse(
                    "ledger path \(path) is a symlink to \(target) that cannot be followed: \(reason(err)); fix or remove the link"
                )
            }
        }
        switch fileType(st) {
        case S_IFREG: break
        case S_IFDIR:
            throw refuse(
                "ledger path \(path) is a directory, not a ledger file: remove it if it was made by mistake "
                    + "(skiff then creates the ledger there), or point --ledger.path at the ledger file")
        default:
            throw refuse(
                "ledger path \(path) is a \(typeName(st)), not a regular file: point --ledger.path at a ledger file "
                    + "(leave it unset for <tsdb.path>/thanos/skiff-ledger.db)")
        }
        if st.st_size == 0 && !hasWAL(path) {
            if purpose == .replace { return .empty }
            throw SkiffError(
                .ledger,
                "ledger \(path) is empty (0 bytes): the shipping history it held is lost. Stop skiff and run "
                    + "`skiff ledger rebuild --ledger.path \(path) --tsdb.path ... --objstore.config-file ... --label ...` "
                    + "to recreate it from the bucket", transient: false)
        }
        if st.st_size > 0 {
            let head = try readHead(path)
            guard head.starts(with: sqliteHeader) else {
                throw SkiffError(
                    .ledger,
                    "ledger path \(path) is not a SQLite database (it begins with \(describe(head))), so it is not a skiff "
                        + "ledger and skiff leaves it alone: point --ledger.path at the ledger file. If this was the ledger "
                        + "and got overwritten, move it away yourself, then `skiff ledger rebuild` recreates it from the bucket",
                    transient: false)
            }
        }
        if purpose != .read { try requireWritable(path) }
        return .sqlite
    }

    private static func absent(_ path: String, _ purpose: Purpose) throws(SkiffError) -> Found {
        guard purpose != .read else { return .absent }
        let parent = (path as NSString).deletingLastPathComponent
        var st = stat()
        if !parent.isEmpty, stat(parent, &st) == 0 {
            guard fileType(st) == S_IFDIR else {
                throw refuse("ledger path \(path) cannot be created: \(parent) is not a directory")
            }
            guard access(parent, W_OK | X_OK) == 0 else {
                throw SkiffError(
                    .ledger,
                    "ledger \(path) cannot be created: directory \(parent) is not writable (\(reason(errno))); "
                        + "check its permissions and attributes (lsattr), or point --ledger.path elsewhere",
                    transient: false)
            }
        }
        return .absent
    }

    /// SQLite writes the file and creates `-wal` and `-shm` beside it, so both must be writable.
    /// `access` reports the immutable attribute (EPERM) even to root, which permission bits do not.
    private static func requireWritable(_ path: String) throws(SkiffError) {
        let dir = (path as NSString).deletingLastPathComponent
        let fix = "check its permissions and attributes (`lsattr`; `chattr -i` clears immutable), or run skiff as its owner"
        if access(path, W_OK) != 0 {
            throw SkiffError(.ledger, "ledger \(path) is not writable (\(reason(errno))): \(fix)", transient: false)
        }
        let sidecarsExist =
            FileManager.default.fileExists(atPath: path + "-wal")
            && FileManager.default.fileExists(atPath: path + "-shm")
        if !sidecarsExist, access(dir.isEmpty ? "." : dir, W_OK | X_OK) != 0 {
            throw SkiffError(
                .ledger,
                "the directory \(dir) holding ledger \(path) is not writable (\(reason(errno))), and SQLite creates "
                    + "\(path)-wal and -shm there: \(fix)", transient: false)
        }
    }

    /// Where in a Prometheus data dir `absolute` lies, if in a place skiff must not write: a block
    /// dir (any dir named by a ULID, including `<ULID>.tmp-for-creation` and skiff's own staging
    /// copies), `wal/` or `chunks_head/` of a data dir, or one of Prometheus' own files in its root.
    static func prometheusArea(_ absolute: String) -> String? {
        let name = (absolute as NSString).lastPathComponent
        var dir = (absolute as NSString).deletingLastPathComponent
        if ["lock", "queries.active", "thanos.shipper.json"].contains(name), looksLikeDataDir(dir) {
            return "a file Prometheus or Thanos owns in the data dir \(dir)"
        }
        while dir.count > 1 {
            let component = (dir as NSString).lastPathComponent
            let parent = (dir as NSString).deletingLastPathComponent
            if isBlockDirName(component) {
                return "inside the block dir \(dir)"
            }
            if component == "wal" || component == "chunks_head", looksLikeDataDir(parent) {
                return "inside Prometheus' \(component)/ dir \(dir)"
            }
            dir = parent
        }
        return nil
    }

    /// A block dir's name as Prometheus writes it: an upper-case ULID, alone or before a suffix such
    /// as `.tmp-for-creation` (not any 26 base32 characters: a hash-named dir is not a block).
    static func isBlockDirName(_ name: String) -> Bool {
        let head = String(name.prefix(26))
        guard ULID(head)?.string == head else { return false }
        return name.count == 26 || name.dropFirst(26).first == "."
    }

    /// A data dir as Prometheus leaves it: a `chunks_head/`, its `lock` or `queries.active`, a
    /// block dir with meta.json, or a `wal/` holding numbered segments.
    static func looksLikeDataDir(_ dir: String) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return false }
        for name in names {
            switch name {
            case "chunks_head", "lock", "queries.active": return true
            case "wal":
                let segments = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/wal")) ?? []
                if segments.contains(where: { $0.count == 8 && $0.allSatisfy(\.isNumber) || $0.hasPrefix("checkpoint.") }) {
                    return true
                }
            default:
                if isBlockDirName(name), FileManager.default.fileExists(atPath: "\(dir)/\(name)/meta.json") { return true }
            }
        }
        return false
    }

    /// The path with every symlink among its existing parts resolved, a dangling final link
    /// followed once, so a link that points into a block dir is judged by where it points.
    public static func resolve(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        if let real = realPath(absolute) { return real }
        let parent = (absolute as NSString).deletingLastPathComponent
        let name = (absolute as NSString).lastPathComponent
        let base = realPath(parent) ?? parent
        if let target = readLink(absolute) {
            let full = target.hasPrefix("/") ? target : base + "/" + target
            let standard = URL(fileURLWithPath: full).standardizedFileURL.path
            let targetParent = (standard as NSString).deletingLastPathComponent
            return (realPath(targetParent) ?? targetParent) + "/" + (standard as NSString).lastPathComponent
        }
        return base == "/" ? "/" + name : base + "/" + name
    }

    private static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A ledger of a crashed process can be a 0-byte file whose pages are all still in the WAL.
    private static func hasWAL(_ path: String) -> Bool {
        var st = stat()
        return stat(path + "-wal", &st) == 0 && fileType(st) == S_IFREG && st.st_size > 0
    }

    private static func readHead(_ path: String) throws(SkiffError) -> [UInt8] {
        // O_NONBLOCK: the file was a regular one a moment ago; if it was swapped for a FIFO since,
        // the open must not wait for a writer.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw SkiffError(
                .ledger, "ledger \(path) cannot be read (\(reason(errno))): check its permissions, or run skiff as its owner",
                transient: false)
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &buffer, buffer.count)
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    private static func describe(_ head: [UInt8]) -> String {
        let printable = head.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        if printable { return "\"\(String(decoding: head, as: UTF8.self))\"" }
        return "bytes "
            + head.prefix(8).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined()
    }

    private static func fileType(_ st: stat) -> mode_t { st.st_mode & S_IFMT }

    private static func typeName(_ st: stat) -> String {
        switch fileType(st) {
        case S_IFCHR: "character device"
        case S_IFBLK: "block device"
        case S_IFIFO: "FIFO"
        case S_IFSOCK: "socket"
        default: "special file"
        }
    }

    private static func reason(_ err: Int32) -> String { String(cString: strerror(err)) }

    private static func refuse(_ message: String) -> SkiffError {
        SkiffError(.invalidArgument, message, transient: false)
    }
}
