#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import SkiffCore

/// A failed system call: its `errno`. Internal; callers turn it into a `SkiffError` that names the
/// operation and the key, since only they know both.
package struct Errno: Error, Equatable {
    let code: Int32

    static var current: Errno { Errno(code: errno) }

    /// The OS's text for the error ("No space left on device").
    package var reason: String { String(cString: strerror(code)) }

    /// Whether retrying later may help: a full disk can be freed, an I/O error or a signal can be
    /// momentary, a missing permission or a read-only mount will not fix itself.
    var isTransient: Bool {
        [ENOSPC, EIO, EAGAIN, EINTR, EDQUOT, EMFILE, ENFILE, ENOMEM, EBUSY, ETIMEDOUT].contains(code)
    }
}

/// Runs a system call until it is not interrupted by a signal; a negative result throws `errno`.
@discardableResult
func sys<T: BinaryInteger>(_ call: () -> T) throws(Errno) -> T {
    while true {
        let result = call()
        if result >= 0 { return result }
        if errno != EINTR { throw .current }
    }
}

/// Opens `path`; the descriptor is never inherited by child processes (promtool in tests).
package func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(Errno) -> Int32 {
    try sys { open(path, flags | O_CLOEXEC, mode) }
}

/// Writes all of `buffer`, continuing after short writes.
func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(Errno) {
    var offset = 0
    while offset < buffer.count {
        let base = buffer.baseAddress! + offset
        let remaining = buffer.count - offset
        offset += try sys { write(fd, base, remaining) }
    }
}

/// Flushes a directory's entries (a rename or a new name in it) to disk.
func fsyncDirectory(_ path: String) throws(Errno) {
    let fd = try openFile(path, O_RDONLY | O_DIRECTORY)
    defer { close(fd) }
    try sys { fsync(fd) }
}

/// `stat(2)` of `path`, or nil when nothing is there.
func fileStatus(_ path: String) throws(Errno) -> stat? {
    var status = stat()
    do {
        try sys { stat(path, &status) }
    } catch where error.code == ENOENT || error.code == ENOTDIR {
        return nil
    }
    return status
}

func isDirectory(_ status: stat) -> Bool { (status.st_mode & S_IFMT) == S_IFDIR }

/// Modification time in milliseconds since the Unix epoch.
func modifiedMillis(_ status: stat) -> Int64 {
    #if canImport(Darwin)
        let time = status.st_mtimespec
    #else
        let time = status.st_mtim
    #endif
    return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
}

/// `mkdir -p`: creates `path` and its missing parents. Each new directory's parent is fsynced so
/// the new name survives a power loss along with the objects written into it.
///
/// A loop, not recursion: it walks up to the first ancestor that exists, then creates downwards.
/// A filesystem that answers ENOENT for a directory whose parent exists (`/proc`, a path removed
/// meanwhile) gets that error back instead of an endless retry.
func makeDirectories(_ path: String) throws(Errno) {
    var missing: [String] = []
    var current = path
    climb: while true {
        switch try makeDirectory(current) {
        case .created:
            try fsyncDirectory(parentPath(current))
            break climb
        case .exists:
            break climb
        case .parentMissing:
            let parent = parentPath(current)
            guard parent != current else { throw Errno(code: ENOENT) }
            missing.append(current)
            current = parent
        }
    }
    for directory in missing.reversed() {
        switch try makeDirectory(directory) {
        case .created: try fsyncDirectory(parentPath(directory))
        case .exists: continue  // made by another writer meanwhile
        case .parentMissing: throw Errno(code: ENOENT)  // its parent exists, yet mkdir says it does not
        }
    }
}

private enum MakeDirectoryOutcome { case created, exists, parentMissing }

/// One `mkdir`: EEXIST is fine when a directory (or a symlink to one) is there.
private func makeDirectory(_ path: String) throws(Errno) -> MakeDirectoryOutcome {
    while true {
        if mkdir(path, 0o755) == 0 { return .created }
        switch errno {
        case EINTR: continue  // a signal interrupted the call: nothing was done
        case EEXIST:
            guard let status = try fileStatus(path), isDirectory(status) else { throw Errno(code: ENOTDIR) }
            return .exists
        case ENOENT: return .parentMissing
        default: throw .current
        }
    }
}

/// The directory part of `path` ("/a/b" -> "/a", "b" -> ".", "/a" -> "/").
func parentPath(_ path: String) -> String {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
    if slash == path.utf8.startIndex { return "/" }
    return String(path[..<slash])
}

/// The names in a directory (without "." and ".."), each with whether it is a directory.
/// Symlinks are followed, like `stat`, so a linked file lists as a file.
func directoryEntries(_ path: String) throws(Errno) -> [(name: String, isDirectory: Bool)] {
    guard let dir = opendir(path) else { throw .current }
    defer { closedir(dir) }
    var entries: [(name: String, isDirectory: Bool)] = []
    while true {
        errno = 0
        guard let entry = readdir(dir) else {
            if errno != 0 { throw .current }
            return entries
        }
        let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: pointer.pointee)) {
                String(cString: $0)
            }
        }
        if name == "." || name == ".." { continue }
        let type = Int32(entry.pointee.d_type)
        if type == Int32(DT_DIR) {
            entries.append((name, true))
        } else if type == Int32(DT_REG) {
            entries.append((name, false))
        } else if let status = try fileStatus(path + "/" + name) {
            // Symlinks and file systems that do not report a type (DT_UNKNOWN) need a stat.
            entries.append((name, isDirectory(status)))
        }
    }
}

/// Random lower-case hex, for temp file names.
func randomHex(bytes: Int = 8) -> String {
    var out = ""
    for _ in 0..<bytes {
        let byte = UInt8.random(in: 0...255)
        out += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
    }
    return out
}

/// Reads up to `buffer.count` bytes; 0 at end of file.
package func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
    try sys { read(fd, buffer.baseAddress, buffer.count) }
}
