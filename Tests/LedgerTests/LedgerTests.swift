import Foundation
import GRDB
import SkiffCore
import TestSupport
import Testing

@testable import Ledger

@Suite struct LedgerTests {
    static let meta = try! BlockMeta(
        json: Array(
            #"{"ulid":"01M88KSQB7NPRR96QBQPG346H2","minTime":1000,"maxTime":2000,"stats":{"numSamples":10,"numSeries":2,"numChunks":2},"compaction":{"level":1},"version":1}"#
                .utf8))

    /// The embedded SQL must be byte-identical to Migrations/*.sql (run Tools/embed-migrations.sh).
    @Test func embeddedMigrationsMatchTheMigrationsDirectory() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let dir = root.appendingPathComponent("Migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.map { String($0.dropLast(4)) } == embeddedMigrations.map(\.name))
        for (file, embedded) in zip(files, embeddedMigrations) {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            #expect(text == embedded.sql, "\(file) differs from its embedded copy: run Tools/embed-migrations.sh")
        }
    }

    @Test func opensWithWALFullSyncAndForeignKeys() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let ledger = try Ledger.open(path: tmp.sub("l/ledger.db"))
        #expect(try await ledger.appliedMigrations() == embeddedMigrations.map(\.name))
        let queue = try DatabaseQueue(path: tmp.sub("l/ledger.db"))
        let mode = try await queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // Temp files (statement journals, sorts) stay in memory: a prometheus-operator pod can
        // write nowhere but the data dir.
        let tempStore = try await ledger.pool.read { try Int.fetchOne($0, sql: "PRAGMA temp_store") }
        #expect(tempStore == 2)
        let writerTempStore = try await ledger.pool.write { try Int.fetchOne($0, sql: "PRAGMA temp_store") }
        #expect(writerTempStore == 2)
        // Reopening is idempotent.
        _ = try Ledger.open(path: tmp.sub("l/ledger.db"))
    }

    @Test func recordsALifecycleAndItsHistory() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let ledger = try Ledger.open(path: tmp.sub("ledger.db"))
        let id = Self.meta.ulid
        var m = ShipStateMachine.initial(ignored: false)
        try await ledger.insertBlock(BlockSummary(Self.meta), machine: m, reason: nil, at: 1)
        let files = [
            BlockMeta.File(relPath: "chunks/000001", sizeBytes: 10, sha256: "aa"),
            .init(relPath: "index", sizeBytes: 5, sha256: "bb"),
        ]
        var t = try m.handle(.hashed)
        try await ledger.recordHashed(id, t, machine: m, files: files, metaJSON: [1, 2, 3], at: 2)
        try await ledger.recordFileUploaded(id, relPath: "chunks/000001", at: 3)
        t = try m.handle(.failed(quarantine: false, at: 4, jitter: 0))
        try await ledger.recordTransition(id, t, machine: m, at: 4, detail: "boom")
        let failed = try #require(try await ledger.block(id))
        #expect(failed.nextAttemptAt == m.persisted.nextAttemptAt && failed.nextAttemptAt! > 4)
        #expect(failed.resumeState == .hashed && !failed.quarantined)
        #expect(failed.machine.phase == m.phase)
        t = try m.handle(.retry)
        try await ledger.recordTransition(id, t, machine: m, at: 5)

        let block = try #require(try await ledger.block(id))
        #expect(block.machine.phase == .progress(.hashed) && block.nextAttemptAt == nil)
        #expect(block.state == .hashed)
        #expect(block.attempts == 1)
        #expect(block.lastError == "boom")
        #expect(block.uploadedBytes == 10)
        #expect(block.totalBytes == 15)
        #expect(block.metaJSON == [1, 2, 3])
        #expect(try await ledger.files(id).map(\.uploaded) == [true, false])
        let history = try await ledger.history(id)
        #expect(history.map(\.to) == [.discovered, .hashed, .failed, .hashed])
        #expect(history.map(\.attempt) == [1, 1, 1, 2])
        #expect(history[2].detail == "boom")
    }

    @Test func aTransitionFromTheWrongStateIsRefused() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let ledger = try Ledger.open(path: tmp.sub("ledger.db"))
        try await ledger.insertBlock(BlockSummary(Self.meta), machine: .initial(ignored: false), reason: nil, at: 1)
        var stale = ShipStateMachine(.progress(.hashed))
        let t = try stale.handle(.chunksUploaded)
        await #expect(throws: SkiffError.self) {
            try await ledger.recordTransition(Self.meta.ulid, t, machine: stale, at: 2)
        }
        #expect(try await ledger.history(Self.meta.ulid).count == 1)
    }

    @Test func transitionsAreAppendOnly() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("ledger.db")
        let ledger = try Ledger.open(path: path)
        try await ledger.insertBlock(BlockSummary(Self.meta), machine: .initial(ignored: false), reason: nil, at: 1)
        let queue = try DatabaseQueue(path: path)
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "UPDATE transitions SET at = 5") } }
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "DELETE FROM transitions") } }
    }

    @Test func refusesALedgerFromANewerSkiff() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("ledger.db")
        _ = try Ledger.open(path: path)
        let queue = try DatabaseQueue(path: path)
        try await queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('9999_from_the_future')") }
        #expect {
            try Ledger.open(path: path)
        } throws: { error in
            (error as? SkiffError)?.message.contains("newer skiff") == true
        }
    }

    @Test func refusesAFileThatIsNotSQLite() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("ledger.db")
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect {
            try Ledger.open(path: path)
        } throws: { error in
            let message = (error as? SkiffError)?.message ?? ""
            // Not SQLite, so not called a damaged ledger: `ledger rebuild` would refuse to move it (issue 17).
            return message.contains("is not a SQLite database") && !message.contains("is damaged")
        }
        // Nothing was lost: the file is untouched.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: 0x41, count: 4096))
    }

    @Test func readOnlyOpenOfAMissingLedgerSaysWhatToDo() {
        #expect {
            try Ledger.open(path: "/nonexistent/skiff.db", readOnly: true)
        } throws: { error in
            (error as? SkiffError)?.message.contains("run `skiff ship` first") == true
        }
    }
}
