import BlockingWork
import FileIO
import SkiffCore
import TSDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A block dir being downloaded into: what is already there, and the few writes besides the
/// files' own (see `FileFetch`). The methods that block run on the blocking pool.
struct LocalBlockDir: Sendable {
    let path: String

    func target(_ relPath: String) -> String { path + "/" + relPath }

    /// `.skiff-part-<name>` beside the final name.
    func temp(_ relPath: String) -> String {
        let target = target(relPath)
        let slash = target.lastIndex(of: "/")!
        return String(target[...slash]) + BlockDownloader.tempPrefix + target[target.index(after: slash)...]
    }

    /// The block dir and its `chunks/` (Prometheus needs the dir even for a block without chunks).
    func create() throws(SkiffError) {
        do throws(Errno) { try Posix.makeDirectories(path + "/chunks") } catch {
            throw SkiffError(.io, "create \(path)/chunks: \(error.reason)", transient: false)
        }
    }

    /// Whether the file is there, a regular file with its recorded size and SHA-256 (only then
    /// is it skipped). Anything else (absent, another size, a symlink, unreadable) is fetched again.
    func hasFile(_ file: BlockMeta.File) async throws(SkiffError) -> Bool {
        let path = target(file.relPath)
        return try await Blocking.run { () -> Bool in
            guard let status = try? Posix.linkStatus(path), status.kind == .file, status.size == file.sizeBytes else {
                return false
            }
            guard let digest = try? FileDigest.sha256(of: path) else { return false }
            return digest.size == file.sizeBytes && digest.sha256 == file.sha256.lowercased()
        }
    }

    /// Whether the local meta.json holds exactly these bytes.
    func hasMeta(_ bytes: [UInt8]) async throws(SkiffError) -> Bool {
        let path = target("meta.json")
        return try await Blocking.run { () -> Bool in
            (try? Posix.readRegularFile(path, maxBytes: bytes.count + 1, followSymlinks: false)) == bytes
        }
    }

    func removeMeta() throws(SkiffError) {
        let meta = target("meta.json")
        guard unlink(meta) == 0 || errno == ENOENT else {
            throw SkiffError(.io, "remove \(meta): \(Errno.current().reason)", transient: false)
        }
        do throws(Errno) { try Posix.fsyncDirectory(path) } catch {
            throw SkiffError(.io, "fsync \(path): \(error.reason)", transient: false)
        }
    }

    /// meta.json, atomically and durably, after every other file is in place.
    func writeMeta(_ bytes: [UInt8]) throws(SkiffError) {
        do throws(Errno) { try AtomicFile.write(bytes, to: target("meta.json"), temp: temp("meta.json")) } catch {
            throw SkiffError(.io, "write \(target("meta.json")): \(error.reason)", transient: false)
        }
    }
}
