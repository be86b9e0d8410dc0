import FileIO
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A finished Prometheus block dir whose meta.json parsed.
public struct LocalBlock: Sendable, Equatable {
    /// The block dir's path (as found under the TSDB path; may be a symlink).
    public let dir: String
    public let meta: BlockMeta

    public init(dir: String, meta: BlockMeta) {
        self.dir = dir
        self.meta = meta
    }
}

/// One entry found by a scan.
public enum ScannedBlock: Sendable {
    case readable(LocalBlock)
    /// The dir is a finished block (it has meta.json) but meta.json cannot be read or parsed.
    case unreadable(ulid: ULID, dir: String, error: SkiffError)

    public var ulid: ULID {
        switch self {
        case .readable(let block): block.meta.ulid
        case .unreadable(let ulid, _, _): ulid
        }
    }
}

/// Lists the blocks in a Prometheus data dir the way Thanos' shipper does.
public struct BlockScanner: Sendable {
    public let tsdbPath: String

    /// Checks that `tsdbPath` is an existing, readable directory.
    public init(tsdbPath: String) throws(SkiffError) {
        let what = "--tsdb.path \(tsdbPath)"
        let fix = "point it at the Prometheus data directory (the one holding wal/ and the block dirs)"
        let status: Posix.Status
        do {
            status = try Posix.status(tsdbPath)
        } catch {
            if error.vanished { throw SkiffError(.invalidArgument, "\(what) does not exist; \(fix)") }
            throw SkiffError(.invalidArgument, "\(what) cannot be accessed (\(error.reason)); \(fix)")
        }
        guard status.kind == .directory else { throw SkiffError(.invalidArgument, "\(what) is not a directory; \(fix)") }
        guard access(tsdbPath, R_OK | X_OK) == 0 else {
            throw SkiffError(
                .invalidArgument,
                "\(what) is not readable by this user (uid \(getuid())); run skiff as the Prometheus user "
                    + "or grant it read access")
        }
        self.tsdbPath = tsdbPath
    }

    /// The blocks, oldest first: readable ones by (minTime, ULID); unreadable ones placed among
    /// them by their ULID's creation time, since their minTime is unknown.
    ///
    /// Only dirs directly under the TSDB path whose name is a ULID count, so `wal`, `chunks_head`,
    /// `thanos`, `lock` and `<ULID>.tmp-for-creation` are ignored. A ULID dir without meta.json
    /// is skipped too: Prometheus renames a finished block into place with its meta.json, so such
    /// a dir is being deleted (or is not a block) and is not ours to judge.
    public func scan() throws(SkiffError) -> [ScannedBlock] {
        let names: [String]
        do {
            names = try Posix.list(tsdbPath)
        } catch {
            throw SkiffError(.io, "cannot list --tsdb.path \(tsdbPath): \(error.reason)")
        }
        var found: [(key: Int64, ulid: ULID, entry: ScannedBlock)] = []
        for name in names {
            guard let ulid = ULID(name) else { continue }
            let dir = Posix.join(tsdbPath, name)
            // stat follows symlinks: a symlinked block dir counts, as in Thanos.
            guard let status = try? Posix.status(dir), status.kind == .directory else { continue }
            guard let entry = Self.read(dir: dir, name: name, ulid: ulid) else { continue }
            switch entry {
            case .readable(let block): found.append((block.meta.minTime, ulid, entry))
            case .unreadable: found.append((ulid.timestampMillis, ulid, entry))
            }
        }
        found.sort { ($0.key, $0.ulid) < ($1.key, $1.ulid) }
        return found.map(\.entry)
    }

    /// The newest modification time (Unix ms) among a block dir, its meta.json, index, tombstones,
    /// chunks dir and chunk files; nil when the dir is gone. Only `lstat`, never an open, so a FIFO
    /// or device cannot block it. An operator's fix (a rewritten meta.json, a file put back, a
    /// FIFO replaced) changes one of these, which lets a quarantined block be retried at once.
    public static func lastModified(dir: String) -> Int64? {
        guard let top = try? Posix.status(dir) else { return nil }
        var newest = top.modifiedMillis
        let chunks = Posix.join(dir, "chunks")
        var paths = ["meta.json", "index", "tombstones", "chunks"].map { Posix.join(dir, $0) }
        paths += ((try? Posix.list(chunks)) ?? []).prefix(100_000).map { Posix.join(chunks, $0) }
        for path in paths {
            if let status = try? Posix.linkStatus(path) { newest = max(newest, status.modifiedMillis) }
        }
        return newest
    }

    /// nil when the dir has no meta.json (not a finished block, or vanished meanwhile).
    private static func read(dir: String, name: String, ulid: ULID) -> ScannedBlock? {
        let path = Posix.join(dir, "meta.json")
        let quarantine = "; the block is not uploaded until it is fixed or moved out of the data dir"
        let bytes: [UInt8]
        do {
            // Only a regular file, opened without blocking: a FIFO here would hang every pass.
            bytes = try Posix.readRegularFile(path, maxBytes: BlockMeta.maxBytes, followSymlinks: false)
        } catch {
            if error.vanished { return nil }
            let reason =
                error.code == EFBIG
                ? "it is larger than \(BlockMeta.maxBytes >> 20) MiB, far more than any block's meta.json" : error.reason
            let failure = SkiffError(
                .corruptBlock, "block \(name): cannot read \(path) (\(reason))\(quarantine)", transient: false)
            return .unreadable(ulid: ulid, dir: dir, error: failure)
        }
        do {
            return .readable(LocalBlock(dir: dir, meta: try BlockMeta(json: bytes, dirName: name)))
        } catch {
            let failure = SkiffError(.corruptBlock, "block \(name): \(error.message)\(quarantine)", transient: false)
            return .unreadable(ulid: ulid, dir: dir, error: failure)
        }
    }
}
