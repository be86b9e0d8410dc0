import Testing

@testable import SkiffCore

@Suite struct JSONAndMetaTests {
    static let prometheusMeta = """
        {
        \t"ulid": "01M88KSQB7NPRR96QBQPG346H2",
        \t"minTime": 1795585440234,
        \t"maxTime": 1795585500000,
        \t"stats": {
        \t\t"numSamples": 35904,
        \t\t"numSeries": 600,
        \t\t"numChunks": 600
        \t},
        \t"compaction": {
        \t\t"level": 1,
        \t\t"sources": [
        \t\t\t"01M88KSQB7NPRR96QBQPG346H2"
        \t\t]
        \t},
        \t"version": 1,
        \t"futureField": {"x": 1.50, "y": [true, null, "a<b>&\\u00e9"]}
        }

        """

    @Test func roundTripKeepsOrderNumbersAndUnknownFields() throws {
        let doc = try JSONValue.parse(Array(Self.prometheusMeta.utf8))
        let again = try JSONValue.parse(doc.encodedIndented())
        #expect(doc == again)
        #expect(doc.members?.map(\.key) == ["ulid", "minTime", "maxTime", "stats", "compaction", "version", "futureField"])
        #expect(doc["futureField"]?["x"] == .number("1.50"))
    }

    @Test func encodesLikeGoMarshalIndentWithTabs() throws {
        let v = JSONValue.object([
            .init("a", .array([])), .init("b", .object([])), .init("c", .array([.int(1), .string("x<y>&z\n\"")])),
        ])
        let text = String(decoding: v.encodedIndented(), as: UTF8.self)
        #expect(text == "{\n\t\"a\": [],\n\t\"b\": {},\n\t\"c\": [\n\t\t1,\n\t\t\"x\\u003cy\\u003e\\u0026z\\n\\\"\"\n\t]\n}\n")
        #expect(v.encodedCompact() == "{\"a\":[],\"b\":{},\"c\":[1,\"x\\u003cy\\u003e\\u0026z\\n\\\"\"]}")
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "01", "\"\\x\"", "{\"a\":1} x", "nul"])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: SkiffError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func parsesEscapesAndSurrogates() throws {
        let v = try JSONValue.parse(Array(#""\u00e9\ud83d\ude00\/\t""#.utf8))
        #expect(v == .string("é😀/\t"))
    }

    @Test func metaReadsTheFieldsSkiffNeeds() throws {
        let meta = try BlockMeta(json: Array(Self.prometheusMeta.utf8), dirName: "01M88KSQB7NPRR96QBQPG346H2")
        #expect(meta.ulid.string == "01M88KSQB7NPRR96QBQPG346H2")
        #expect(meta.minTime == 1_795_585_440_234)
        #expect(meta.level == 1)
        #expect(meta.numSamples == 35904)
    }

    @Test(arguments: [
        ("{\"version\": 2, \"ulid\": \"01M88KSQB7NPRR96QBQPG346H2\"}", "unexpected version 2"),
        ("[]", "is not a JSON object"),
        ("{\"version\": 1}", "no valid \"ulid\""),
        ("{\"version\": 1, \"ulid\": \"01M88KSQB7NPRR96QBQPG346H2\"}", "minTime"),
        ("{\"version\": 1, \"ulid\": \"01M88KSQB7NPRR96QBQPG346H2\", \"minTime\": 5, \"maxTime\": 1}", "after maxTime"),
        ("{\"version\": 1, \"ulid\": \"01M88KSQB7NPRR96QBQPG346H2\", \"minTime\": 1, \"maxTime\": 5}", "compaction.level"),
        ("{\"ulid\": ", "not valid JSON"),
    ])
    func metaErrorsSayWhatIsWrong(_ json: String, _ expected: String) {
        #expect {
            try BlockMeta(json: Array(json.utf8))
        } throws: { error in
            let e = error as! SkiffError
            return e.code == .corruptBlock && e.message.contains(expected)
        }
    }

    @Test func metaInAnotherBlocksDirIsRejected() {
        #expect(throws: SkiffError.self) {
            try BlockMeta(json: Array(Self.prometheusMeta.utf8), dirName: "01M88KVAJ9QE5EX6DAJMFAYKH9")
        }
    }

    @Test func thanosSectionKeepsPrometheusFieldsAndAddsThanos() throws {
        var base = try JSONValue.parse(Array(Self.prometheusMeta.utf8))
        base.set("thanos", .object([.init("labels", .object([.init("keep", .string("me")), .init("cluster", .string("old"))]))]))
        let meta = try BlockMeta(json: base.encodedIndented())
        let bytes = meta.thanosDocument(
            labels: LabelSet(["cluster": "eu1", "replica": "0"]),
            files: [
                .init(relPath: "index", sizeBytes: 64160, sha256: "bb"),
                .init(relPath: "chunks/000001", sizeBytes: 29272, sha256: "aa"),
            ],
            uploadTimeMillis: 1_795_585_500_123)
        let doc = try JSONValue.parse(bytes)
        #expect(bytes.starts(with: Array("{\n\t\"ulid\": \"01M88KSQB7NPRR96QBQPG346H2\",\n".utf8)))
        #expect(bytes.last == 0x0A)
        #expect(doc["futureField"] == base["futureField"])
        let thanos = try #require(doc["thanos"])
        #expect(
            thanos.members?.map(\.key) == [
                "version", "labels", "downsample", "source", "segment_files", "files", "index_stats", "upload_time",
            ])
        #expect(
            thanos["labels"]
                == .object([.init("cluster", .string("eu1")), .init("keep", .string("me")), .init("replica", .string("0"))]))
        #expect(thanos["downsample"]?["resolution"] == .int(0))
        #expect(thanos["source"] == .string("sidecar"))
        #expect(thanos["segment_files"] == .array([.string("000001")]))
        let files = try #require(thanos["files"]?.arrayValue)
        #expect(files.map { $0["rel_path"]?.stringValue } == ["chunks/000001", "index", "meta.json"])
        #expect(files[0]["size_bytes"] == .int(29272))
        #expect(files[0]["hash"] == .object([.init("hashFunc", .string("SHA256")), .init("value", .string("aa"))]))
        #expect(files[2]["size_bytes"] == nil)
        #expect(thanos["upload_time"] == .string("2026-11-25T05:45:00.123Z"))
    }

    @Test func thanosLabelsAreMergedAndSortedByBytesAsGoWritesThem() throws {
        // meta.json carries a decomposed "é" name; ours is precomposed, plus "Z" and "a".
        var base = try JSONValue.parse(Array(Self.prometheusMeta.utf8))
        base.set("thanos", .object([.init("labels", .object([.init("e\u{301}", .string("old")), .init("a", .string("old"))]))]))
        let meta = try BlockMeta(json: base.encodedIndented())
        let ours = LabelSet([Label(name: "\u{E9}", value: "new"), Label(name: "a", value: "new"), Label(name: "Z", value: "1")])
        let doc = try JSONValue.parse(meta.thanosDocument(labels: ours, files: [], uploadTimeMillis: 0))
        let labels = try #require(doc["thanos"]?["labels"]?.members)
        // Go's encoding/json sorts map keys by bytes: Z (5A) < a (61) < e+U+0301 (65 CC 81) < é (C3 A9).
        // A byte-equal name takes our value; the canonically equal one is another label.
        #expect(labels.map { Array($0.key.utf8) } == [[0x5A], [0x61], [0x65, 0xCC, 0x81], [0xC3, 0xA9]])
        #expect(labels.map(\.value) == [.string("1"), .string("new"), .string("old"), .string("new")])
    }

    @Test func rfc3339MatchesGo() {
        #expect(RFC3339.format(millis: 0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(millis: 1_795_585_500_100) == "2026-11-25T05:45:00.1Z")
        #expect(RFC3339.format(millis: 951_782_400_000) == "2000-02-29T00:00:00Z")
        #expect(RFC3339.format(millis: -1) == "1969-12-31T23:59:59.999Z")
        // A hostile meta.json's extreme times print (as java.time prints them) rather than trap.
        #expect(RFC3339.format(millis: .max) == "292278994-08-17T07:12:55.807Z")
        #expect(RFC3339.format(millis: .min) == "-292275055-05-16T16:47:04.192Z")
    }
}

@Suite struct SmallValueTests {
    @Test func ulidParsesAndNormalises() throws {
        let u = try #require(ULID("01m88ksqb7nprr96qbqpg346h2"))
        #expect(u.string == "01M88KSQB7NPRR96QBQPG346H2")
        #expect(ULID("81M88KSQB7NPRR96QBQPG346H2") == nil)  // overflows 128 bits
        #expect(ULID("01M88KSQB7NPRR96QBQPG346H") == nil)
        #expect(ULID("01M88KSQB7NPRR96QBQPG346HU") == nil)  // U is not Crockford
        #expect(ULID("wal") == nil)
        #expect(ULID("01ARZ3NDEKTSV4RRFFQ69G5FAV")?.timestampMillis == 1_469_922_850_259)
    }

    @Test func labelsParseValidateAndSort() throws {
        let l = try LabelSet.parse(flags: ["replica=0", "cluster=eu1", "quoted=\"a b\""])
        #expect(l.names == ["cluster", "quoted", "replica"])
        #expect(l["quoted"] == "a b")
        // An empty value is no label in Prometheus: `--label cluster=` alone would ship blocks
        // with no external labels at all (bad-inputs case 29).
        for bad in [["nope"], ["1x=a"], ["a-b=1"], ["__name__=x"], ["a=1", "a=2"], ["cluster="], ["a=1", "b=\"\""]] {
            #expect(throws: SkiffError.self) { try LabelSet.parse(flags: bad) }
        }
    }

    @Test func goDurations() throws {
        #expect(try GoDuration.parseMillis("30s") == 30_000)
        #expect(try GoDuration.parseMillis("1m30s") == 90_000)
        #expect(try GoDuration.parseMillis("500ms") == 500)
        #expect(try GoDuration.parseMillis("2h") == 7_200_000)
        #expect(try GoDuration.parseMillis("1d") == 86_400_000)
        #expect(try GoDuration.parseMillis("0") == 0)
        for bad in ["", "5", "s", "1x", "-1s", "1.5s"] {
            #expect(throws: SkiffError.self) { try GoDuration.parseMillis(bad) }
        }
    }
}
