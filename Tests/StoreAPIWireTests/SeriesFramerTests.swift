import Foundation
import GRPCCore
import SkiffCore
import StoreLogic
import StoreProto
import SwiftProtobuf
import Synchronization
import Testing

@testable import StoreAPI

/// `SeriesFramer` (shard, limit, `response_batch_size`) and the batch encoding, read back with
/// swift-protobuf's generated `SeriesResponse`, and `SeriesLimiter` counting per response.
@Suite struct SeriesFramerTests {
    static func series(_ i: Int, chunks: Int = 1) -> (LabelSet, EncodedChunks) {
        var encoded = EncodedChunks()
        for c in 0..<chunks {
            let data: [UInt8] = [UInt8(i % 256), UInt8(c), 0x42]
            data.withUnsafeBytes {
                SeriesTranscoder.append(minTime: UInt64(c), maxTime: UInt64(c + 1), thanosType: 0, data: $0, to: &encoded)
            }
        }
        return (LabelSet(["__name__": "m", "i": String(format: "%04d", i)]), encoded)
    }

    /// Frames the series, serializes every response and parses it back: (label sets per response, batched?).
    static func frame(
        _ count: Int, _ configure: (inout Thanos_SeriesRequest) -> Void = { _ in }, chunks: Int = 1
    ) async throws -> [(labels: [[String]], batched: Bool)] {
        var request = Thanos_SeriesRequest()
        configure(&request)
        let out = Mutex<[(labels: [[String]], batched: Bool)]>([])
        var framer = try SeriesFramer(request) { responses in
            for response in responses {
                let bytes: [UInt8] = try RawSeriesSerializer().serialize(response)
                #expect(bytes.count == response.size)
                let parsed = try Thanos_SeriesResponse(serializedBytes: bytes)
                let names: (Thanos_Series) -> [String] = { $0.labels.map { "\($0.name)=\($0.value)" } }
                switch parsed.result {
                case .series(let s): out.withLock { $0.append(([names(s)], false)) }
                case .batch(let b):
                    #expect(response.seriesCount == b.series.count)
                    #expect(response.chunkCount == b.series.reduce(0) { $0 + $1.chunks.count })
                    out.withLock { $0.append((b.series.map(names), true)) }
                default: Issue.record("unexpected response \(parsed)")
                }
            }
        }
        for i in 0..<count {
            let (labels, encoded) = Self.series(i, chunks: chunks)
            guard framer.add(labels: labels, chunks: encoded) else { break }
            try await framer.flushIfFull()
        }
        try await framer.finish()
        return out.withLock { $0 }
    }

    @Test(arguments: [0, 1, 2, 3, 64, 100, 1000])
    func batchesHoldUpToTheSizeAndKeepEverySeriesInOrder(size: Int) async throws {
        let responses = try await Self.frame(100) { $0.responseBatchSize = Int64(size) }
        let all = responses.flatMap(\.labels)
        #expect(all == (0..<100).map { ["__name__=m", "i=" + String(format: "%04d", $0)] })
        if size <= 1 {
            #expect(responses.count == 100 && responses.allSatisfy { !$0.batched })
        } else {
            #expect(responses.allSatisfy { $0.batched })
            #expect(responses.dropLast().allSatisfy { $0.labels.count == size })
            #expect(responses.count == (100 + size - 1) / size)
        }
    }

    @Test func aNegativeBatchSizeIsABadRequest() throws {
        let request = Thanos_SeriesRequest.with { $0.responseBatchSize = -1 }
        #expect { _ = try SeriesFramer(request) { _ in } } throws: { ($0 as? RPCError)?.code == .invalidArgument }
    }

    @Test func limitStopsAfterThatManySeries() async throws {
        let limited = try await Self.frame(100) {
            $0.limit = 10
            $0.responseBatchSize = 4
        }
        #expect(limited.flatMap(\.labels).count == 10)
        #expect(limited.map(\.labels.count) == [4, 4, 2])
        #expect(try await Self.frame(5) { $0.limit = 10 }.count == 5)
        #expect(try await Self.frame(5) { $0.limit = 0 }.count == 5)
    }

    @Test func shardsPartitionTheSeries() async throws {
        var seen: [[String]] = []
        for index in 0..<3 {
            let shard = try await Self.frame(90) {
                $0.shardInfo = .with {
                    $0.shardIndex = Int64(index)
                    $0.totalShards = 3
                }
                $0.responseBatchSize = 8
            }.flatMap(\.labels)
            #expect(!shard.isEmpty && shard.count < 90)
            for labels in shard {
                let set = LabelSet(
                    labels.map { Label(name: String($0.split(separator: "=")[0]), value: String($0.split(separator: "=")[1])) })
                #expect(ShardMatcher.hash(set, by: false, names: []) % 3 == UInt64(index))
            }
            seen += shard
        }
        #expect(
            seen.sorted { $0.lexicographicallyPrecedes($1) }
                == (0..<90).map { ["__name__=m", "i=" + String(format: "%04d", $0)] })
        // total_shards 0: not sharded.
        #expect(try await Self.frame(10) { $0.shardInfo = .with { $0.shardIndex = 1 } }.count == 10)
    }

    /// Thanos' limitedServer reserves a whole batch: the batch that crosses the limit is not sent,
    /// and "got" counts all of it.
    @Test func requestLimitsCountWholeBatches() throws {
        let batch = (0..<4).map { i in BatchedSeries(labels: Self.series(i).0, chunks: Self.series(i, chunks: 2).1) }
        let responses = [RawSeriesResponse(batch: batch), RawSeriesResponse(batch: batch), RawSeriesResponse(batch: batch)]
        var series = SeriesLimiter(SeriesLimits(series: 10))
        let (admitted, violation) = series.admit(responses)
        #expect(admitted.count == 2)
        #expect(violation?.message == "failed to send series: limit 10 violated (got 12)")
        var samples = SeriesLimiter(SeriesLimits(samples: 8 * 120))
        let (sent, tooMany) = samples.admit(responses)
        #expect(sent.count == 1)
        #expect(tooMany?.message == "failed to send samples: limit 960 violated (got 1920)")
        var exact = SeriesLimiter(SeriesLimits(series: 12, samples: 24 * 120))
        #expect(exact.admit(responses).violation == nil)
    }
}
