import ConfigYAML
import Crypto
import FileIO
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reloader's file work, each call blocking (run it through `Blocking.run`): reading and
/// hashing the config and the rule dirs as Thanos' `apply` does, and rendering the output file.
enum ReloadInputs {
    /// The most a config file may hold (big scrape configs reach a few MB).
    static let configLimit = 64 << 20
    /// The most a gunzipped config may hold: a small .gz that inflates past this is refused.
    static let renderedLimit = 256 << 20

    static func readConfig(_ path: String) throws(SkiffError) -> [UInt8] {
        do throws(Errno) {
            return try Posix.readRegularFile(path, maxBytes: configLimit)
        } catch {
            throw SkiffError(.io, "--reloader.config-file: \(error.message); check the path and its permissions")
        }
    }

    /// Thanos' `hashFile`: 0xFF, the path as given, 0xFF, then the bytes.
    static func hash(path: String, bytes: [UInt8], into hasher: inout SHA256) {
        hashName(path, into: &hasher)
        hasher.update(data: bytes)
    }

    /// What precedes a file's bytes in the hash: the name, fenced by 0xFF bytes.
    private static func hashName(_ path: String, into hasher: inout SHA256) {
        hasher.update(data: [UInt8(0xff)])
        hasher.update(data: Array(path.utf8))
        hasher.update(data: [UInt8(0xff)])
    }

    /// The output file's bytes: gunzipped when the input is gzip (by its magic, as Thanos
    /// decides), then with every `$(VAR)` replaced. `unset` is told when a variable is missing.
    static func render(
        _ bytes: [UInt8], path: String, environment: [String: String], unset: () -> Void
    ) throws(SkiffError) -> [UInt8] {
        var plain = bytes
        if Gunzip.isGzip(bytes) {
            do throws(Gunzip.Failure) {
                plain = try Gunzip.decompress(bytes, maxOutput: renderedLimit)
            } catch {
                throw SkiffError(.invalidArgument, "--reloader.config-file \(path): cannot gunzip it: \(error.reason)")
            }
        }
        // Prometheus reads configs as UTF-8 YAML, so text that is not UTF-8 would be refused
        // there anyway; refusing it here keeps the substitution from altering any byte.
        guard let text = String(validating: plain, as: UTF8.self) else {
            throw SkiffError(
                .invalidArgument, "--reloader.config-file \(path): is not UTF-8 text; Prometheus configs are UTF-8 YAML")
        }
        do throws(SkiffError) {
            return Array(try substituteEnvironment(text, environment, source: "--reloader.config-file \(path)").utf8)
        } catch {
            unset()
            throw error
        }
    }

    /// Replaces `path` atomically (temp `<path>.tmp`, as Thanos names it), unless it already holds
    /// exactly `bytes`: the periodic re-check then writes nothing.
    static func writeOutput(_ bytes: [UInt8], to path: String) throws(SkiffError) {
        do throws(Errno) {
            if try Posix.statusIfPresent(path)?.kind == .file, (try? Posix.readAll(path, maxBytes: renderedLimit)) == bytes {
                return
            }
            try AtomicFile.write(bytes, to: path, temp: path + ".tmp")
        } catch {
            throw SkiffError(
                .io, "--reloader.config-envsubst-file: \(error.message); check that its directory exists and is writable")
        }
    }

    /// One SHA-256 over every file under the rule dirs, nil without rule dirs. As Thanos: each dir
    /// with its symlinks resolved, walked recursively in byte order of names; each entry
    /// `stat`ed, so a symlinked file (a Kubernetes ConfigMap's) is hashed with its target's bytes;
    /// directories are descended only when really directories (a symlink to a dir is skipped).
    static func hashDirectories(_ dirs: [String]) throws(SkiffError) -> [UInt8]? {
        guard !dirs.isEmpty else { return nil }
        var hasher = SHA256()
        for dir in dirs {
            guard let root = Posix.realPath(dir) else {
                throw SkiffError(.io, "--reloader.rule-dir \(dir): cannot resolve it (missing, or a broken symlink); create it")
            }
            do throws(Errno) {
                try walk(root, into: &hasher)
            } catch {
                throw SkiffError(.io, "--reloader.rule-dir \(dir): \(error.message)")
            }
        }
        return Array(hasher.finalize())
    }

    /// Go's `filepath.Walk` order: a directory, then its entries sorted by name bytes, depth first.
    private static func walk(_ root: String, into hasher: inout SHA256) throws(Errno) {
        var pending = [root]
        while let path = pending.popLast() {
            let link = try Posix.linkStatus(path)
            let target = try Posix.status(path)
            guard target.kind == .directory else {
                try hashFile(path, into: &hasher)
                continue
            }
            guard link.kind == .directory else { continue }
            let names = try Posix.list(path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            pending.append(contentsOf: names.reversed().map { Posix.join(path, $0) })
        }
    }

    /// Streams a file into the hash (0xFF, path, 0xFF, bytes); a FIFO or device is refused, not read.
    private static func hashFile(_ path: String, into hasher: inout SHA256) throws(Errno) {
        let (fd, _) = try Posix.openRegularFile(path)
        defer { close(fd) }
        hashName(path, into: &hasher)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try Posix.readSome(fd, into: buffer, path: path)
            if n == 0 { return }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}
