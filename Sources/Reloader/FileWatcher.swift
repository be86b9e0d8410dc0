import Foundation
import SkiffCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Watches the config file and the rule dirs for changes (Thanos uses fsnotify): inotify on
/// Linux, nothing elsewhere (the periodic re-check still runs). What it reports only wakes the
/// reloader, which re-reads everything, so a missed or coalesced event costs nothing but time.
///
/// `run` blocks in `poll` for as long as the reloader runs, so it gets a thread of its own
/// (`runOnThread`): on NIO's blocking pool it would hold one of that pool's few threads for the
/// process' life and slow every file copy and hash queued behind it; on the cooperative pool it
/// would stall every task. `stop()` wakes the poll through a pipe and the thread ends.
final class FileWatcher: Sendable {
    /// What one read of events held: events counted as fsnotify does (not IN_IGNORED), and
    /// errors (a queue overflow, which means events were lost, or a failed read).
    struct Batch: Sendable {
        var events = 0
        var errors = 0
        var errorMessage: String?
    }

    private let paths = Mutex<[String]>([])
    /// What `thanos_sidecar_reloader_watches` counts: as Thanos' watcher counts, each watched
    /// path and, for a file, its directory too.
    private let counted = Mutex<Set<String>>([])
    #if os(Linux)
    private let inotify: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32

    /// fsnotify's mask: creates, writes, attribute changes (`touch`), moves and deletes.
    private static let mask: UInt32 =
        0x0000_0002 /* MODIFY */ | 0x0000_0004 /* ATTRIB */ | 0x0000_0040 /* MOVED_FROM */ | 0x0000_0080 /* MOVED_TO */
        | 0x0000_0100 /* CREATE */ | 0x0000_0200 /* DELETE */ | 0x0000_0400 /* DELETE_SELF */ | 0x0000_0800 /* MOVE_SELF */
    private static let queueOverflow: UInt32 = 0x0000_4000
    private static let ignored: UInt32 = 0x0000_8000

    init() throws(SkiffError) {
        let fd = inotify_init1(Int32(O_NONBLOCK | O_CLOEXEC))
        guard fd >= 0 else {
            throw SkiffError(
                .io,
                "reloader: create watcher: \(String(cString: strerror(errno))); raise fs.inotify.max_user_instances if it is exhausted"
            )
        }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SkiffError(.io, "reloader: create watcher: pipe: \(reason)")
        }
        for pipeFD in pipeFDs { _ = fcntl(pipeFD, F_SETFD, FD_CLOEXEC) }
        inotify = fd
        wakeRead = pipeFDs[0]
        wakeWrite = pipeFDs[1]
    }

    deinit {
        close(inotify)
        close(wakeRead)
        close(wakeWrite)
    }
    #else
    init() throws(SkiffError) {}
    #endif

    /// Watches `path` (a file or a directory, top level only); `flag` names it in errors.
    func add(_ path: String, flag: String, isFile: Bool) throws(SkiffError) {
        #if os(Linux)
        guard inotify_add_watch(inotify, path, Self.mask) >= 0 else {
            throw SkiffError(
                .io,
                "\(flag) \(path): cannot watch it: \(String(cString: strerror(errno)))"
                    + (errno == ENOSPC ? "; raise fs.inotify.max_user_watches" : ""))
        }
        #endif
        paths.withLock { $0.append(path) }
        counted.withLock { counted in
            if isFile { counted.insert(Self.directory(of: path)) }
            counted.insert(path)
        }
    }

    /// `thanos_sidecar_reloader_watches`.
    var count: Int { counted.withLock { $0.count } }

    /// Go's `filepath.Dir`, enough for the count: the part before the last slash.
    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Watches every path again. A file replaced by a rename (an editor's save, a ConfigMap's
    /// symlink swap) loses its watch with its old inode; adding it again watches the new one.
    /// Adding a path already watched only refreshes its mask. A path that is gone is left to the
    /// apply, which reports it.
    func rearm() {
        #if os(Linux)
        for path in paths.withLock({ $0 }) { _ = inotify_add_watch(inotify, path, Self.mask) }
        #endif
    }

    /// Wakes `run` and makes it return.
    func stop() {
        #if os(Linux)
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        #endif
    }

    /// Runs `run` on a thread of its own and returns when it has ended (after `stop()`).
    func runOnThread(_ deliver: @escaping @Sendable (Batch) -> Void) async {
        #if os(Linux)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                self.run(deliver)
                continuation.resume()
            }.start()
        }
        #endif
    }

    #if os(Linux)
    /// Blocks in poll until `stop()`, handing each read's events to `deliver`.
    private func run(_ deliver: (Batch) -> Void) {
        var fds = [
            pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                deliver(Batch(errors: 1, errorMessage: "poll: \(String(cString: strerror(errno)))"))
                return
            }
            if fds[1].revents != 0 { return }
            guard fds[0].revents != 0 else { continue }
            var batch = Batch()
            while true {
                let n = read(inotify, buffer.baseAddress, buffer.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno != EAGAIN {
                        batch.errors += 1
                        batch.errorMessage = "read: \(String(cString: strerror(errno)))"
                    }
                    break
                }
                if n == 0 { break }
                Self.count(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), into: &batch)
            }
            if batch.events > 0 || batch.errors > 0 { deliver(batch) }
        }
    }

    /// Walks `struct inotify_event` records: wd, mask, cookie, len, then `len` bytes of name.
    private static func count(_ bytes: UnsafeRawBufferPointer, into batch: inout Batch) {
        var offset = 0
        while offset + 16 <= bytes.count {
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let nameLength = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            offset += 16 + nameLength
            if mask & queueOverflow != 0 {
                batch.errors += 1
                batch.errorMessage = "inotify event queue overflow; raise fs.inotify.max_queued_events"
            } else if mask & ignored == 0 {
                batch.events += 1
            }
        }
    }
    #endif
}
