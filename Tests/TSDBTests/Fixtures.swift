import Foundation
import SkiffCore
import TSDB
import TestSupport

/// A temp TSDB dir holding real promtool blocks.
struct TSDBFixture {
    let tmp: TempDir
    let tsdb: String
    let blockDirs: [String]

    /// 5 series × 6 h × 60 s gives 3 or 4 small blocks in about a second.
    init(series: Int = 5, hours: Double = 6, endMillis: Int64? = nil) async throws {
        tmp = try TempDir()
        tsdb = tmp.sub("tsdb")
        blockDirs = try await PromBlocks.make(series: series, hours: hours, stepSeconds: 60, endMillis: endMillis, into: tsdb)
    }

    func scanReadable() throws -> [LocalBlock] {
        try BlockScanner(tsdbPath: tsdb).scan().compactMap {
            if case .readable(let block) = $0 { block } else { nil }
        }
    }

    /// The first block as a LocalBlock.
    func firstBlock() throws -> LocalBlock {
        let dir = blockDirs[0]
        let name = URL(fileURLWithPath: dir).lastPathComponent
        return LocalBlock(dir: dir, meta: try BlockMeta(json: try bytes(dir + "/meta.json"), dirName: name))
    }

    /// A copy of the first block in a fresh TSDB dir, so a test can damage it freely.
    func damageableCopy() throws -> (tsdb: String, block: LocalBlock) {
        let original = try firstBlock()
        let tsdb = tmp.sub("damaged")
        try FileManager.default.createDirectory(atPath: tsdb, withIntermediateDirectories: true)
        let dir = tsdb + "/" + original.meta.ulid.string
        try FileManager.default.copyItem(atPath: original.dir, toPath: dir)
        return (tsdb, LocalBlock(dir: dir, meta: original.meta))
    }
}

func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

func write(_ bytes: [UInt8], to path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

func mkdirs(_ path: String) throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }

func truncateFile(_ path: String, by count: Int) throws {
    let size = try bytes(path).count
    guard truncate(path, off_t(size - count)) == 0 else { throw SkiffError(.io, "truncate \(path)") }
}

/// inode and mtime (ns) of a path.
func inodeAndMtime(_ path: String) -> (inode: UInt64, mtime: Int) {
    var st = stat()
    precondition(stat(path, &st) == 0, "stat \(path)")
    return (UInt64(st.st_ino), st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec)
}

/// Every file under `dir` with its bytes and mtime, to prove nothing changed.
func snapshot(_ dir: String) throws -> [String: ([UInt8], Int)] {
    var result: [String: ([UInt8], Int)] = [:]
    for rel in try FileManager.default.subpathsOfDirectory(atPath: dir) {
        var isDir: ObjCBool = false
        let path = dir + "/" + rel
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
        result[rel] = (try bytes(path), inodeAndMtime(path).mtime)
    }
    return result
}

func sameSnapshot(_ a: [String: ([UInt8], Int)], _ b: [String: ([UInt8], Int)]) -> Bool {
    a.count == b.count && a.allSatisfy { key, value in b[key].map { $0.0 == value.0 && $0.1 == value.1 } ?? false }
}

/// `/usr/bin/sha256sum <path>`'s hex digest (coreutils: on every machine, so no trait).
func sha256sum(_ path: String) async throws -> String {
    String(try await ExternalProgram.run(atPath: "/usr/bin/sha256sum", [path]).stdout.prefix(64))
}

/// The SkiffError thrown by `body`, or nil if it did not throw one.
func skiffError(_ body: () throws -> Void) -> SkiffError? {
    do {
        try body()
        return nil
    } catch let error as SkiffError {
        return error
    } catch {
        return nil
    }
}
