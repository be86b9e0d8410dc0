import Foundation
import GRDB
import SkiffCore
import TestSupport
import Testing

@testable import Ledger

/// What `Ledger.open` and `LedgerPath` make of every kind of thing at a ledger path, on real
/// files, devices and FIFOs.
@Suite struct LedgerPathTests {
    static let block = "01M88KSQB7NPRR96QBQPG346H2"

    /// A data dir shaped as Prometheus leaves it: a block dir with meta.json, wal/ with a segment.
    func dataDir(_ tmp: TempDir) throws -> String {
        let data = tmp.sub("data")
        try FileManager.default.createDirectory(atPath: "\(data)/\(Self.block)/chunks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(data)/wal", withIntermediateDirectories: true)
        for (rel, bytes) in [
            ("\(Self.block)/meta.json", "{}"), ("\(Self.block)/index", "\u{BA}\u{AA}\u{D7}"), ("wal/00000000", ""),
        ] {
            try Data(bytes.utf8).write(to: URL(fileURLWithPath: "\(data)/\(rel)"))
        }
        return data
    }

    func refusal(_ body: () throws(SkiffError) -> Void) -> String {
        do throws(SkiffError) {
            try body()
            return "(accepted)"
        } catch { return error.message }
    }

    @Test func prometheusPlacesAreRefusedAndNothingIsCreatedThere() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let data = try dataDir(tmp)
        for path in [
            "\(data)/\(Self.block)/index", "\(data)/\(Self.block)/new.db", "\(data)/\(Self.block)/chunks/x.db",
            "\(data)/\(Self.block).tmp-for-creation/l.db", "\(data)/wal/l.db", "\(data)/lock",
            "\(data)/thanos/upload/\(Self.block)/l.db",
        ] {
            for readOnly in [false, true] {
                let message = refusal { () throws(SkiffError) in _ = try Ledger.open(path: path, readOnly: readOnly) }
                #expect(message.contains(path) && message.contains("skiff never writes there"), "\(path): \(message)")
            }
        }
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: "\(data)/\(Self.block)").sorted() == [
                "chunks", "index", "meta.json",
            ])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(data)/wal") == ["00000000"])
        // Not every dir called wal, nor every hash-named dir, is Prometheus'.
        let elsewhere = tmp.sub("wal/0123456789abcdef0123456789/ledger.db")
        _ = try Ledger.open(path: elsewhere)
        _ = try Ledger.open(path: "\(data)/thanos/skiff-ledger.db")
    }

    @Test func aSymlinkIsJudgedByWhereItLeads() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let data = try dataDir(tmp)
        try FileManager.default.createDirectory(atPath: "\(data)/thanos", withIntermediateDirectories: true)
        let link = "\(data)/thanos/skiff-ledger.db"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "../\(Self.block)/new.db")
        let message = refusal { () throws(SkiffError) in _ = try Ledger.open(path: link) }
        #expect(message.contains("resolves to \(tmp.path)") && message.contains("inside the block dir"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: "\(data)/\(Self.block)/new.db"))
        try FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "../gone/x.db")
        let dangling = refusal { () throws(SkiffError) in _ = try Ledger.open(path: link) }
        #expect(dangling.contains("symlink to ../gone/x.db, which does not exist"), "\(dangling)")
    }

    @Test func specialFilesAreRefusedWithoutOpeningThem() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let fifo = tmp.sub("l.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        try FileManager.default.createDirectory(atPath: tmp.sub("dir.db"), withIntermediateDirectories: true)
        for (path, kind) in [(fifo, "is a FIFO"), ("/dev/null", "is a character device"), (tmp.sub("dir.db"), "is a directory")] {
            for readOnly in [false, true] {
                let message = refusal { () throws(SkiffError) in _ = try Ledger.open(path: path, readOnly: readOnly) }
                #expect(message.contains(path) && message.contains(kind), "\(message)")
            }
        }
    }

    @Test func anEmptyFileIsALostHistoryButNotForARebuild() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("ledger.db")
        FileManager.default.createFile(atPath: path, contents: Data())
        for readOnly in [false, true] {
            let message = refusal { () throws(SkiffError) in _ = try Ledger.open(path: path, readOnly: readOnly) }
            #expect(message.contains("is empty (0 bytes)") && message.contains("skiff ledger rebuild"), "\(message)")
        }
        #expect(FileManager.default.contents(atPath: path)?.count == 0)
        #expect(try LedgerPath.check(path, for: .replace) == .empty)
    }

    @Test func aFileThatIsNotSQLiteIsNotCalledDamaged() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("ledger.db")
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let message = refusal { () throws(SkiffError) in _ = try Ledger.open(path: path) }
        #expect(message.contains("is not a SQLite database") && !message.contains("is damaged"), "\(message)")
        #expect(message.contains("\"ZZZZZZZZZZZZZZZZ\""), "\(message)")
    }

    @Test func anotherProgramsDatabaseIsLeftAlone() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("grafana.db")
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in try db.execute(sql: "CREATE TABLE dashboard (id INTEGER, title TEXT)") }
        try queue.close()
        for readOnly in [false, true] {
            let message = refusal { () throws(SkiffError) in _ = try Ledger.open(path: path, readOnly: readOnly) }
            #expect(message.contains("not a skiff ledger") && message.contains("dashboard"), "\(message)")
        }
        #expect(Ledger.foreignTables(path: path) == "the table(s) dashboard")
        let after = try DatabaseQueue(path: path)
        let tables = try await after.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        #expect(tables == ["dashboard"])
    }

    @Test func aNewLedgerAppearsWholeWithNoScratchLeft() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("l/ledger.db")
        let ledger = try Ledger.open(path: path)
        #expect(try await ledger.appliedMigrations() == embeddedMigrations.map(\.name))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.sub("l")).filter { $0.contains(".creating-") }.isEmpty)
        try ledger.close()
        let wal = FileManager.default.contents(atPath: path + "-wal") ?? Data()
        #expect(wal.isEmpty, "closing folds the WAL into the file")
    }

    @Test func installKeepsTheOldLedgerUnderASecondName() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("ledger.db")
        let old = try Ledger.open(path: path)
        try await old.insertBlock(
            BlockSummary(LedgerTests.meta), machine: .initial(ignored: false), reason: nil, at: 1)
        try old.close()
        let oldBytes = FileManager.default.contents(atPath: path)
        let scratch = LedgerFile.scratchPath(for: path, stamp: "T1")
        try Ledger.open(path: scratch).close()
        let kept = try LedgerFile.install(scratch, at: path, stamp: "T1")
        #expect(kept == path + ".broken-T1" && FileManager.default.contents(atPath: kept!) == oldBytes)
        #expect(try await Ledger.open(path: path, readOnly: true).blocks().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: scratch))
    }

    @Test func aHandEditedRowIsExplained() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("ledger.db")
        try Ledger.open(path: path).close()
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO blocks (ulid, min_time, max_time, level, num_samples, num_series, num_chunks, state,
                                        discovered_at, updated_at) VALUES ('garbage', 1, 2, 1, 1, 1, 1, 'discovered', 1, 1)
                    """)
        }
        try queue.close()
        let ledger = try Ledger.open(path: path, readOnly: true)
        do {
            _ = try await ledger.blocks()
            Issue.record("a row with a bad ULID was accepted")
        } catch {
            #expect(error.message.contains("garbage is not a ULID") && error.message.contains("edited by hand"), "\(error)")
            #expect(!error.message.contains("corruptRow"), "\(error)")
        }
    }
}
