import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: its `errno` and what was attempted ("open /x"; empty when the caller
/// names the operation itself). Callers turn it into a `SkiffError` in their own words.
package struct Errno: Error, Equatable {
    package let code: Int32
    package let what: String
    /// Set when the path is not a regular file ("a FIFO"): the call was refused before anything
    /// could block on it, and `reason` says what was found instead of the OS's text.
    package let notRegular: String?

    package init(code: Int32, what: String = "", notRegular: String? = nil) {
        self.code = code
        self.what = what
        self.notRegular = notRegular
    }

    /// The thread's current `errno`, for the call that just failed.
    package static func current(_ what: String = "") -> Errno { Errno(code: errno, what: what) }

    /// The OS's text for the error ("No space left on device").
    package var reason: String {
        if let notRegular { return "it is \(notRegular), not a regular file" }
        return String(cString: strerror(code))
    }
    /// "what: reason", or the reason alone.
    package var message: String { what.isEmpty ? reason : "\(what): \(reason)" }
    /// The path (or one of its parents) is not there: Prometheus deleted it, or it never existed.
    package var vanished: Bool { code == ENOENT || code == ENOTDIR }
    package var io: SkiffError { SkiffError(.io, message) }

    /// Whether retrying later may help: a full disk can be freed, an I/O error or a signal can be
    /// momentary, a missing permission or a read-only mount will not fix itself.
    package var isTransient: Bool {
        [ENOSPC, EIO, EAGAIN, EINTR, EDQUOT, EMFILE, ENFILE, ENOMEM, EBUSY, ETIMEDOUT].contains(code)
    }
}

/// Thin POSIX wrappers (not FileManager, so the errno is known: ENOENT means "deleted", anything
/// else is an I/O problem), shared by the TSDB files and the filesystem bucket. Every call that
/// can be interrupted by a signal is retried on EINTR, and only on EINTR.
package enum Posix {
    package enum Kind: Sendable { case file, directory, other }

    package struct Status: Sendable {
        package let kind: Kind
        package let size: Int64
        package let inode: UInt64
        package let mode: UInt32
        /// Modification time in milliseconds since the Unix epoch.
        package let modifiedMillis: Int64

        /// What the path is, in words for messages ("a FIFO", "a directory").
        package var typeName: String { Posix.typeName(mode: mode) }

        init(_ st: stat) {
            let type = UInt32(st.st_mode) & UInt32(S_IFMT)
            kind = type == UInt32(S_IFDIR) ? .directory : type == UInt32(S_IFREG) ? .file : .other
            size = Int64(st.st_size)
            inode = UInt64(st.st_ino)
            mode = UInt32(st.st_mode)
            #if canImport(Darwin)
            let time = st.st_mtimespec
            #else
            let time = st.st_mtim
            #endif
            modifiedMillis = Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
        }
    }

    /// Runs a system call until it is not interrupted by a signal; a negative result throws `errno`.
    @discardableResult
    package static func retryingEINTR<T: BinaryInteger>(_ what: @autoclosure () -> String, _ call: () -> T) throws(Errno) -> T {
        while true {
            let result = call()
            if result >= 0 { return result }
            if errno != EINTR { throw .current(what()) }
        }
    }

    /// `stat` (following symlinks, as Thanos follows symlinked block dirs).
    package static func status(_ path: String) throws(Errno) -> Status {
        var st = stat()
        try retryingEINTR("stat \(path)") { stat(path, &st) }
        return Status(st)
    }

    /// `lstat`: a symlink is reported as itself, not followed.
    package static func linkStatus(_ path: String) throws(Errno) -> Status {
        var st = stat()
        try retryingEINTR("stat \(path)") { lstat(path, &st) }
        return Status(st)
    }

    /// `fstat` of an open descriptor; `path` names it in errors.
    package static func status(fd: Int32, path: String) throws(Errno) -> Status {
        var st = stat()
        try retryingEINTR("stat \(path)") { fstat(fd, &st) }
        return Status(st)
    }

    /// `stat`, or nil when nothing is there (ENOENT/ENOTDIR).
    package static func statusIfPresent(_ path: String) throws(Errno) -> Status? {
        do { return try status(path) } catch  where error.vanished { return nil }
    }

    /// True when `path` exists (following symlinks); false only for ENOENT/ENOTDIR.
    package static func exists(_ path: String) throws(Errno) -> Bool {
        try statusIfPresent(path) != nil
    }

    /// Opens `path`; the descriptor is never inherited by child processes (promtool in tests).
    package static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(Errno) -> Int32 {
        try retryingEINTR("open \(path)") { open(path, flags | O_CLOEXEC, mode) }
    }

    /// What a `st_mode` is, in words for messages.
    package static func typeName(mode: UInt32) -> String {
        switch mode & UInt32(S_IFMT) {
        case UInt32(S_IFREG): "a regular file"
        case UInt32(S_IFDIR): "a directory"
        case UInt32(S_IFIFO): "a FIFO"
        case UInt32(S_IFSOCK): "a socket"
        case UInt32(S_IFCHR): "a character device"
        case UInt32(S_IFBLK): "a block device"
        case UInt32(S_IFLNK): "a symlink"
        default: "an unknown kind of file"
        }
    }

    /// Opens `path` for reading only if it is a regular file, never blocking on the way: a FIFO
    /// would block `open` until a writer appears (forever), a device may never end, a directory
    /// fails only at `read`. The path is checked with `stat` first (so a socket or device is never
    /// opened), opened with O_NONBLOCK (so a FIFO swapped in meanwhile cannot block the open), and
    /// the descriptor checked again with `fstat`, which is what is actually read. O_NONBLOCK has no
    /// effect on a regular file's reads. A non-regular file throws an `Errno` with `notRegular` set.
    /// Without `followSymlinks` a symlink is refused too ("a symlink"), also when swapped in later.
    package static func openRegularFile(
        _ path: String, followSymlinks: Bool = true
    ) throws(Errno) -> (fd: Int32, status: Status) {
        let before = try followSymlinks ? status(path) : linkStatus(path)
        guard before.kind == .file else {
            throw Errno(code: EINVAL, what: path, notRegular: before.typeName)
        }
        let fd: Int32
        do {
            fd = try openFile(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | (followSymlinks ? 0 : O_NOFOLLOW))
        } catch  where error.code == ELOOP && !followSymlinks {
            throw Errno(code: EINVAL, what: path, notRegular: "a symlink")
        }
        let opened: Status
        do {
            opened = try status(fd: fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        guard opened.kind == .file else {
            close(fd)
            throw Errno(code: EINVAL, what: path, notRegular: opened.typeName)
        }
        return (fd, opened)
    }

    /// A whole small regular file (meta.json), refusing anything that is not a regular file and
    /// any file over `maxBytes`, which throws EFBIG: a file that grows while read is cut at
    /// `maxBytes + 1` bytes rather than filling memory.
    package static func readRegularFile(
        _ path: String, maxBytes: Int, followSymlinks: Bool = true
    ) throws(Errno) -> [UInt8] {
        let (fd, status) = try openRegularFile(path, followSymlinks: followSymlinks)
        defer { close(fd) }
        guard status.size <= Int64(maxBytes) else { throw Errno(code: EFBIG, what: "read \(path)") }
        return try readToEnd(fd, path: path, maxBytes: maxBytes)
    }

    /// The rest of an open file; more than `maxBytes` throws EFBIG.
    private static func readToEnd(_ fd: Int32, path: String, maxBytes: Int = .max) throws(Errno) -> [UInt8] {
        var out: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = try readSome(fd, into: chunk, path: path)
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            guard out.count <= maxBytes else { throw Errno(code: EFBIG, what: "read \(path)") }
        }
    }

    /// Reads up to `count` bytes at `offset` of a regular file (see `openRegularFile`); fewer only
    /// at end of file.
    package static func readRegularAt(
        _ path: String, offset: Int64, count: Int, followSymlinks: Bool = true
    ) throws(Errno) -> [UInt8] {
        let fd = try openRegularFile(path, followSymlinks: followSymlinks).fd
        defer { close(fd) }
        return try readAt(fd: fd, path: path, offset: offset, count: count)
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    package static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(Errno) -> Int {
        try retryingEINTR("read \(path)") { read(fd, buffer.baseAddress, buffer.count) }
    }

    /// Reads up to `count` bytes of the file at `offset` (pread) into the start of `buffer`; 0 means
    /// end of file.
    package static func readSome(
        _ fd: Int32, into buffer: inout [UInt8], count: Int, at offset: Int64, path: String
    ) throws(Errno) -> Int {
        try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(Errno) in
                try retryingEINTR("read \(path)") { pread(fd, raw.baseAddress, Swift.min(count, raw.count), off_t(offset)) }
            }
        }.get()
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    private static func readAt(fd: Int32, path: String, offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = try bytes.withUnsafeMutableBytes { raw in
                Result { () throws(Errno) in
                    try retryingEINTR("read \(path)") {
                        pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                    }
                }
            }.get()
            if n == 0 { break }
            done += n
        }
        return Array(bytes.prefix(done))
    }

    /// A whole small file, such as a config file; more than `maxBytes` throws EFBIG, so an
    /// endless one (/dev/zero, a runaway FIFO) is refused instead of filling memory.
    package static func readAll(_ path: String, maxBytes: Int = smallFileLimit) throws(Errno) -> [UInt8] {
        let fd = try openFile(path, O_RDONLY)
        defer { close(fd) }
        return try readToEnd(fd, path: path, maxBytes: maxBytes)
    }

    /// The most `readAll` takes by default: far more than any config file or shipper file.
    package static let smallFileLimit = 16 << 20

    /// Writes all of `buffer`, continuing after short writes.
    package static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws(Errno) {
        var offset = 0
        while offset < buffer.count {
            let base = buffer.baseAddress! + offset
            let remaining = buffer.count - offset
            offset += try retryingEINTR("write \(path)") { write(fd, base, remaining) }
        }
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(Errno) {
        // withUnsafeBytes only rethrows untyped errors, so the result is carried out.
        try bytes.withUnsafeBytes { raw in Result { () throws(Errno) in try writeAll(fd, raw, path: path) } }.get()
    }

    package static func sync(_ fd: Int32, path: String) throws(Errno) {
        try retryingEINTR("fsync \(path)") { fsync(fd) }
    }

    /// fsync of a directory makes the names created, renamed or removed in it durable.
    package static func fsyncDirectory(_ dir: String) throws(Errno) {
        let fd = try openFile(dir, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try sync(fd, path: dir)
    }

    /// The names in a directory, without "." and "..", in no particular order.
    package static func list(_ dir: String) throws(Errno) -> [String] {
        var names: [String] = []
        try forEachEntry(dir) { name, _ in names.append(name) }
        return names
    }

    /// The names in a directory (without "." and ".."), each with whether it is a directory.
    /// Symlinks are followed, like `stat`, so a linked file lists as a file; a name removed
    /// meanwhile is left out.
    package static func entries(_ dir: String) throws(Errno) -> [(name: String, isDirectory: Bool)] {
        var entries: [(name: String, isDirectory: Bool)] = []
        try forEachEntry(dir) { (name, type) throws(Errno) in
            if type == Int32(DT_DIR) {
                entries.append((name, true))
            } else if type == Int32(DT_REG) {
                entries.append((name, false))
            } else {
                // Symlinks and file systems that do not report a type (DT_UNKNOWN) need a stat; a
                // symlink loop is listed as a non-directory rather than failing the whole listing.
                do throws(Errno) {
                    if let status = try statusIfPresent(join(dir, name)) { entries.append((name, status.kind == .directory)) }
                } catch  where error.code == ELOOP {
                    entries.append((name, false))
                }
            }
        }
        return entries
    }

    /// The one `readdir` loop: each name (without "." and "..") with its `d_type`.
    private static func forEachEntry(_ dir: String, _ body: (String, Int32) throws(Errno) -> Void) throws(Errno) {
        guard let handle = opendir(dir) else { throw .current("list \(dir)") }
        defer { closedir(handle) }
        while true {
            errno = 0
            guard let entry = readdir(handle) else {
                if errno != 0 { throw .current("list \(dir)") }
                return
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { try body(name, Int32(entry.pointee.d_type)) }
        }
    }

    /// `mkdir -p`: creates `path` and its missing parents. Each new directory's parent is fsynced so
    /// the new name survives a power loss along with what is written into it.
    ///
    /// A loop, not recursion: it walks up to the first ancestor that exists, then creates downwards,
    /// at most once per path component. A filesystem that answers ENOENT for a directory whose
    /// parent exists (`/proc`, a path removed meanwhile) gets that error back, not an endless retry.
    package static func makeDirectories(_ path: String) throws(Errno) {
        var missing: [String] = []
        var current = path
        climb: while true {
            switch try makeDirectory(current) {
            case .created:
                try fsyncDirectory(dirname(current))
                break climb
            case .exists:
                break climb
            case .parentMissing:
                let parent = dirname(current)
                guard parent != current else { throw Errno(code: ENOENT, what: "mkdir \(current)") }
                missing.append(current)
                current = parent
            }
        }
        for directory in missing.reversed() {
            switch try makeDirectory(directory) {
            case .created: try fsyncDirectory(dirname(directory))
            case .exists: continue  // made by another writer meanwhile
            case .parentMissing: throw Errno(code: ENOENT, what: "mkdir \(directory)")  // its parent exists, yet mkdir says not
            }
        }
    }

    private enum MakeDirectoryOutcome { case created, exists, parentMissing }

    /// One `mkdir`: EEXIST is fine when a directory (or a symlink to one) is there.
    private static func makeDirectory(_ path: String) throws(Errno) -> MakeDirectoryOutcome {
        while true {
            if mkdir(path, 0o755) == 0 { return .created }
            switch errno {
            case EINTR: continue  // a signal interrupted the call: nothing was done
            case EEXIST:
                guard try statusIfPresent(path)?.kind == .directory else { throw Errno(code: ENOTDIR, what: "mkdir \(path)") }
                return .exists
            case ENOENT: return .parentMissing
            default: throw .current("mkdir \(path)")
            }
        }
    }

    /// `rm -rf` that never follows symlinks (uses lstat), so nothing outside `path` is touched.
    /// Iterative, so a deep tree cannot exhaust the stack: directories are emptied depth first
    /// from an explicit stack and removed once they hold nothing.
    package static func removeTree(_ path: String) throws(Errno) {
        var pending: [(path: String, listed: Bool)] = [(path, false)]
        while let next = pending.popLast() {
            let (current, listed) = next
            var st = stat()
            guard lstat(current, &st) == 0 else {
                if errno == ENOENT { continue }
                throw .current("stat \(current)")
            }
            guard UInt32(st.st_mode) & UInt32(S_IFMT) == UInt32(S_IFDIR) else {
                guard unlink(current) == 0 || errno == ENOENT else { throw .current("remove \(current)") }
                continue
            }
            if listed {
                guard rmdir(current) == 0 || errno == ENOENT else { throw .current("remove \(current)") }
                continue
            }
            // Removed after its children, which are pushed above it.
            pending.append((current, true))
            for name in try list(current) { pending.append((join(current, name), false)) }
        }
    }

    /// The canonical absolute path (symlinks, "." and ".." resolved), or nil when it does not
    /// resolve (missing, a loop, no permission).
    package static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The directory part of `path` ("/a/b" -> "/a", "b" -> ".", "/a" -> "/").
    package static func dirname(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == path.utf8.startIndex { return "/" }
        return String(path[..<slash])
    }

    package static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    /// Random lower-case hex, for temp file names.
    package static func randomHex(bytes: Int = 8) -> String {
        var out = ""
        for _ in 0..<bytes {
            let byte = UInt8.random(in: 0...255)
            out += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }
        return out
    }
}
