import Foundation
import SkiffCore
import TSDB
import TestSupport
import Testing

@Suite(.needs(.promtool)) struct BlockScannerTests {
    @Test func findsExactlyTheBlocksInOrderAndIgnoresEverythingElse() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        #expect(f.blockDirs.count >= 3)
        // Everything a Prometheus data dir holds besides finished blocks.
        for dir in ["wal", "chunks_head", "thanos/upload", "not-a-ulid", "01ARZ3NDEKTSV4RRFFQ69G5FAV.tmp-for-creation"] {
            try mkdirs(f.tsdb + "/" + dir)
        }
        try write(Array("{}".utf8), to: f.tsdb + "/01ARZ3NDEKTSV4RRFFQ69G5FAV.tmp-for-creation/meta.json")
        try mkdirs(f.tsdb + "/01BX5ZZKBKACTAV9WEVGEMMVRZ/chunks")  // a ULID dir without meta.json
        try write([], to: f.tsdb + "/lock")
        try write([], to: f.tsdb + "/01BX5ZZKBKACTAV9WEVGEMMVS0")  // a file named like a block
        let scanned = try BlockScanner(tsdbPath: f.tsdb).scan()
        let readable = try f.scanReadable()
        #expect(scanned.count == f.blockDirs.count)
        #expect(readable.map(\.dir) == f.blockDirs)  // promtool writes oldest first
        #expect(readable.map(\.meta.minTime) == readable.map(\.meta.minTime).sorted())
        #expect(readable.allSatisfy { $0.meta.level == 1 && $0.meta.numSamples > 0 })
    }

    /// Blocks created later (newer ULID) can hold older data: the order is minTime, not name.
    /// An unreadable block sorts by its ULID's creation time among them.
    @Test func sortsByMinTimeAndPlacesUnreadableByUlidTime() async throws {
        let nowMillis = Int64(Date().timeIntervalSince1970 * 1000)
        let future = try await TSDBFixture(hours: 4, endMillis: nowMillis + 48 * 3_600_000)
        defer { future.tmp.remove() }
        let past = try await PromBlocks.make(
            series: 5, hours: 4, stepSeconds: 60, endMillis: nowMillis - 24 * 3_600_000, into: future.tsdb)
        #expect(past.min()! > future.blockDirs.max()!)  // the past-data blocks have the newer names
        try write(Array("{".utf8), to: past[0] + "/meta.json")

        let scanned = try BlockScanner(tsdbPath: future.tsdb).scan()
        let dirs = scanned.map { entry -> String in
            switch entry {
            case .readable(let block): block.dir
            case .unreadable(_, let dir, _): dir
            }
        }
        #expect(dirs == Array(past.dropFirst()) + [past[0]] + future.blockDirs)
    }

    @Test func corruptMetaJSONIsUnreadableWithAClearMessage() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let name = URL(fileURLWithPath: f.blockDirs[1]).lastPathComponent
        try write(Array("{\"ulid\": ".utf8), to: f.blockDirs[1] + "/meta.json")
        let scanned = try BlockScanner(tsdbPath: f.tsdb).scan()
        let unreadable = scanned.compactMap { entry -> (ULID, String, SkiffError)? in
            if case .unreadable(let ulid, let dir, let error) = entry { (ulid, dir, error) } else { nil }
        }
        #expect(unreadable.count == 1)
        let (ulid, dir, error) = try #require(unreadable.first)
        #expect(ulid.string == name && dir == f.blockDirs[1])
        #expect(error.code == .corruptBlock)
        #expect(error.message.contains("block \(name)") && error.message.contains("meta.json is not valid JSON"))
        #expect(try f.scanReadable().count == f.blockDirs.count - 1)
    }

    @Test func version2MetaIsUnreadable() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let path = f.blockDirs[0] + "/meta.json"
        let text = String(decoding: try bytes(path), as: UTF8.self)
        #expect(text.contains("\"version\": 1"))
        try write(Array(text.replacingOccurrences(of: "\"version\": 1", with: "\"version\": 2").utf8), to: path)
        let scanned = try BlockScanner(tsdbPath: f.tsdb).scan()
        let errors = scanned.compactMap { entry -> SkiffError? in
            if case .unreadable(_, f.blockDirs[0], let error) = entry { error } else { nil }
        }
        #expect(scanned.count == f.blockDirs.count)
        #expect(errors.count == 1)
        #expect(errors.first?.code == .corruptBlock && errors.first?.message.contains("version 2") == true)
    }

    @Test func followsSymlinkedBlockDirs() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let name = URL(fileURLWithPath: f.blockDirs[0]).lastPathComponent
        let elsewhere = f.tmp.sub("elsewhere")
        try FileManager.default.moveItem(atPath: f.blockDirs[0], toPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: f.blockDirs[0], withDestinationPath: elsewhere)
        let readable = try f.scanReadable()
        #expect(readable.map(\.dir) == f.blockDirs)
        #expect(readable[0].meta.ulid.string == name)
    }

    @Test func rejectsAMissingOrNonDirectoryTSDBPath() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let missing = try #require(skiffError { _ = try BlockScanner(tsdbPath: tmp.sub("nope")) })
        #expect(missing.code == .invalidArgument)
        #expect(
            missing.message == "--tsdb.path \(tmp.sub("nope")) does not exist; point it at the Prometheus data "
                + "directory (the one holding wal/ and the block dirs)")
        try write([1], to: tmp.sub("file"))
        let notDir = try #require(skiffError { _ = try BlockScanner(tsdbPath: tmp.sub("file")) })
        #expect(notDir.code == .invalidArgument && notDir.message.contains("is not a directory"))
        #expect(try BlockScanner(tsdbPath: tmp.path).scan().isEmpty)
    }
}
