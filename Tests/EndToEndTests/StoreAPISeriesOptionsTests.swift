import Foundation
import GRPCCore
import StoreProto
import TestSupport
import Testing

/// Series as a current Thanos Querier calls it, against the real Prometheus of `StoreAPITests`:
/// `response_batch_size`, `limit`, `without_replica_labels` and `shard_info`.
extension StoreAPITests {
    static let everything = [matcher("__name__", .re, ".+")]

    /// Streamed chunks, and raw samples (what an old Prometheus answers) re-chunked by Skiff.
    @Test(arguments: [false, true]) func batchedAnswersEqualUnbatchedOnes(samples: Bool) async throws {
        try await Self.withWorld(samples: samples) { world in
            _ = try await Self.waitForInfo(port: world.grpcPort)
            let plain = try await Self.series(port: world.grpcPort, Self.everything)
            #expect(plain.count == Self.written.count)
            for size in [1, 2, 64, 1000] {
                let batched = try await Self.series(port: world.grpcPort, Self.everything) { $0.responseBatchSize = Int64(size) }
                #expect(batched == plain, "batch size \(size)")
            }
            let labelsOnly = try await Self.series(port: world.grpcPort, Self.everything, skipChunks: true)
            let labelsBatched = try await Self.series(port: world.grpcPort, Self.everything, skipChunks: true) {
                $0.responseBatchSize = 3
            }
            #expect(labelsBatched == labelsOnly && labelsOnly.map(\.labels) == plain.map(\.labels))
        }
    }

    @Test func limitSendsTheFirstSeriesOfTheSortedAnswer() async throws {
        try await Self.withWorld { world in
            _ = try await Self.waitForInfo(port: world.grpcPort)
            let up = [Self.matcher("__name__", .eq, "up")]
            let plain = try await Self.series(port: world.grpcPort, up)
            for limit in [1, 2, 4, 10] {
                let limited = try await Self.series(port: world.grpcPort, up) {
                    $0.limit = Int64(limit)
                    $0.responseBatchSize = 2
                }
                #expect(limited == Array(plain.prefix(limit)), "limit \(limit)")
            }
            // skip_chunks: Prometheus 2.42 ignores the limit it is passed; Skiff applies it.
            let labels = try await Self.series(port: world.grpcPort, up, skipChunks: true) { $0.limit = 3 }
            #expect(labels.map(\.labels) == plain.prefix(3).map(\.labels))
            // The long series stops being read once the limit is met (no error, one series).
            let one = try await Self.series(port: world.grpcPort, Self.everything) { $0.limit = 1 }
            let all = try await Self.series(port: world.grpcPort, Self.everything)
            #expect(one == Array(all.prefix(1)))
        }
    }

    /// Thanos removes the named labels from the complete label set (`rmLabels`), external and
    /// internal alike, and answers sorted: series can move and collapse into one label set.
    @Test func withoutReplicaLabelsRemovesExternalAndInternalLabels() async throws {
        try await Self.withWorld { world in
            _ = try await Self.waitForInfo(port: world.grpcPort)
            let up = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "up")]) {
                $0.withoutReplicaLabels = ["replica"]
            }
            let plain = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "up")])
            #expect(up.map(\.labels) == plain.map { $0.labels.filter { $0 != "replica=0" } })
            #expect(up.map(\.samples) == plain.map(\.samples))

            let rep = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "rep")]) {
                $0.withoutReplicaLabels = ["rr", "replica"]
                $0.responseBatchSize = 2
            }
            let base = ["cluster=test", "region=eu-west"]
            #expect(
                rep.map(\.labels) == [
                    ["__name__=rep"] + base + ["s=1"], ["__name__=rep"] + base + ["x=1"], ["__name__=rep"] + base + ["x=1"],
                ],
                "\(rep)")
            // The two collapsed series keep Prometheus' order (rr="1" first): values 4 then 5.
            #expect(rep.map { $0.samples.first?.value } == [6, 4, 5])
            #expect(world.sidecar.stderrSoFar.contains("internal labels named in without_replica_labels"))
            // skip_chunks: Thanos only removes them from the external labels.
            let labels = try await Self.series(port: world.grpcPort, [Self.matcher("__name__", .eq, "rep")], skipChunks: true) {
                $0.withoutReplicaLabels = ["rr", "replica"]
            }
            #expect(
                labels.map(\.labels) == [
                    ["__name__=rep"] + base + ["rr=1", "x=1"], ["__name__=rep"] + base + ["rr=2", "x=1"],
                    ["__name__=rep"] + base + ["s=1"],
                ])
        }
    }

    @Test func shardsAreDisjointAndMakeUpTheWholeAnswer() async throws {
        try await Self.withWorld { world in
            _ = try await Self.waitForInfo(port: world.grpcPort)
            let plain = try await Self.series(port: world.grpcPort, Self.everything)
            for (by, labels) in [(false, [String]()), (true, ["__name__"]), (false, ["replica", "x"])] {
                var union: [DecodedSeries] = []
                for index in 0..<3 {
                    let shard = try await Self.series(port: world.grpcPort, Self.everything) {
                        $0.shardInfo = .with {
                            $0.shardIndex = Int64(index)
                            $0.totalShards = 3
                            $0.by = by
                            $0.labels = labels
                        }
                        $0.responseBatchSize = 64
                    }
                    #expect(shard.count < plain.count, "by=\(by) \(labels): shard \(index) holds everything")
                    union += shard
                }
                #expect(union.count == plain.count)
                #expect(Set(union.map(\.labels)) == Set(plain.map(\.labels)), "by=\(by) \(labels)")
            }
        }
    }

    /// The same options through Python's grpcio (Tests/Companions/storeapi_check.py), whose
    /// shard expectations come from xxHash's C library.
    @Test(.needs(.grpcio)) func pythonGRPCClientSeesBatchesLimitsAndShards() async throws {
        try await Self.withWorld { world in
            _ = try await Self.waitForInfo(port: world.grpcPort)
            let companions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Companions")
            let protos = companions.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Protos")
            let result = try await ExternalProgram.grpcio.run([
                companions.appendingPathComponent("storeapi_check.py").path, protos.path, world.root.path,
                "127.0.0.1:\(world.grpcPort)", "\(Self.start)", "\(Self.end)", "__name__", ".+",
            ])
            #expect(result.succeeded, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.hasSuffix("ok\n"), "\(result.stdout)")
        }
    }
}
