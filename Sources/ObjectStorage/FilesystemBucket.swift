import BlockingWork
import FileIO
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bucket in a local directory, in Thanos' FILESYSTEM layout: the object `key` is the plain file
/// `<root>/<key>`, so `promtool tsdb list <root>` and Thanos read shipped blocks as they are.
///
/// Objects are written to a `.skiff-tmp-*` file next to their final name, fsynced and renamed into
/// place, so a crash leaves either the old object, the new one, or nothing under the key.
///
/// Every blocking system call (copies, fsyncs, reads, listings) runs through `Blocking.run`, off
/// the cooperative pool. A file upload copies kernel-side, without hashing again, when the staged
/// file still has the identity it was hashed with (`FilesystemCopy`), and hashes while copying
/// otherwise.
public struct FilesystemBucket: Bucket {
    /// The largest piece `read` hands to its consumer, and the upload copy buffer size.
    static let bufferSize = 1 << 20

    /// The bucket's root directory, without a trailing "/".
    public let directory: String
    /// How many file uploads took each copy path (kernel copy, read/write, hashing).
    public let copies = UploadPathCounts<FilesystemCopyPath>()

    public var name: String { directory }

    /// Opens (creating it and its parents if missing) the bucket at `directory`, and checks that
    /// objects can be written there, so a misconfigured path fails at startup, not mid-upload.
    public init(directory: String) throws(SkiffError) {
        var root = directory
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.directory = root
        do throws(Errno) {
            guard !root.isEmpty else { throw Errno(code: ENOENT) }
            try Posix.makeDirectories(root)
            // Write a file: permission bits do not tell (root bypasses them), and neither does access(2) on every mount.
            let probePrefix = ObjectKey.tempPrefix + "probe-"
            let probe = root + "/" + probePrefix + Posix.randomHex()
            let fd = try AtomicFile.create(probe)
            close(fd)
            unlink(probe)
            // A process killed between creating and removing its probe left one behind (Tools/torture
            // found it). A probe lives microseconds and has no reader, so any is safe to sweep: a
            // probe of another process starting right now has already proved what it needed.
            for entry in (try? Posix.entries(root)) ?? [] where !entry.isDirectory && entry.name.hasPrefix(probePrefix) {
                unlink(root + "/" + entry.name)
            }
        } catch {
            throw SkiffError(
                .invalidArgument,
                "bucket directory \(directory) is not usable: \(error.reason); "
                    + "point config.directory at a writable directory", transient: false)
        }
    }

    // MARK: - Uploads

    /// Copies the file through a temp file and a rename. The journal is not needed: a rename is
    /// atomic, and an interrupted copy leaves only a temp file that is swept later.
    /// With `hashed`, copies kernel-side without hashing while the file keeps the identity it
    /// was hashed with (see `copy` in FilesystemCopy.swift); hashes while copying otherwise.
    public func upload(
        key: String, fileAt path: String, size: Int64, sha256: String?, hashedAs hashed: HashedFile?,
        journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        try ObjectKey.validate(key, op: "upload")
        // Copying, hashing and fsyncing a file is blocking work: off the cooperative pool.
        try await Blocking.run { () throws(SkiffError) in
            try copy(key: key, from: path, size: size, sha256: sha256, identity: hashed?.identity)
        }
    }

    /// A file is copied whole.
    public func signedPartSize(forFileOfSize size: Int64) -> Int64? { nil }

    public func upload(key: String, bytes: [UInt8]) async throws(SkiffError) {
        try ObjectKey.validate(key, op: "upload")
        try await Blocking.run { () throws(SkiffError) in try write(key: key, bytes: bytes) }
    }

    private func write(key: String, bytes: [UInt8]) throws(SkiffError) {
        try writeAtomically(key: key) { (out: Int32) throws(SkiffError) in
            do throws(Errno) {
                try Posix.writeAll(out, bytes, path: key)
            } catch {
                throw osError("upload", key, error)
            }
        }
    }

    /// Creates a temp file beside the object's final path, lets `fill` write it, then commits it
    /// (`AtomicFile.commit`: fsync, rename over the final name, fsync of the directory). On any
    /// error the temp file is removed and nothing appears under `key`.
    func writeAtomically(key: String, fill: (Int32) throws(SkiffError) -> Void) throws(SkiffError) {
        let target = path(of: key)
        let dir = Posix.dirname(target)
        var temp = ""
        var fd: Int32 = -1
        do throws(Errno) {
            // A concurrent delete may remove the (then empty) directory between mkdir and open:
            // retried, but only twice, so a directory that keeps vanishing fails with ENOENT.
            for attempt in 1...3 {
                try Posix.makeDirectories(dir)
                removeStaleTemps(of: target)
                temp = dir + "/" + Self.tempPrefix(of: target) + Posix.randomHex()
                do throws(Errno) {
                    fd = try AtomicFile.create(temp)
                    break
                } catch  where error.code == ENOENT && attempt < 3 {
                    continue
                }
            }
        } catch {
            removeEmptyParents(of: target)
            throw osError("upload", key, error)
        }

        var committed = false
        defer {
            if !committed {
                unlink(temp)
                removeEmptyParents(of: target)  // a failed first upload into a dir leaves no empty dir
            }
        }
        do throws(SkiffError) { try fill(fd) } catch {
            close(fd)
            throw error
        }
        committed = true  // commit closes the descriptor and removes the temp file itself on failure
        do throws(Errno) { try AtomicFile.commit(fd, temp: temp, target: target) } catch {
            removeEmptyParents(of: target)
            throw osError("upload", key, error)
        }
    }

    // MARK: - Reads

    public func attributes(key: String) async throws(SkiffError) -> ObjectAttributes? {
        try ObjectKey.validate(key, op: "stat")
        let path = path(of: key)
        let status = try await Blocking.run { () throws(SkiffError) -> Posix.Status? in
            do throws(Errno) { return try Posix.statusIfPresent(path) } catch { throw osError("stat", key, error) }
        }
        // A directory is a "common prefix", not an object, as on S3.
        guard let status, status.kind != .directory else { return nil }
        return ObjectAttributes(size: status.size, lastModifiedMillis: status.modifiedMillis)
    }

    public func read(
        key: String, range: Range<Int64>?,
        into consumer: (ArraySlice<UInt8>) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        try ObjectKey.validate(key, op: "read")
        let path = path(of: key)
        // Opening, stat and every pread run off the cooperative pool; the consumer runs on it.
        let (fd, status) = try await Blocking.run { () throws(SkiffError) -> (Int32, Posix.Status) in
            do throws(Errno) {
                // O_NONBLOCK: opening a FIFO planted in the bucket directory must not wait for a writer.
                let fd = try Posix.openFile(path, O_RDONLY | O_NONBLOCK)
                do throws(Errno) { return (fd, try Posix.status(fd: fd, path: key)) } catch {
                    close(fd)
                    throw error
                }
            } catch  where error.vanished {
                throw SkiffError(.notFound, "read \(key): no such object", transient: false)
            } catch {
                throw osError("read", key, error)
            }
        }
        defer { close(fd) }
        if status.kind == .directory { throw SkiffError(.notFound, "read \(key): no such object", transient: false) }
        if status.kind == .other {
            throw SkiffError(
                .bucket, "read \(key): \(path) is not a regular file (a FIFO, socket or device); remove it",
                transient: false)
        }

        let size = status.size
        var offset = min(max(range?.lowerBound ?? 0, 0), size)
        let end = min(range?.upperBound ?? size, size)
        while offset < end {
            let (want, at) = (Int(min(Int64(Self.bufferSize), end - offset)), offset)
            let piece = try await Blocking.run { () throws(SkiffError) -> [UInt8] in
                var buffer = [UInt8](repeating: 0, count: want)
                let n: Int
                do throws(Errno) { n = try Posix.readSome(fd, into: &buffer, count: want, at: at, path: key) } catch {
                    throw osError("read", key, error)
                }
                buffer.removeLast(want - n)
                return buffer
            }
            if piece.isEmpty { break }  // cannot shrink under an open descriptor (overwrites rename); be safe
            offset += Int64(piece.count)
            try await consumer(piece[...])
        }
    }

    public func list(prefix: String, recursive: Bool) async throws(SkiffError) -> [String] {
        try ObjectKey.validatePrefix(prefix, op: "list")
        // The prefix's directory part is walked; its last, partial segment filters the names in it.
        let slash = prefix.utf8.lastIndex(of: UInt8(ascii: "/"))
        let dirKey = slash.map { String(prefix[...$0]) } ?? ""
        return try await Blocking.run { () throws(SkiffError) -> [String] in
            var keys: [String] = []
            do throws(Errno) {
                try collect(dirKey: dirKey, prefix: prefix, recursive: recursive, into: &keys)
            } catch {
                throw osError("list", prefix, error)
            }
            return keys.sorted(by: ObjectKey.precedes)
        }
    }

    /// Walks one top-level entry at a time (a block dir, in a Thanos bucket), so a page is one
    /// block's files and the whole bucket's keys are never held at once.
    public func walk(prefix: String, page: ([ObjectEntry]) async throws(SkiffError) -> Void) async throws(SkiffError) {
        for child in try await list(prefix: prefix, recursive: false) {
            let keys = child.hasSuffix("/") ? try await list(prefix: child, recursive: true) : [child]
            let entries = try await Blocking.run { () throws(SkiffError) -> [ObjectEntry] in
                var entries: [ObjectEntry] = []
                for key in keys {
                    let status: Posix.Status?
                    do throws(Errno) { status = try Posix.statusIfPresent(path(of: key)) } catch  where error.code == ELOOP {
                        continue  // a symlink loop is no object (none could be read there): not one junk entry ends the walk
                    } catch {
                        throw osError("stat", key, error)
                    }
                    if let status { entries.append(ObjectEntry(key: key, size: status.size)) }  // else: deleted meanwhile
                }
                return entries
            }
            if !entries.isEmpty { try await page(entries) }
        }
    }

    public func incompleteUploads(prefix: String) async throws(SkiffError) -> [String] { [] }

    /// Appends the keys in the directory `dirKey` ("" or ending in "/") that start with `prefix`.
    private func collect(dirKey: String, prefix: String, recursive: Bool, into keys: inout [String]) throws(Errno) {
        let entries: [(name: String, isDirectory: Bool)]
        do throws(Errno) {
            entries = try Posix.entries(dirKey.isEmpty ? directory : directory + "/" + dirKey)
        } catch  where error.vanished {
            return  // nothing under this prefix
        }
        for entry in entries where !entry.name.hasPrefix(ObjectKey.tempPrefix) {
            let key = dirKey + entry.name
            guard ObjectKey.has(key + (entry.isDirectory ? "/" : ""), prefix: prefix) else { continue }
            if !entry.isDirectory {
                keys.append(key)
            } else if recursive {
                // Everything below a matching directory matches.
                try collect(dirKey: key + "/", prefix: "", recursive: true, into: &keys)
            } else {
                keys.append(key + "/")
            }
        }
    }

    // MARK: - Deletes

    public func delete(key: String) async throws(SkiffError) {
        try ObjectKey.validate(key, op: "delete")
        let target = path(of: key)
        try await Blocking.run { () throws(SkiffError) in
            do throws(Errno) {
                try Posix.retryingEINTR("unlink") { unlink(target) }
            } catch  where [ENOENT, ENOTDIR, EISDIR].contains(error.code) {
                return  // absent (or only a "directory"): nothing to delete, as on S3
            } catch {
                throw osError("delete", key, error)
            }
            // So a deleted block leaves no empty `<ULID>/chunks/` behind.
            removeStaleTemps(of: target)
            removeEmptyParents(of: target)
        }
    }

    public func abortIncompleteUploads(prefix: String) async throws(SkiffError) -> Int { 0 }

    public func shutdown() async {}

    // MARK: - Helpers

    /// Temp files are named after their object (`.skiff-tmp-<name>.<random>`), so the next
    /// upload or delete of the same key can sweep the temp file a killed writer left behind.
    /// There is one writer per key at a time (one shipper per block), so no live temp is removed.
    private static func tempPrefix(of target: String) -> String {
        ObjectKey.tempPrefix + target[target.index(after: target.lastIndex(of: "/")!)...] + "."
    }

    private func removeStaleTemps(of target: String) {
        let dir = Posix.dirname(target)
        let prefix = Self.tempPrefix(of: target)
        for entry in (try? Posix.entries(dir)) ?? [] where !entry.isDirectory && entry.name.hasPrefix(prefix) {
            unlink(dir + "/" + entry.name)
        }
    }

    private func path(of key: String) -> String { directory + "/" + key }

    /// Removes the directories above `path` that are empty, up to (not including) the root, so
    /// listings show no "directory" without objects, as on S3. rmdir only removes empty ones; an
    /// upload racing with it retries its mkdir (see `writeAtomically`).
    private func removeEmptyParents(of path: String) {
        var dir = Posix.dirname(path)
        while dir.utf8.count > directory.utf8.count && rmdir(dir) == 0 {
            dir = Posix.dirname(dir)
        }
    }
}

/// A failed OS call on the bucket, in the form "<op> <key>: <reason>".
func osError(_ op: String, _ key: String, _ error: Errno) -> SkiffError {
    SkiffError(.bucket, "\(op) \(key): \(error.reason)", transient: error.isTransient)
}
