#if canImport(Glibc)
import Glibc

/// Reads procfs for `ProcessMetrics`: whole small files and directory sizes, with plain POSIX calls
/// (this target has no FileIO; procfs files are generated in memory, so nothing here waits on a device).
enum ProcFile {
    /// The file's bytes, or nil when it cannot be opened or read. procfs reports sizes of 0, so it is
    /// read to the end in pieces; 1 MiB bounds a file that should be a few KiB.
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while contents.count < 1 << 20 {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            contents.append(contentsOf: buffer[..<count])
        }
        return contents
    }

    /// The number of entries of a /proc/<pid>/fd directory, as procfs' `FileDescriptorsLen`: its size
    /// when the kernel reports one (Linux 6.2+, one stat), else its entries but "." and ".." (the
    /// descriptor reading the directory is among them, as in Go).
    static func countEntries(_ path: String) -> Int? {
        var info = stat()
        if stat(path, &info) == 0, info.st_size > 0 { return Int(info.st_size) }
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { count += 1 }
        }
        return count
    }
}
#endif
