import Foundation
import GRDB
import SkiffCore
import TestSupport
import Testing

@testable import Ledger

/// `skiff sql`'s engine: reads work, every kind of write is refused, the file is untouched.
@Suite struct LedgerQueryTests {
    func ledgerWithOneCommittedBlock(_ tmp: TempDir) async throws -> String {
        let path = tmp.sub("ledger.db")
        let ledger = try Ledger.open(path: path)
        let id = LedgerTests.meta.ulid
        var m = ShipStateMachine.initial(ignored: false)
        try await ledger.insertBlock(BlockSummary(LedgerTests.meta), machine: m, reason: nil, at: 1_000)
        let files = [BlockMeta.File(relPath: "index", sizeBytes: 5, sha256: "bb")]
        try await ledger.recordHashed(id, try m.handle(.hashed), machine: m, files: files, metaJSON: [1], at: 1_100)
        try await ledger.recordTransition(id, try m.handle(.chunksUploaded), machine: m, at: 1_200)
        try await ledger.recordTransition(id, try m.handle(.indexUploaded), machine: m, at: 1_300)
        try await ledger.recordTransition(id, try m.handle(.committed), machine: m, at: 5_000)
        return path
    }

    @Test func readsTablesAndViews() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = try await ledgerWithOneCommittedBlock(tmp)
        let shipped = try Ledger.query(path: path, sql: "SELECT ulid, total_bytes, lag_ms FROM shipped_blocks")
        #expect(shipped.columns == ["ulid", "total_bytes", "lag_ms"])
        // max_time of the test block is 2000; committed at 5000.
        #expect(shipped.rows == [[.text(LedgerTests.meta.ulid.string), .integer(5), .integer(3_000)]])
        #expect(try Ledger.query(path: path, sql: "SELECT count(*) FROM pending_blocks").rows == [[.integer(0)]])
        #expect(
            try Ledger.query(path: path, sql: "SELECT blocks, bytes FROM shipped_per_day").rows == [[.integer(1), .integer(5)]])
        #expect(try Ledger.query(path: path, sql: "PRAGMA table_info(blocks)").rows.count > 10)
    }

    @Test(arguments: [
        "INSERT INTO blocks (ulid) VALUES ('x')", "UPDATE blocks SET state = 'failed'", "DELETE FROM transitions",
        "DROP VIEW shipped_blocks", "CREATE TABLE t (a)", "ATTACH DATABASE '/tmp/skiff-attach.db' AS other",
        "  attach '/tmp/skiff-attach.db' as other", "DETACH DATABASE main", "PRAGMA user_version = 9",
        "PRAGMA journal_mode = DELETE", "REPLACE INTO blocks (ulid) VALUES ('y')", "VACUUM",
    ])
    func writesAreRefused(_ sql: String) async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = try await ledgerWithOneCommittedBlock(tmp)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = #expect(throws: SkiffError.self) { try Ledger.query(path: path, sql: sql) }
        #expect(error?.message.contains("read-only") == true, "\(String(describing: error))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/skiff-attach.db"))
        #expect(try Ledger.query(path: path, sql: "SELECT count(*) FROM blocks").rows == [[.integer(1)]])
    }

    @Test func oneStatementAndClearErrors() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = try await ledgerWithOneCommittedBlock(tmp)
        let two = #expect(throws: SkiffError.self) { try Ledger.query(path: path, sql: "SELECT 1; DELETE FROM blocks") }
        #expect(two?.message.contains("one statement at a time") == true)
        let typo = #expect(throws: SkiffError.self) { try Ledger.query(path: path, sql: "SELEC 1") }
        #expect(typo?.message.contains("syntax error") == true)
        let missing = #expect(throws: SkiffError.self) { try Ledger.query(path: tmp.sub("nope.db"), sql: "SELECT 1") }
        #expect(missing?.message.contains("run `skiff ship` first") == true)
    }
}
