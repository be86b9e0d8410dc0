import Foundation
import GRPCRuntime
import Ledger
import Logging
import ObjectStorage
import Prometheus
import PrometheusClient
import SkiffCore
import TestSupport
import Testing

@testable import Sidecar

/// The sidecar run in-process (no binary) next to a real Prometheus holding real promtool blocks:
/// the heartbeat reads the external labels, the shipper waits for them and ships every block, and
/// cancelling the run stops every service.
@Suite(.serialized, .needs(.promtool, .prometheus)) struct SidecarRunnerTests {
    @Test func shipsEveryBlockWithPrometheusLabelsAndStopsOnCancellation() async throws {
        let root = try TempDir()
        defer { root.remove() }
        let blocks = try await PromBlocks.make(series: 3, hours: 5, stepSeconds: 60, into: root.sub("tsdb"))
        let prometheus = try await PrometheusServer.start(externalLabels: ["cluster": "eu1"], dataDir: root.sub("tsdb"))
        let client = try PrometheusClient(url: prometheus.url)
        do {
            let runner = SidecarRunner(
                configuration: try Self.configuration(tsdb: root.sub("tsdb")), client: client,
                bucket: try FilesystemBucket(directory: root.sub("bucket")), registry: PrometheusCollectorRegistry(),
                logger: quietLogger)
            let ledgerPath = root.sub("tsdb/thanos/skiff-ledger.db")
            // Bounded as a whole: a service that ignored cancellation would fail here, not hang the suite.
            try await withTimeout(.seconds(120), "ship every block, then stop") {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await runner.run() }
                    let labels = try await runner.state.labelsKnown()
                    #expect(labels == LabelSet(["cluster": "eu1"]))
                    let ledger = try Ledger.open(path: ledgerPath, readOnly: true)
                    while try await ledger.blocks().filter({ $0.state == .committed }).count < blocks.count {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    group.cancelAll()
                    try? await group.waitForAll()
                }
            }
            for block in blocks {
                let name = URL(fileURLWithPath: block).lastPathComponent
                let meta = try JSONValue.parse(
                    Array(try Data(contentsOf: URL(fileURLWithPath: root.sub("bucket/\(name)/meta.json")))))
                #expect(meta["thanos"]?["labels"]?["cluster"] == .string("eu1"))
            }
        } catch {
            await client.shutdown()
            await prometheus.stop()
            throw error
        }
        await client.shutdown()
        await prometheus.stop()
    }

    static func configuration(tsdb: String) throws -> SidecarConfiguration {
        SidecarConfiguration(
            tsdbPath: tsdb, ledgerPath: tsdb + "/thanos/skiff-ledger.db", httpAddress: "127.0.0.1:0",
            httpGracePeriod: .seconds(1), grpcAddress: try GRPCListenAddress(parsing: "127.0.0.1:0"), grpcTLS: nil,
            grpcGracePeriod: .seconds(1), heartbeatInterval: .milliseconds(300), prometheusTimeout: .seconds(5),
            readyTimeout: .seconds(60), syncInterval: .milliseconds(300), reconcileInterval: .zero, reconcileRepair: false,
            uploadCompacted: false, ignoreUnequalBlockSize: false, minTimeMillis: MinTime.yearZeroMillis)
    }
}
