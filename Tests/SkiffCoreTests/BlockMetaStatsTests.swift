import Testing

@testable import SkiffCore

/// meta.json's `stats` as Thanos reads them: absent is zero (an empty block), malformed is a
/// corrupt meta.json, never zero (case 8 of the hostile-input pass).
@Suite struct BlockMetaStatsTests {
    static func meta(stats: String?, extra: String = "") -> [UInt8] {
        let statsMember = stats.map { "\"stats\": \($0), " } ?? ""
        return Array(
            """
            {"ulid": "01M88KSQB7NPRR96QBQPG346H2", "minTime": 1, "maxTime": 5, \(statsMember)\
            "compaction": {"level": 1}, \(extra)"version": 1}
            """.utf8)
    }

    @Test func plainCountsAreRead() throws {
        let meta = try BlockMeta(json: Self.meta(stats: #"{"numSamples": 1200, "numSeries": 6, "numChunks": 12}"#))
        #expect(meta.numSamples == 1200 && meta.numSeries == 6 && meta.numChunks == 12)
    }

    /// Thanos reads a missing stats object (or a missing field) as 0, so the block is ignored as empty.
    @Test func missingStatsReadAsZero() throws {
        #expect(try BlockMeta(json: Self.meta(stats: nil)).numSamples == 0)
        #expect(try BlockMeta(json: Self.meta(stats: "{}")).numSamples == 0)
        #expect(try BlockMeta(json: Self.meta(stats: #"{"numSeries": 3}"#)).numSamples == 0)
    }

    @Test(arguments: [
        #"{"numSamples": "1200"}"#, #"{"numSamples": 1.5e3}"#, #"{"numSamples": 1200.0}"#, #"{"numSamples": null}"#,
        #"{"numSamples": 18446744073709551616}"#, #"{"numSamples": 9223372036854775808}"#, #"{"numSamples": -5}"#,
        #"{"numSamples": true}"#, #"{"numSeries": [1]}"#, #"{"numChunks": {"n": 1}}"#, #"{"numTombstones": "x"}"#,
        #"{"numSamples": 1, "numSamples": 2}"#, #""many""#, "null", "[1200]",
    ])
    func malformedStatsAreACorruptMetaNotAnEmptyBlock(_ stats: String) {
        #expect {
            try BlockMeta(json: Self.meta(stats: stats))
        } throws: { error in
            let e = error as! SkiffError
            return e.code == .corruptBlock && !e.transient && e.message.contains("stats")
        }
    }

    /// Go keeps the last of a repeated key, this reader the first: a repeated key is refused, so
    /// the ledger and Thanos cannot disagree about the block's times.
    @Test(arguments: [#""minTime": 2, "#, #""ulid": "01M88KVAJ9QE5EX6DAJMFAYKH9", "#, #""version": 1, "#])
    func repeatedTopLevelKeysAreRefused(_ extra: String) {
        #expect {
            try BlockMeta(json: Self.meta(stats: nil, extra: extra))
        } throws: { error in
            (error as! SkiffError).message.contains("twice")
        }
    }
}
