import SkiffCore
import Testing

@testable import StoreLogic

/// `shard_info` as Thanos' `storepb.ShardMatcher` computes it. The hashes were printed by
/// `Tests/Companions/xxhash_reference.py` (`shard_hash`, over the C reference XXH64).
@Suite struct ShardMatcherTests {
    static let up: LabelSet = ["__name__": "up", "cluster": "test", "job": "api"]
    static let http: LabelSet = [
        "__name__": "http_requests_total", "code": "200", "instance": "10.0.0.1:9090", "région": "é",
    ]

    @Test func hashesTheChosenLabelsAsThanosDoes() {
        #expect(ShardMatcher.hash(Self.up, by: true, names: ["job"]) == 0xBB09_B45A_74CE_66B8)
        #expect(ShardMatcher.hash(Self.up, by: false, names: ["cluster"]) == 0x2796_7EC8_7265_EAEF)
        #expect(ShardMatcher.hash(Self.up, by: false, names: []) == 0x9C02_220F_92BB_8A8B)
        // `by` nothing hashes the empty string: every series in one shard.
        #expect(ShardMatcher.hash(Self.up, by: true, names: []) == 0xEF46_DB37_51D8_E999)
        #expect(ShardMatcher.hash(Self.http, by: false, names: ["instance"]) == 0x2D33_C5B0_7EAF_FABA)
        // Names in any order, one absent from the series.
        #expect(ShardMatcher.hash(Self.http, by: true, names: ["région", "absent", "code"]) == 0x058C_4827_88BB_BFEB)
    }

    @Test func assignsEachSeriesToExactlyOneShard() throws {
        let series = (0..<200).map { LabelSet(["__name__": "m", "i": "\($0)", "job": $0 % 3 == 0 ? "a" : "b"]) }
        for total in [1, 2, 3, 7] {
            var matchers = try (0..<total).map {
                try #require(ShardMatcher(shardIndex: Int64($0), totalShards: Int64(total), by: false, labels: []))
            }
            for s in series {
                let hits = matchers.indices.filter { matchers[$0].matches(s) }
                #expect(hits == [Int(ShardMatcher.hash(s, by: false, names: []) % UInt64(total))])
            }
        }
        // With more than one shard, the 200 series do not all land in one.
        var first = try #require(ShardMatcher(shardIndex: 0, totalShards: 2, by: false, labels: []))
        let inFirst = series.filter { first.matches($0) }.count
        #expect(inFirst > 50 && inFirst < 150, "\(inFirst)")
    }

    @Test func unshardedAndOutOfRangeRequests() throws {
        // total_shards below 1: not sharded (Thanos' Matcher() returns an unsharded matcher).
        #expect(ShardMatcher(shardIndex: 0, totalShards: 0, by: false, labels: []) == nil)
        #expect(ShardMatcher(shardIndex: 3, totalShards: -1, by: true, labels: ["a"]) == nil)
        // Go compares against uint64(index): a negative or too large index matches nothing.
        var negative = try #require(ShardMatcher(shardIndex: -1, totalShards: 2, by: false, labels: []))
        var large = try #require(ShardMatcher(shardIndex: 2, totalShards: 2, by: false, labels: []))
        #expect(!negative.matches(Self.up) && !large.matches(Self.up) && !large.matches(Self.http))
    }
}

/// `SeriesRequest.limit`: distinct label sets in answer order, copies of the last one included.
@Suite struct SeriesRequestLimitTests {
    @Test func countsDistinctConsecutiveLabelSets() {
        let a: LabelSet = ["__name__": "a"]
        let b: LabelSet = ["__name__": "b"]
        let c: LabelSet = ["__name__": "c"]
        var limit = SeriesRequestLimit(2)
        #expect([a, a, b, b, c, c].map { limit.admit($0) } == [true, true, true, true, false, false])
        var one = SeriesRequestLimit(1)
        #expect([a, b, a].map { one.admit($0) } == [true, false, false])
        for unlimited in [Int64(0), -5] {
            var none = SeriesRequestLimit(unlimited)
            #expect(!none.isLimited && [a, b, c].allSatisfy { none.admit($0) })
        }
    }
}
