#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
import SkiffCore

/// Thin POSIX wrappers shared by the TSDB files. Plain syscalls (not FileManager) so that the
/// errno is known: ENOENT means "Prometheus deleted it", anything else is an I/O problem.
enum Posix {
    /// A failed syscall: what was attempted and the errno.
    struct Failure: Error {
        let errno: Int32
        let what: String
        var reason: String { String(cString: strerror(errno)) }
        var vanished: Bool { errno == ENOENT || errno == ENOTDIR }
        var message: String { "\(what): \(reason)" }
        var io: SkiffError { SkiffError(.io, message) }
    }

    enum Kind { case file, directory, other }

    struct Status {
        let kind: Kind
        let size: Int64
        let inode: UInt64
        let mode: UInt32
    }

    static func fail(_ what: String) -> Failure { Failure(errno: errno, what: what) }

    /// `stat` (following symlinks, as Thanos follows symlinked block dirs).
    static func status(_ path: String) throws(Failure) -> Status {
        var st = stat()
        guard stat(path, &st) == 0 else { throw fail("stat \(path)") }
        let type = UInt32(st.st_mode) & UInt32(S_IFMT)
        let kind: Kind = type == UInt32(S_IFDIR) ? .directory : type == UInt32(S_IFREG) ? .file : .other
        return Status(kind: kind, size: Int64(st.st_size), inode: UInt64(st.st_ino), mode: UInt32(st.st_mode))
    }

    /// True when `path` exists (following symlinks); false only for ENOENT/ENOTDIR.
    static func exists(_ path: String) throws(Failure) -> Bool {
        do {
            _ = try status(path)
            return true
        } catch {
            if error.vanished { return false }
            throw error
        }
    }

    /// The names in a directory, without "." and "..", in no particular order.
    static func list(_ dir: String) throws(Failure) -> [String] {
        guard let handle = opendir(dir) else { throw fail("list \(dir)") }
        defer { closedir(handle) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(handle) else {
                if errno != 0 { throw fail("list \(dir)") }
                return names
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(Failure) -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw fail("open \(path)") }
        }
    }

    /// Reads up to `count` bytes, retrying on EINTR; 0 means end of file.
    static func readSome(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, path: String) throws(Failure) -> Int {
        while true {
            let n = read(fd, buffer, count)
            if n >= 0 { return n }
            if errno != EINTR { throw fail("read \(path)") }
        }
    }

    /// Reads exactly `count` bytes at `offset` (fewer only at end of file).
    static func readAt(_ path: String, offset: Int64, count: Int) throws(Failure) -> [UInt8] {
        let fd = try openFile(path, O_RDONLY)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("read \(path)")
            }
            if n == 0 { break }
            done += n
        }
        return Array(bytes.prefix(done))
    }

    /// A whole (small) file, such as meta.json.
    static func readAll(_ path: String) throws(Failure) -> [UInt8] {
        let fd = try openFile(path, O_RDONLY)
        defer { close(fd) }
        var out: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = try readSome(fd, chunk.baseAddress!, chunk.count, path: path)
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    /// Writes every byte, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(Failure) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("write \(path)")
            }
            done += n
        }
    }

    static func sync(_ fd: Int32, path: String) throws(Failure) {
        guard fsync(fd) == 0 else { throw fail("fsync \(path)") }
    }

    /// fsync of a directory makes the names created, renamed or removed in it durable.
    static func fsyncDir(_ dir: String) throws(Failure) {
        let fd = try openFile(dir, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try sync(fd, path: dir)
    }

    /// `rm -rf` that never follows symlinks (uses lstat), so nothing outside `path` is touched.
    static func removeTree(_ path: String) throws(Failure) {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return }
            throw fail("stat \(path)")
        }
        if UInt32(st.st_mode) & UInt32(S_IFMT) == UInt32(S_IFDIR) {
            for name in try list(path) { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 || errno == ENOENT else { throw fail("remove \(path)") }
        } else {
            guard unlink(path) == 0 || errno == ENOENT else { throw fail("remove \(path)") }
        }
    }

    static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }
}
