import FileIO
import PromWire
import SkiffCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Cheap integrity checks of a block dir, run before staging: the files a Thanos block must have,
/// their magic numbers, and the index's table of contents. Reads a few bytes per file, never a
/// full parse. (Chunk truncation is caught later, by the framing walk while hashing.)
public enum BlockChecker {
    static let indexMagic: [UInt8] = [0xBA, 0xAA, 0xD7, 0x00]
    /// The index ends with 6 big-endian uint64 section offsets and a CRC32C of those 48 bytes.
    static let tocSize = 6 * 8 + 4

    /// Checks `block` and returns its chunk segment names ("000001", ...) in order.
    /// Missing or malformed files are `.corruptBlock`; a block dir that disappeared is `.blockVanished`.
    @discardableResult
    public static func check(_ block: LocalBlock) throws(SkiffError) -> [String] {
        let segments = try checkChunks(block)
        try checkIndex(block)
        try checkTombstones(block)
        return segments
    }

    /// Tombstones are not shipped (as in Thanos) and never opened, but a block whose tombstones
    /// is a FIFO, device or dir is not one Prometheus wrote: it is quarantined like the others.
    static func checkTombstones(_ block: LocalBlock) throws(SkiffError) {
        _ = try regularFile(block, "tombstones", missing: nil)  // optional: older blocks have none
    }

    /// `lstat` of one of the block's files, which must be a regular file (not a symlink);
    /// nil when it is absent and `missing` is nil (an optional file), else absence is an error.
    static func regularFile(_ block: LocalBlock, _ name: String, missing: String?) throws(SkiffError) -> Posix.Status? {
        let path = Posix.join(block.dir, name)
        let status: Posix.Status
        do {
            status = try Posix.linkStatus(path)
        } catch {
            if error.vanished, missing == nil, (try? Posix.exists(block.dir)) != false { return nil }
            throw classify(error, block, missing: missing ?? "has no \(name)")
        }
        guard status.kind == .file else {
            throw classify(Errno(code: EINVAL, what: path, notRegular: status.typeName), block, missing: "")
        }
        return status
    }

    static func checkChunks(_ block: LocalBlock) throws(SkiffError) -> [String] {
        let dir = Posix.join(block.dir, "chunks")
        let names: [String]
        do throws(Errno) {
            guard try Posix.status(dir).kind == .directory else { throw Errno(code: ENOTDIR, what: dir) }
            names = try Posix.list(dir)
        } catch {
            throw classify(error, block, missing: "has no chunks dir")
        }
        var numbers: [Int] = []
        for name in names {
            // Prometheus names segments with %06d: exactly that and nothing else belongs here.
            guard let n = Int(name), n > 0, name == pad6(n) else {
                throw corrupt(
                    block, "has an unexpected file chunks/\(name) (only segment files 000001, 000002, ... belong there)")
            }
            numbers.append(n)
        }
        numbers.sort()
        for (i, n) in numbers.enumerated() where n != i + 1 {
            throw corrupt(
                block, "is missing chunk segment chunks/\(pad6(i + 1)) (found \(numbers.map(pad6).joined(separator: ", ")))")
        }
        if numbers.isEmpty && block.meta.numChunks > 0 {
            throw corrupt(block, "has no chunk segment files but meta.json counts \(block.meta.numChunks) chunks")
        }
        let segments = numbers.map(pad6)
        for name in segments {
            let rel = "chunks/\(name)"
            let head = try readHead(block, rel, count: ChunkFramingWalker.headerSize)
            guard head.count == ChunkFramingWalker.headerSize else {
                throw corrupt(block, "has \(rel) of \(head.count) bytes, shorter than the 8-byte segment header (truncated)")
            }
            guard Array(head.prefix(4)) == ChunkFramingWalker.magic, head[4] == ChunkFramingWalker.formatV1 else {
                throw corrupt(block, "has \(rel) without the chunk segment magic 85BD40DD01 (found \(Hex.lower(head.prefix(5))))")
            }
        }
        return segments
    }

    static func checkIndex(_ block: LocalBlock) throws(SkiffError) {
        guard let status = try regularFile(block, "index", missing: "has no index file") else { return }
        let size = status.size
        guard size >= Int64(5 + tocSize) else {
            throw corrupt(block, "has an index of \(size) bytes, too short to hold a header and table of contents (truncated)")
        }
        let head = try readHead(block, "index", count: 5)
        guard head.count == 5, Array(head.prefix(4)) == indexMagic else {
            throw corrupt(block, "has an index without the magic BAAAD700 (found \(Hex.lower(head.prefix(4))))")
        }
        guard head[4] == 1 || head[4] == 2 else { throw corrupt(block, "has an index of unknown version \(head[4])") }
        let toc = try readHead(block, "index", count: tocSize, at: size - Int64(tocSize))
        guard toc.count == tocSize else { throw corrupt(block, "has an index that shrank while being checked") }
        let stored = toc[48..<52].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard CRC32C.checksum(toc[0..<48]) == stored else {
            throw corrupt(block, "has an index whose table of contents fails its CRC32C (truncated or damaged index)")
        }
        // Every section lies before the TOC; an offset past it means a truncated or mangled file.
        for i in 0..<6 {
            let offset = toc[i * 8..<i * 8 + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard offset <= UInt64(size) - UInt64(tocSize) else {
                throw corrupt(block, "has an index whose table of contents points past its end (offset \(offset), size \(size))")
            }
        }
    }

    private static func readHead(
        _ block: LocalBlock, _ rel: String, count: Int, at offset: Int64 = 0
    ) throws(SkiffError)
        -> [UInt8]
    {
        do {
            // Never a FIFO or device (a FIFO would block the open forever), nor a symlink.
            return try Posix.readRegularAt(Posix.join(block.dir, rel), offset: offset, count: count, followSymlinks: false)
        } catch {
            throw classify(error, block, missing: "has no \(rel)")
        }
    }

    /// ENOENT means either Prometheus deleted the whole block (vanished) or one file is missing
    /// (corrupt). A file that is not a regular file, or that this user may not read, is no
    /// passing I/O trouble either: retrying at once cannot help, and it must not hold back newer
    /// blocks, so it is quarantined (`.corruptBlock`) with a message naming the file.
    static func classify(_ error: Errno, _ block: LocalBlock, missing: String) -> SkiffError {
        if error.vanished {
            if (try? Posix.exists(block.dir)) == false { return vanished(block) }
            return corrupt(block, missing)
        }
        if let kind = error.notRegular {
            return unreadable(
                block, "\(error.what.isEmpty ? "a file" : error.what) is \(kind), not a regular file",
                fix: "Prometheus writes only regular files in a block: put the real file back or move the block "
                    + "out of the data dir")
        }
        switch error.code {
        case EACCES, EPERM:
            return unreadable(
                block, error.message,
                fix: "give the user skiff runs as (uid \(getuid())) read access to the block, as Prometheus' own user has")
        case ELOOP, EISDIR, ENAMETOOLONG:
            return unreadable(block, error.message, fix: "move the block out of the data dir")
        default:
            return SkiffError(.io, "block \(block.meta.ulid): \(error.message)")
        }
    }

    /// A block that cannot be read as it is: quarantined, retried on the long backoff (or at once
    /// when its files change), never in the way of newer blocks.
    static func unreadable(_ block: LocalBlock, _ detail: String, fix: String) -> SkiffError {
        SkiffError(
            .corruptBlock,
            "block \(block.meta.ulid) cannot be read: \(detail); it is quarantined and will not be uploaded "
                + "until it is fixed: \(fix)",
            transient: false)
    }

    static func vanished(_ block: LocalBlock) -> SkiffError {
        SkiffError(.blockVanished, "block dir \(block.dir) is gone (deleted by retention or compaction)")
    }

    static func corrupt(_ block: LocalBlock, _ detail: String) -> SkiffError {
        SkiffError(
            .corruptBlock,
            "block \(block.meta.ulid) \(detail); the block is corrupt and will not be uploaded: "
                + "check it with `promtool tsdb analyze` and move it out of the data dir",
            transient: false)
    }

    static func pad6(_ n: Int) -> String {
        let s = String(n)
        return s.count >= 6 ? s : String(repeating: "0", count: 6 - s.count) + s
    }
}
