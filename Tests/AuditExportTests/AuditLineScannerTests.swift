import Foundation
import Ledger
import ObjectStorage
import SkiffCore
import TestSupport
import Testing

@testable import AuditExport

/// The fleet reports' line scanner reads what the full JSON parser reads, and refuses what it
/// refuses, on the records the exporter writes and on damaged ones.
@Suite struct AuditLineScannerTests {
    static let name = AuditObjectName(
        date: "2026-12-03", source: "9c1ebe8a6c6ccabe", ledger: "0123456789abcdef", first: 1, last: 100)

    /// A record line as the exporter writes it, with text that needs escapes.
    static func line(seq: Int64, error: String?, labels: LabelSet = ["cluster": "eu\"1", "zone": "ü\\n"]) -> [UInt8] {
        let transition = TransitionRecordFixture.make(
            id: seq, to: error == nil ? "committed" : "failed", detail: error, bytes: error == nil ? 123_456_789_012 : nil)
        return AuditRecord(transition, labels: labels, ledger: name.ledger, skiffVersion: "1.0").line.dropLast()
    }

    @Test func readsWhatTheFullParserReads() throws {
        var cache: (json: ArraySlice<UInt8>, text: String)?
        for (seq, error) in [(Int64(1), nil), (2, "upload index: \"quoted\"\n\ttab é 😀 \\ back"), (3, "plain")] {
            let line = Self.line(seq: seq, error: error)
            let full = try JSONValue.parse(line)
            let record = try FleetReader.parse(line, Self.name, labelsCache: &cache)
            #expect(record.seq == full["seq"]?.int64Value)
            #expect(record.ulid == full["ulid"]?.stringValue)
            #expect(record.toState == full["to_state"]?.stringValue)
            #expect(record.timeMillis == full["time_ms"]?.int64Value)
            #expect(record.bytes == full["bytes"]?.int64Value)
            #expect(record.blockMaxTime == full["block_max_time"]?.int64Value)
            #expect(record.error == full["error"]?.stringValue)
            #expect(record.error == error)
            #expect(record.ledger == Self.name.ledger)
            #expect(record.labels == #"cluster="eu\"1",zone="ü\\n""#)
        }
        // Members in another order, spaces anywhere, unknown members with nested values: still read.
        let reordered =
            #" { "extra" : {"a":[1,{"b":"}"}]} , "time_ms":-5,"to_state":"committed","ulid":"X","seq":7,"# + """
                 "ledger":"0123456789abcdef","schema":"v1","labels":{},"bytes":null } 
                """
        let r = try FleetReader.parse(Array(reordered.utf8), Self.name, labelsCache: &cache)
        #expect(r.seq == 7 && r.timeMillis == -5 && r.bytes == nil && r.blockMaxTime == nil && r.labels == "")
    }

    @Test func refusesDamagedLines() throws {
        let good = String(decoding: Self.line(seq: 5, error: nil), as: UTF8.self)
        let damaged = [
            String(good.dropLast()),  // unterminated
            good + "x",  // trailing data
            good.replacingOccurrences(of: #""seq":5"#, with: #""seq":5x"#),
            good.replacingOccurrences(of: #""seq":5"#, with: #""seq":"5""#),
            good.replacingOccurrences(of: #""seq":5"#, with: #""seq":99999999999999999999"#),
            good.replacingOccurrences(of: #""seq":5"#, with: #""seq":500"#),  // outside the name's range
            good.replacingOccurrences(of: #""schema":"v1""#, with: #""schema":"v2""#),
            good.replacingOccurrences(of: "0123456789abcdef", with: "fedcba9876543210"),  // another ledger
            good.replacingOccurrences(of: #""bytes":123456789012"#, with: #""bytes":nul"#),
            good.replacingOccurrences(of: #""labels":{"#, with: #""labels":{"a":1,"#),  // a label that is no string
            good.replacingOccurrences(of: #""labels":{"#, with: #""labels":{["#),  // unbalanced
            good.replacingOccurrences(of: #""error":null"#, with: "\"error\":\"a\u{1}b\""),  // control character
            "", "[]", "{", "{}",
        ]
        for text in damaged {
            var cache: (json: ArraySlice<UInt8>, text: String)?
            #expect(throws: SkiffError.self, "\(text)") {
                try FleetReader.parse(Array(text.utf8), Self.name, labelsCache: &cache)
            }
        }
    }

    /// A damaged record in a bucket object stops the report with the object's name.
    @Test func aDamagedRecordNamesItsObject() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let bucket = try FilesystemBucket(directory: tmp.sub("bucket"))
        let body = Self.line(seq: 1, error: nil) + [0x0A] + Array(#"{"schema":"v1","seq":2,"#.utf8) + [0x0A]
        try await bucket.upload(key: Self.name.key, bytes: try AuditGzip.compress(body))
        do {
            try await FleetReader.forEach(in: bucket) { (_: FleetRecord) throws(SkiffError) in }
            Issue.record("a damaged record was read")
        } catch {
            #expect(error.message.contains(Self.name.key) && error.message.contains("not valid"), "\(error.message)")
        }
    }
}

/// Audit rows built without a ledger.
enum TransitionRecordFixture {
    static func make(id: Int64, to: String, detail: String?, bytes: Int64?) -> AuditTransition {
        AuditTransition(
            transition: TransitionRecord(
                id: id, ulid: "01M88KSQB7NPRR96QBQPG346H2", from: .indexUploaded, to: ShipState(rawValue: to)!,
                at: 1_796_252_400_000 + id, attempt: 1, bytes: bytes, detail: detail),
            blockMinTime: 1_796_241_600_000, blockMaxTime: 1_796_248_800_000)
    }
}
