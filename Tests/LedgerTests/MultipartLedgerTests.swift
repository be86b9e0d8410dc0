import Foundation
import SkiffCore
import TestSupport
import Testing

@testable import Ledger

/// Schema 0002: multipart progress survives reopening, parts are idempotent, ended uploads are
/// no longer offered for resume, and retries are an append-only audit trail.
@Suite struct MultipartLedgerTests {
    @Test func multipartProgressIsDurableAndResumable() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("ledger.db")
        let id = LedgerTests.meta.ulid
        do {
            let ledger = try Ledger.open(path: path)
            try await ledger.insertBlock(
                BlockSummary(LedgerTests.meta), machine: .initial(ignored: false), reason: nil, at: 1)
            #expect(try await ledger.openMultipartUpload(id, relPath: "chunks/000001") == nil)
            try await ledger.recordMultipartStarted(id, relPath: "chunks/000001", uploadID: "up-1", partSize: 5 << 20, at: 2)
            try await ledger.recordPartUploaded("up-1", UploadedPart(number: 2, size: 10, etag: "\"b\"", sha256: "bb"), at: 3)
            try await ledger.recordPartUploaded("up-1", UploadedPart(number: 1, size: 10, etag: "\"a\"", sha256: "aa"), at: 3)
            // The same part again (a retry whose first answer was lost) replaces, never duplicates.
            try await ledger.recordPartUploaded("up-1", UploadedPart(number: 1, size: 10, etag: "\"a2\"", sha256: "aa"), at: 4)
        }
        let reopened = try Ledger.open(path: path)
        let upload = try #require(try await reopened.openMultipartUpload(id, relPath: "chunks/000001"))
        #expect(upload.uploadID == "up-1")
        #expect(upload.partSize == 5 << 20)
        #expect(upload.parts.map(\.number) == [1, 2])
        #expect(upload.parts.first?.etag == "\"a2\"")
        #expect(try await reopened.openMultipartUploads(id).map(\.uploadID) == ["up-1"])

        try await reopened.recordMultipartEnded("up-1", completed: true, at: 5)
        #expect(try await reopened.openMultipartUpload(id, relPath: "chunks/000001") == nil)
        #expect(try await reopened.openMultipartUploads(id).isEmpty)
    }

    /// The writer commits with FULL (GRDB's pool sets NORMAL when it turns WAL on; `openPool`
    /// sets FULL again). Part acknowledgements skip their own fsync (`writeWithoutSync`), and the
    /// writer goes back to FULL after each, also after a part that fails: every transition still
    /// waits for its fsync.
    @Test func theWriterIsSynchronousFullAndPartRecordsLeaveItSo() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let ledger = try Ledger.open(path: tmp.sub("ledger.db"))
        let id = LedgerTests.meta.ulid
        try await ledger.insertBlock(BlockSummary(LedgerTests.meta), machine: .initial(ignored: false), reason: nil, at: 1)
        try await ledger.recordMultipartStarted(id, relPath: "chunks/000001", uploadID: "up-1", partSize: 5 << 20, at: 2)
        func synchronous() async throws -> Int? {
            try await ledger.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        }
        #expect(try await synchronous() == 2, "FULL")
        try await ledger.recordPartUploaded("up-1", UploadedPart(number: 1, size: 10, etag: "\"a\"", sha256: "aa"), at: 3)
        #expect(try await synchronous() == 2, "FULL again after a part")
        // A part of an upload the ledger does not know breaks the foreign key: the write fails.
        await #expect(throws: SkiffError.self) {
            try await ledger.recordPartUploaded("unknown", UploadedPart(number: 1, size: 1, etag: "e", sha256: "s"), at: 4)
        }
        #expect(try await synchronous() == 2, "FULL again after a failed part")
        #expect(try await ledger.openMultipartUpload(id, relPath: "chunks/000001")?.parts.count == 1)
    }

    @Test func retriesAreAppendOnly() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let ledger = try Ledger.open(path: tmp.sub("ledger.db"))
        let id = LedgerTests.meta.ulid
        try await ledger.insertBlock(BlockSummary(LedgerTests.meta), machine: .initial(ignored: false), reason: nil, at: 1)
        try await ledger.recordRetry(id, relPath: "index", operation: "upload", attempt: 1, error: "503 SlowDown", at: 2)
        try await ledger.recordRetry(id, relPath: "index", operation: "upload", attempt: 2, error: "reset", at: 3)
        #expect(try await ledger.retries(id).map(\.attempt) == [1, 2])
        await #expect(throws: (any Error).self) {
            try await ledger.write("tamper") { db in try db.execute(sql: "DELETE FROM request_retries") }
        }
        await #expect(throws: (any Error).self) {
            try await ledger.write("tamper") { db in try db.execute(sql: "UPDATE request_retries SET error = 'x'") }
        }
        #expect(try await ledger.retries(id).count == 2)
    }
}
