import BlockingWork
import Crypto
import FileIO
import ObjectStorage
import Shipper
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fetches one file of a block into its temp file, checks it and renames it into place.
struct FileFetch: Sendable {
    struct Outcome: Sendable {
        let relPath: String
        /// Bytes read from the bucket for it.
        let fetched: Int64
        /// Bytes of an earlier run's partial file that were kept.
        let resumed: Int64
    }

    let bucket: any Bucket
    let ulid: ULID
    let file: BlockMeta.File
    let local: LocalBlockDir
    let options: BlockDownloader.Options
    let progress: BlockDownloader.Progress

    var key: String { "\(ulid)/\(file.relPath)" }
    var name: String { "\(file.relPath) of block \(ulid)" }

    func run() async throws(SkiffError) -> Outcome {
        // A partial file from a killed run is resumed only when the hash can vouch for it at the end.
        let first = try await attempt(resume: !file.sha256.isEmpty)
        if let outcome = first.outcome { return outcome }
        // The resumed bytes were not the object's (a partial from another version, or lost at a
        // power cut): once more from the first byte, which decides.
        let second = try await attempt(resume: false)
        if let outcome = second.outcome { return outcome }
        throw second.mismatch!
    }

    /// One pass over the object into the temp file. Returns the outcome, or the hash mismatch
    /// (temp removed) when the bytes are not the recorded ones.
    private func attempt(resume: Bool) async throws(SkiffError) -> (outcome: Outcome?, mismatch: SkiffError?) {
        let part = try await Blocking.run { () throws(SkiffError) in
            try PartFile(path: local.temp(file.relPath), resumeUpTo: resume ? file.sizeBytes : nil)
        }
        var closed = false
        defer { if !closed { part.discard() } }
        let resumed = part.written
        var failures = 0
        var announced = false
        while true {
            let start = part.written
            do throws(SkiffError) {
                // One byte past the recorded size: an object that is longer is caught, not cut.
                try await bucket.read(key: key, range: start..<(file.sizeBytes + 1)) {
                    (piece: ArraySlice<UInt8>) throws(SkiffError) in
                    guard part.written + Int64(part.buffered) + Int64(piece.count) <= file.sizeBytes else {
                        throw sizeMismatch("more than")
                    }
                    part.buffer(piece)
                    if part.buffered >= PartFile.flushBytes {
                        let flushed = try await part.flush()
                        progress.add(bytes: flushed)
                        if !announced {
                            announced = true
                            try await options.failpoints.hit("during:download:\(file.relPath)")
                        }
                    }
                }
                progress.add(bytes: try await part.flush())
                break
            } catch  where error.transient && error.code != .injected {
                // What arrived before the drop is good (delivered in order): keep it, resume after it.
                progress.add(bytes: try await part.flush())
                failures += 1
                guard failures < options.attemptsPerFile else {
                    throw SkiffError(
                        error.code, "download \(name): \(error.message) (after \(failures) attempts)",
                        transient: false, context: error.context)
                }
                try? await Task.sleep(for: options.retryDelay * (1 << min(failures - 1, 6)))
                if Task.isCancelled { throw SkiffError(.io, "download \(name): cancelled", transient: false) }
            } catch  where error.code == .notFound {
                throw SkiffError(
                    .notFound,
                    "\(name) is listed in its meta.json but missing from bucket \(bucket.name): the block is incomplete there",
                    transient: false)
            }
        }
        guard part.written == file.sizeBytes else { throw sizeMismatch("\(part.written) bytes, not") }
        let digest = part.digest()
        if !file.sha256.isEmpty && digest != file.sha256.lowercased() {
            let mismatch = SkiffError(
                .corruptBlock,
                "\(name) in bucket \(bucket.name) does not match the SHA-256 its meta.json records "
                    + "(read \(digest), recorded \(file.sha256)): the bucket's copy is damaged; it was not put in place",
                transient: false, context: .init(block: ulid, key: key))
            if resumed > 0 {
                progress.add(bytes: -(part.written - resumed))
                return (nil, mismatch)
            }
            throw mismatch
        }
        closed = true
        let target = local.target(file.relPath)
        try await Blocking.run { () throws(SkiffError) in try part.commit(to: target) }
        try await options.failpoints.hit("after:download:\(file.relPath)")
        progress.add(bytes: 0, files: 1)
        return (Outcome(relPath: file.relPath, fetched: part.written - resumed, resumed: resumed), nil)
    }

    private func sizeMismatch(_ what: String) -> SkiffError {
        SkiffError(
            .corruptBlock,
            "\(name) in bucket \(bucket.name) is \(what) the \(file.sizeBytes) bytes its meta.json records: "
                + "the bucket's copy is damaged; it was not put in place",
            transient: false, context: .init(block: ulid, key: key))
    }
}

/// The temp file one fetch writes: buffered pieces, hashed as they are written. Used by one task
/// at a time (the fetch that owns it), hence unchecked Sendable; its I/O runs on the blocking pool.
final class PartFile: @unchecked Sendable {
    /// Writes of 1 MiB: few syscalls and pool hops, whatever size pieces the bucket hands over.
    static let flushBytes = 1 << 20

    let path: String
    private let fd: Int32
    private var hasher = SHA256()
    private var pending: [UInt8] = []
    private(set) var written: Int64 = 0

    var buffered: Int { pending.count }

    /// Opens the temp file, keeping (and hashing) what an earlier run wrote when `resumeUpTo` is
    /// set and the file is no longer than it; otherwise starting empty.
    init(path: String, resumeUpTo limit: Int64?) throws(SkiffError) {
        self.path = path
        try? Posix.makeDirectories(Posix.dirname(path))  // chunks/ exists; any other subdir a block lists may not
        // O_NOFOLLOW: a symlink planted under the temp name is never written through.
        do throws(Errno) { fd = try Posix.openFile(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode: 0o644) } catch {
            throw SkiffError(.io, "open \(path) to download into it: \(error.reason)", transient: false)
        }
        do throws(Errno) {
            let status = try Posix.status(fd: fd, path: path)
            guard status.kind == .file else { throw Errno(code: EINVAL, what: path, notRegular: status.typeName) }
            if let limit, status.size > 0, status.size <= limit {
                written = try Self.hashPrefix(fd, into: &hasher, path: path)
            } else if ftruncate(fd, 0) != 0 {
                throw Errno.current("truncate \(path)")
            }
            guard lseek(fd, off_t(written), SEEK_SET) >= 0 else { throw Errno.current("seek \(path)") }
        } catch {
            close(fd)
            throw SkiffError(.io, "open \(path) to download into it: \(error.reason)", transient: false)
        }
    }

    private static func hashPrefix(_ fd: Int32, into hasher: inout SHA256, path: String) throws(Errno) -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: flushBytes, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try Posix.readSome(fd, into: buffer, path: path)
            if n == 0 { return total }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
    }

    func buffer(_ piece: ArraySlice<UInt8>) { pending.append(contentsOf: piece) }

    /// Writes and hashes what is buffered; returns how many bytes.
    func flush() async throws(SkiffError) -> Int64 {
        guard !pending.isEmpty else { return 0 }
        let bytes = pending
        pending.removeAll(keepingCapacity: true)
        try await Blocking.run { () throws(SkiffError) in
            do throws(Errno) { try Posix.writeAll(self.fd, bytes, path: self.path) } catch {
                throw SkiffError(.io, "write \(self.path): \(error.reason)", transient: false)
            }
            self.hasher.update(data: bytes)
        }
        written += Int64(bytes.count)
        return Int64(bytes.count)
    }

    func digest() -> String { Hex.lower(hasher.finalize()) }

    /// fsync, rename over the final name, fsync of the dir (`AtomicFile.commit`).
    func commit(to target: String) throws(SkiffError) {
        do throws(Errno) { try AtomicFile.commit(fd, temp: path, target: target) } catch {
            throw SkiffError(.io, "put \(target) in place: \(error.reason)", transient: false)
        }
    }

    /// Closes and removes the temp file.
    func discard() {
        close(fd)
        unlink(path)
    }
}
