import FileIO
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file of a block in its staging dir, ready to hash and upload.
public struct StagedFile: Sendable, Equatable {
    public let ulid: ULID
    /// The object name under the block, as in `thanos.files`: "chunks/000001" or "index".
    public let relPath: String
    /// Absolute path in the staging dir.
    public let path: String
    public let size: Int64

    public init(ulid: ULID, relPath: String, path: String, size: Int64) {
        self.ulid = ulid
        self.relPath = relPath
        self.path = path
        self.size = size
    }
}

/// Stages blocks under `<tsdb>/thanos/upload/<ULID>` as Thanos' shipper does: hard links to the
/// block's files, so they stay readable even if Prometheus deletes the block mid-upload, and a
/// meta.json of our own. Nothing outside `<tsdb>/thanos/` is ever modified or deleted.
public struct Stager: Sendable {
    public let tsdbPath: String
    /// `<tsdb>/thanos/upload`.
    public let root: String
    /// What `hash` saw of each file, for the upload to copy without hashing again.
    public let hashed = HashedFiles()

    public init(tsdbPath: String) {
        self.tsdbPath = tsdbPath
        root = Posix.join(Posix.join(tsdbPath, "thanos"), "upload")
    }

    /// The staging dir of a block.
    public func stagingDir(_ ulid: ULID) -> String { Posix.join(root, ulid.string) }

    /// Checks the block (cheap checks), replaces any previous staging dir, and hard-links (or
    /// copies, where links are impossible) `chunks/*` and `index` into it. Tombstones are not
    /// shipped, as in Thanos; meta.json is written later by `writeMeta`. Sorted by relPath.
    public func stage(_ block: LocalBlock) throws(SkiffError) -> [StagedFile] {
        guard (try? Posix.exists(block.dir)) != false else { throw BlockChecker.vanished(block) }
        let segments = try BlockChecker.check(block)
        let ulid = block.meta.ulid
        let dir = stagingDir(ulid)
        hashed.forget(ulid)
        try checkRoot()
        do throws(Errno) {
            try Posix.removeTree(dir)
            // One level at a time from <tsdb>/thanos down: never create anything above it.
            let thanos = Posix.dirname(root)
            for path in [thanos, root, dir, Posix.join(dir, "chunks")] {
                guard mkdir(path, 0o750) == 0 || errno == EEXIST else { throw Errno.current("mkdir \(path)") }
            }
        } catch {
            throw SkiffError(
                .io, "cannot prepare staging dir \(dir): \(error.message); check that \(tsdbPath)/thanos is writable")
        }
        var files: [StagedFile] = []
        for rel in segments.map({ "chunks/" + $0 }) + ["index"] {
            let source = Posix.join(block.dir, rel)
            let target = Posix.join(dir, rel)
            do {
                try Self.linkOrCopy(source, target)
                files.append(StagedFile(ulid: ulid, relPath: rel, path: target, size: try Posix.status(target).size))
            } catch {
                throw BlockChecker.classify(error, block, missing: "lost \(rel) while it was being staged")
            }
        }
        do throws(Errno) {
            // Make the staged names durable: after a power loss a resumed run must not find half a dir.
            try Posix.fsyncDirectory(Posix.join(dir, "chunks"))
            try Posix.fsyncDirectory(dir)
        } catch {
            throw SkiffError(.io, "cannot sync staging dir \(dir): \(error.message)")
        }
        return files.sorted { $0.relPath < $1.relPath }
    }

    /// SHA-256 and size of each staged file, one after the other (the shipper hashes files in
    /// parallel with `hash(_:partSize:)` and `checkChunkCount`; this is the same, sequentially).
    public func hash(_ files: [StagedFile], expectedChunks: Int64? = nil) throws(SkiffError) -> [BlockMeta.File] {
        var digests: [FileDigest.Digest] = []
        for file in files { digests.append(try hash(file)) }
        try Self.checkChunkCount(files, digests, expected: expectedChunks)
        return Self.metaFiles(files, digests)
    }

    /// SHA-256 and size of one staged file, checking the chunk framing of a segment as it reads.
    /// With `partSize`, also each part's hash in the same read (see `HashedFile`). What the read
    /// proved goes to `hashed`, for the upload to send the file without hashing it again.
    public func hash(_ file: StagedFile, partSize: Int64? = nil) throws(SkiffError) -> FileDigest.Digest {
        let digest = try FileDigest.sha256(
            of: file.path, chunkSegment: file.relPath.hasPrefix("chunks/"), name: "block \(file.ulid) file \(file.relPath)",
            partSize: partSize)
        if let proof = digest.hashed { hashed.record(file.ulid, relPath: file.relPath, sha256: digest.sha256, hashed: proof) }
        return digest
    }

    /// With `expected` (meta.json `stats.numChunks`), the chunks found in the segments must add
    /// up to it: that also catches a segment cut exactly between two chunks, which framing alone
    /// cannot see.
    public static func checkChunkCount(
        _ files: [StagedFile], _ digests: [FileDigest.Digest], expected: Int64?
    ) throws(SkiffError) {
        let chunks = digests.reduce(Int64(0)) { $0 + Int64($1.chunks ?? 0) }
        if let expected, expected != chunks, let ulid = files.first?.ulid {
            throw SkiffError(
                .corruptBlock,
                "block \(ulid) has \(chunks) chunks in its segment files but meta.json counts \(expected) "
                    + "(a truncated or damaged chunks file); the block will not be uploaded: "
                    + "check it with `promtool tsdb analyze` and move it out of the data dir",
                transient: false)
        }
    }

    /// The `thanos.files` entries of hashed files.
    public static func metaFiles(_ files: [StagedFile], _ digests: [FileDigest.Digest]) -> [BlockMeta.File] {
        zip(files, digests).map { BlockMeta.File(relPath: $0.relPath, sizeBytes: $1.size, sha256: $1.sha256) }
    }

    /// Writes `<staging>/meta.json` durably by temp file and rename, so it never writes through
    /// a link into Prometheus' own meta.json.
    public func writeMeta(_ bytes: [UInt8], for ulid: ULID) throws(SkiffError) {
        let dir = stagingDir(ulid)
        guard (try? Posix.status(dir))?.kind == .directory else {
            throw SkiffError(.io, "staging dir \(dir) does not exist; the block must be staged before its meta.json is written")
        }
        try DurableFile.write(bytes, to: Posix.join(dir, "meta.json"))
    }

    /// The staged files of a block, so a restarted process can carry on from staging; nil when
    /// there is no complete staging dir (no index or no chunks dir), and the block must be staged again.
    public func stagedFiles(for ulid: ULID) -> [StagedFile]? {
        let dir = stagingDir(ulid)
        guard let names = try? Posix.list(Posix.join(dir, "chunks")),
            let index = try? Posix.status(Posix.join(dir, "index")), index.kind == .file
        else { return nil }
        var files = [StagedFile(ulid: ulid, relPath: "index", path: Posix.join(dir, "index"), size: index.size)]
        for name in names {
            let rel = "chunks/" + name
            let path = Posix.join(dir, rel)
            guard let status = try? Posix.status(path), status.kind == .file else { return nil }
            files.append(StagedFile(ulid: ulid, relPath: rel, path: path, size: status.size))
        }
        return files.sorted { $0.relPath < $1.relPath }
    }

    /// Removes a block's staging dir (links only: the block's own files are untouched).
    public func remove(_ ulid: ULID) throws(SkiffError) {
        hashed.forget(ulid)
        try checkRoot()
        do throws(Errno) {
            try Posix.removeTree(stagingDir(ulid))
        } catch {
            throw SkiffError(.io, "cannot remove staging dir of block \(ulid): \(error.message)")
        }
    }

    /// Blocks with a staging dir left over (by a crash or an unfinished upload), in ULID order.
    public func stagedBlocks() -> [ULID] {
        let names = (try? Posix.list(root)) ?? []
        return names.compactMap { name in
            guard let ulid = ULID(name), name == ulid.string,
                (try? Posix.status(Posix.join(root, name)))?.kind == .directory
            else { return nil }
            return ulid
        }.sorted()
    }

    /// Refuses a staging root that leads back into the data dir. With `thanos/upload` (or
    /// `thanos`) a symlink to the data dir, a block's staging dir would be the Prometheus block
    /// itself, and clearing it before staging would delete Prometheus' files. A root elsewhere
    /// (a symlink to another disk) is fine: files are then copied instead of linked.
    func checkRoot() throws(SkiffError) {
        guard let real = Posix.realPath(root) else { return }  // not made yet: stage makes real dirs
        let data = Posix.realPath(tsdbPath) ?? tsdbPath
        if real == Posix.join(Posix.join(data, "thanos"), "upload") { return }
        guard real != data, !real.hasPrefix(data + "/"), !data.hasPrefix(real + "/") else {
            throw SkiffError(
                .invalidArgument,
                "staging dir \(root) resolves to \(real), inside the data dir \(data) (a symlink?): staging there could "
                    + "delete Prometheus' files; make \(root) a plain directory or a link to another disk",
                transient: false)
        }
    }

    /// Hard link, or a copy where the file system cannot link (another device, no link support,
    /// too many links). The checks ran before, but the block's file may have been swapped since:
    /// the link is made without following a symlink and the linked inode must be a regular file,
    /// so nothing staged can block a reader (a FIFO) or lead out of the block (a symlink).
    static func linkOrCopy(_ source: String, _ target: String) throws(Errno) {
        if linkat(AT_FDCWD, source, AT_FDCWD, target, 0) == 0 {
            let linked = try Posix.linkStatus(target)
            guard linked.kind == .file else { throw Errno(code: EINVAL, what: source, notRegular: linked.typeName) }
            return
        }
        let failure = Errno.current("link \(source) to \(target)")
        guard [EXDEV, EPERM, ENOTSUP, EOPNOTSUPP, EMLINK].contains(failure.code) else { throw failure }
        try copy(source, target)
    }

    static func copy(_ source: String, _ target: String) throws(Errno) {
        let input = try Posix.openRegularFile(source, followSymlinks: false).fd
        defer { close(input) }
        let output = try Posix.openFile(target, O_WRONLY | O_CREAT | O_EXCL, mode: 0o640)
        defer { close(output) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FileDigest.bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = try Posix.readSome(input, into: buffer, path: source)
            if n == 0 { break }
            try Posix.writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: target)
        }
        try Posix.sync(output, path: target)
    }
}
