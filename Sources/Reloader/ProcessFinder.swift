import FileIO
import SkiffCore

/// Finds the process `--reloader.process-name` names, as Thanos' go-ps does on Linux: by the
/// executable name the kernel keeps (`/proc/<pid>/comm`), lowest pid first. The kernel cuts that
/// name at 15 bytes, so Thanos never finds a longer name; here a longer name matches when its
/// first 15 bytes are the comm and the process was started as that name (the last part of
/// `argv[0]`, which a symlink keeps) or from a file of that name (`/proc/<pid>/exe`).
enum ProcessFinder {
    /// The kernel's TASK_COMM_LEN less its terminating NUL.
    static let commLength = 15

    /// Blocking (reads /proc).
    static func find(_ name: String) throws(SkiffError) -> Int32? {
        let entries: [String]
        do throws(Errno) { entries = try Posix.list("/proc") } catch {
            throw SkiffError(.io, "list processes: \(error.message)")
        }
        let pids = entries.compactMap { Int32($0) }.sorted()
        let nameBytes = Array(name.utf8)
        let wanted = Array(nameBytes.prefix(commLength))
        for pid in pids {
            // A process may end while the list is read: its files are then gone, and it is skipped.
            guard var comm = try? Posix.readAll("/proc/\(pid)/comm", maxBytes: 64) else { continue }
            if comm.last == UInt8(ascii: "\n") { comm.removeLast() }
            guard comm == wanted else { continue }
            if nameBytes.count <= commLength || startedAs(name, pid: pid) { return pid }
        }
        return nil
    }

    private static func startedAs(_ name: String, pid: Int32) -> Bool {
        if let cmdline = try? Posix.readAll("/proc/\(pid)/cmdline", maxBytes: 1 << 16) {
            let argv0 = String(decoding: cmdline.prefix { $0 != 0 }, as: UTF8.self)
            if basename(argv0) == name { return true }
        }
        if let exe = Posix.realPath("/proc/\(pid)/exe"), basename(exe) == name { return true }
        return false
    }

    private static func basename(_ path: String) -> Substring {
        path.split(separator: "/", omittingEmptySubsequences: true).last ?? ""
    }
}
