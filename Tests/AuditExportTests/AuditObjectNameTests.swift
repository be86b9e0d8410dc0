import AuditExport
import SkiffCore
import Testing

@Suite struct AuditObjectNameTests {
    @Test func keysArePartitionedPaddedAndReadBack() throws {
        let ledger = "0123456789abcdef"
        let name = AuditObjectName(date: "2026-12-03", source: "9c1ebe8a6c6ccabe", ledger: ledger, first: 7, last: 1234)
        #expect(
            name.key
                == "skiff-audit/v1/date=2026-12-03/source=9c1ebe8a6c6ccabe/0123456789abcdef-00000000000000000007-00000000000000001234.ndjson.gz"
        )
        #expect(AuditObjectName(key: name.key) == name)
        // Padding makes the names sort as their numbers.
        let a = AuditObjectName(date: "2026-12-03", source: "s", ledger: ledger, first: 9, last: 9).key
        let b = AuditObjectName(date: "2026-12-03", source: "s", ledger: ledger, first: 10, last: 99).key
        #expect(a < b)
        // Another ledger's range of the same ids is another object.
        #expect(AuditObjectName(date: "2026-12-03", source: "s", ledger: "fedcba9876543210", first: 9, last: 9).key != a)
        let l = ledger + "-"
        for bad in [
            "skiff-audit/v1/date=2026-12-03/source=s/\(l)1-2.ndjson", "skiff-audit/v1/date=2026-1-03/source=s/\(l)1-2.ndjson.gz",
            "skiff-audit/v1/date=2026-12-03/src=s/\(l)1-2.ndjson.gz", "skiff-audit/v1/date=2026-12-03/source=s/\(l)2-1.ndjson.gz",
            "skiff-audit/v2/date=2026-12-03/source=s/\(l)1-2.ndjson.gz", "01M88KSQB7NPRR96QBQPG346H2/meta.json",
            "skiff-audit/v1/date=2026-12-03/source=s/x/\(l)1-2.ndjson.gz",
            "skiff-audit/v1/date=2026-12-03/source=s/1-2.ndjson.gz",  // no ledger
            "skiff-audit/v1/date=2026-12-03/source=s/0123456789ABCDEF-1-2.ndjson.gz",  // not lower-case hex
            "skiff-audit/v1/date=2026-12-03/source=s/0123456789abcde-1-2.ndjson.gz",  // 15 digits
        ] {
            #expect(AuditObjectName(key: bad) == nil, "\(bad)")
        }
    }

    @Test func utcDatesMatchTheCalendar() {
        #expect(AuditObjectName.utcDate(millis: 0) == "1970-01-01")
        #expect(AuditObjectName.utcDate(millis: -1) == "1969-12-31")
        #expect(AuditObjectName.utcDate(millis: 951_782_400_000) == "2000-02-29")
        #expect(AuditObjectName.utcDate(millis: 1_796_255_999_999) == "2026-12-02")
        #expect(AuditObjectName.utcDate(millis: 1_796_256_000_000) == "2026-12-03")
        // Every day of four years, against Foundation's calendar.
        for day in stride(from: Int64(19_000), to: 20_461, by: 1) {
            let ms = day * 86_400_000 + 43_200_000
            #expect(AuditObjectName.utcDate(millis: ms) == AuditObjectNameDay.of(ms))
        }
    }

    @Test func theSourceIdIsAStableHashOfTheCanonicalLabels() throws {
        let a = AuditSource(labels: LabelSet([Label(name: "replica", value: "0"), Label(name: "cluster", value: "eu1")]))
        #expect(a.canonicalText == #"cluster="eu1",replica="0""#)
        // sha256('cluster="eu1",replica="0"')[:16], computed with Python's hashlib.
        #expect(a.id == "9c1ebe8a6c6ccabe")
        let b = AuditSource(labels: ["cluster": "eu1", "replica": "1"])
        #expect(b.id != a.id && b.id.count == 16)
        // Quotes and backslashes are Go-quoted, so no two label sets share a text.
        #expect(AuditSource(labels: ["a": #"x",b="y"#]).canonicalText == #"a="x\",b=\"y""#)
        let back = try AuditSource.fromLabelsJSON(a.labelsJSON.encodedCompact())
        #expect(back == a)
    }
}
