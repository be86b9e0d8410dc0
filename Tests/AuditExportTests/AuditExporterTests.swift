import AuditExport
import Foundation
import Ledger
import ObjectStorage
import Shipper
import SkiffCore
import TestSupport
import Testing

@Suite struct AuditExporterTests {
    static let labels: LabelSet = ["cluster": "eu1", "replica": "0"]

    static func exporter(
        _ ledger: Ledger, _ bucket: any Bucket, labels: LabelSet = labels, maxRows: Int, failpoints: String = ""
    ) throws -> AuditExporter {
        AuditExporter(
            ledger: ledger, bucket: bucket,
            configuration: .init(labels: labels, maxRows: maxRows, skiffVersion: "9.9.9"),
            failpoints: try Failpoints.parse(failpoints))
    }

    /// Every record in the bucket, by source.
    static func records(_ bucket: any Bucket) async throws -> [FleetRecord] {
        var out: [FleetRecord] = []
        try await FleetReader.forEach(in: bucket) { (r: FleetRecord) throws(SkiffError) in out.append(r) }
        return out
    }

    /// Object keys under the audit prefix, relative to the bucket dir.
    static func objectFiles(_ dir: String) -> [String] {
        let root = dir + "/" + AuditObjectName.prefix
        let all = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? []
        return all.filter { $0.hasSuffix(".ndjson.gz") }.sorted()
    }

    @Test func everyTransitionLandsOnceSplitByUTCDay() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let ledger = try Ledger.open(path: tmp.sub("ledger.db"))
        let bucket = try FilesystemBucket(directory: tmp.sub("bucket"))
        // 12 blocks, 5 or 7 transitions each, two minutes apart from 23:00: past midnight.
        let expected = try await AuditLedgerFixture.record(into: ledger, seed: 1, blocks: 12, step: 120_000)
        let exporter = try Self.exporter(ledger, bucket, maxRows: 7)
        let summary = try await exporter.exportAll()
        #expect(summary.rows == expected.transitions)
        let records = try await Self.records(bucket)
        #expect(records.map(\.seq) == Array(1...Int64(expected.transitions)))
        let source = AuditSource(labels: Self.labels).id
        #expect(Set(records.map(\.source)) == [source])
        #expect(Set(records.map(\.date)) == ["2026-12-02", "2026-12-03"])
        for r in records { #expect(r.date == AuditObjectNameDay.of(r.timeMillis)) }
        // Batches of 7 rows, each split where it crosses midnight.
        let files = Self.objectFiles(tmp.sub("bucket"))
        #expect(files.count == Set(records.map { "\(($0.seq - 1) / 7) \($0.date)" }).count)
        #expect(
            try await ledger.auditExportCursor() == AuditExportCursor(exportedThrough: Int64(expected.transitions), pending: nil))
        // Nothing new: nothing written.
        #expect(try await exporter.exportAll().rows == 0)
        // New transitions go out in the next batch.
        try await AuditLedgerFixture.record(into: ledger, seed: 2, blocks: 1, offset: 7_200_000)
        #expect(try await exporter.exportAll().rows >= 6)
        let again = try await Self.records(bucket)
        #expect(again.map(\.seq) == Array(1...Int64(again.count)))
        #expect(again.count == Int(try await ledger.auditExportCursor().exportedThrough))
    }

    @Test func recordsCarryTheV1Schema() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let ledger = try Ledger.open(path: tmp.sub("ledger.db"))
        let bucket = try FilesystemBucket(directory: tmp.sub("bucket"))
        try await AuditLedgerFixture.record(into: ledger, seed: 1, blocks: 1)
        try await Self.exporter(ledger, bucket, maxRows: 100).exportAll()
        let key = try #require(Self.objectFiles(tmp.sub("bucket")).first)
        var lines: [[UInt8]] = []
        let reader = try AuditGzip.LineReader(what: key)
        let gz = try #require(FileManager.default.contents(atPath: tmp.sub("bucket/" + AuditObjectName.prefix + key)))
        try reader.feed(ArraySlice(gz)) { (line: [UInt8]) throws(SkiffError) in lines.append(line) }
        let first = String(decoding: lines[0], as: UTF8.self)
        let id = AuditLedgerFixture.ulid(1, 0).string
        let ledgerID = try await ledger.identity()
        #expect(key.contains("/\(ledgerID)-00000000000000000001-"))
        #expect(
            first
                == #"{"schema":"v1","labels":{"cluster":"eu1","replica":"0"},"ledger":"\#(ledgerID)","seq":1,"ulid":"\#(id)","block_min_time":1796241600000,"block_max_time":1796248800000,"from_state":null,"to_state":"discovered","time_ms":1796252400000,"attempt":1,"bytes":null,"error":null,"detail":null,"skiff_version":"9.9.9"}"#
        )
        let failed = try #require(
            lines.map { String(decoding: $0, as: UTF8.self) }.first { $0.contains(#""to_state":"failed""#) })
        #expect(failed.contains(#""error":"boom 0""#) && failed.contains(#""detail":null"#))
    }

    /// A crash after the objects landed and before the cursor moved: the next export rewrites the
    /// same objects with the same bytes, under the labels the batch was planned with, and the rows
    /// added meanwhile go into later objects. Every transition is in the bucket exactly once.
    @Test func anInterruptedBatchIsRewrittenIdentically() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let ledger = try Ledger.open(path: tmp.sub("ledger.db"))
        let bucket = try FilesystemBucket(directory: tmp.sub("bucket"))
        try await AuditLedgerFixture.record(into: ledger, seed: 1, blocks: 3)
        let failing = try Self.exporter(ledger, bucket, maxRows: 1000, failpoints: "audit:before:cursor=error")
        await #expect(throws: SkiffError.self) { try await failing.exportAll() }
        let files = Self.objectFiles(tmp.sub("bucket"))
        #expect(!files.isEmpty)
        let bytes = files.map { FileManager.default.contents(atPath: tmp.sub("bucket/" + AuditObjectName.prefix + $0)) }
        let pending = try #require(try await ledger.auditExportCursor().pending)
        #expect(try await ledger.auditExportCursor().exportedThrough == 0)

        try await AuditLedgerFixture.record(into: ledger, seed: 2, blocks: 2)
        let relabelled = try Self.exporter(ledger, bucket, labels: ["cluster": "eu2"], maxRows: 1000)
        try await relabelled.exportAll()
        let after = Self.objectFiles(tmp.sub("bucket"))
        #expect(Set(files).isSubset(of: Set(after)))
        for (file, old) in zip(files, bytes) {
            #expect(FileManager.default.contents(atPath: tmp.sub("bucket/" + AuditObjectName.prefix + file)) == old)
        }
        let records = try await Self.records(bucket)
        #expect(records.map(\.seq).sorted() == Array(1...Int64(records.count)))
        let old = AuditSource(labels: Self.labels).id
        #expect(records.filter { $0.seq <= pending.through }.allSatisfy { $0.source == old })
        #expect(
            records.filter { $0.seq > pending.through }.allSatisfy { $0.source == AuditSource(labels: ["cluster": "eu2"]).id })
        #expect(try await ledger.auditExportCursor() == AuditExportCursor(exportedThrough: Int64(records.count), pending: nil))
    }

    @Test func aFailedUploadLeavesTheCursorAndRetries() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let ledger = try Ledger.open(path: tmp.sub("ledger.db"))
        let bucket = try FilesystemBucket(directory: tmp.sub("bucket"))
        let expected = try await AuditLedgerFixture.record(into: ledger, seed: 1, blocks: 4)
        let failing = try Self.exporter(ledger, bucket, maxRows: 5, failpoints: "audit:before:upload=error@3")
        await #expect(throws: SkiffError.self) { try await failing.exportAll() }
        let cursor = try await ledger.auditExportCursor()
        #expect(cursor.exportedThrough == 10 && cursor.pending?.through == 15)
        try await Self.exporter(ledger, bucket, maxRows: 5).exportAll()
        #expect(try await Self.records(bucket).map(\.seq) == Array(1...Int64(expected.transitions)))
    }

    /// A rebuilt ledger has a new identity and numbers its transitions from 1 again: its objects
    /// land beside the old ledger's, which stay as they were, and (source, ledger, seq) stays unique.
    @Test func aNewLedgerNeverOverwritesAnOldLedgersObjects() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let bucket = try FilesystemBucket(directory: tmp.sub("bucket"))
        let old = try Ledger.open(path: tmp.sub("old.db"))
        let first = try await AuditLedgerFixture.record(into: old, seed: 1, blocks: 3)
        try await Self.exporter(old, bucket, maxRows: 4).exportAll()
        let oldFiles = Self.objectFiles(tmp.sub("bucket"))
        let oldBytes = oldFiles.map { FileManager.default.contents(atPath: tmp.sub("bucket/" + AuditObjectName.prefix + $0)) }

        let rebuilt = try Ledger.open(path: tmp.sub("rebuilt.db"))
        let (a, b) = (try await old.identity(), try await rebuilt.identity())
        #expect(a != b && a.count == 16 && b.count == 16)
        #expect(try await old.identity() == a, "the identity is fixed")
        let second = try await AuditLedgerFixture.record(into: rebuilt, seed: 1, blocks: 2)
        try await Self.exporter(rebuilt, bucket, maxRows: 4).exportAll()

        for (file, bytes) in zip(oldFiles, oldBytes) {
            #expect(FileManager.default.contents(atPath: tmp.sub("bucket/" + AuditObjectName.prefix + file)) == bytes)
        }
        let records = try await Self.records(bucket)
        #expect(records.count == first.transitions + second.transitions)
        #expect(Set(records.map { "\($0.ledger)/\($0.seq)" }).count == records.count)
        #expect(records.filter { $0.ledger == a }.map(\.seq).sorted() == Array(1...Int64(first.transitions)))
        #expect(records.filter { $0.ledger == b }.map(\.seq).sorted() == Array(1...Int64(second.transitions)))
    }
}
