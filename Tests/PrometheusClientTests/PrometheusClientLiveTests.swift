import Foundation
import SkiffCore
import TestSupport
import Testing

@testable import PrometheusClient

/// The client against Debian's real Prometheus 2.42 on loopback.
@Suite(.needs(.prometheus, .promtool)) struct PrometheusClientLiveTests {
    let timeout = Duration.seconds(5)

    /// Runs `body` with a started Prometheus and a client for it; both are always torn down.
    func withPrometheus(
        labels: [String: String] = ["cluster": "test", "replica": "0"], dataDir: String? = nil, min: String = "2h",
        max: String = "2h",
        routePrefix: String? = nil, _ body: (PrometheusServer, PrometheusClient) async throws -> Void
    ) async throws {
        let server = try await PrometheusServer.start(
            externalLabels: labels, dataDir: dataDir, minBlockDuration: min, maxBlockDuration: max, routePrefix: routePrefix)
        let client: PrometheusClient
        do {
            client = try PrometheusClient(url: server.url)
        } catch {
            await server.stop()
            throw error
        }
        do {
            try await body(server, client)
        } catch {
            await client.shutdown()
            await server.stop()
            throw error
        }
        await client.shutdown()
        await server.stop()
    }

    @Test func readsExternalLabelsAndTheirReload() async throws {
        try await withPrometheus { server, client in
            try await client.checkReady(timeout: timeout)
            #expect(try await client.externalLabels(timeout: timeout) == LabelSet(["cluster": "test", "replica": "0"]))
            try await server.reload(externalLabels: ["cluster": "prod", "region": "eu-west"])
            #expect(try await client.externalLabels(timeout: timeout) == LabelSet(["cluster": "prod", "region": "eu-west"]))
        }
    }

    @Test func noExternalLabelsGiveAnEmptySet() async throws {
        try await withPrometheus(labels: [:]) { _, client in
            let labels = try await client.externalLabels(timeout: timeout)
            #expect(labels.isEmpty)
        }
    }

    @Test func routePrefixIsKeptForEveryCall() async throws {
        try await withPrometheus(routePrefix: "/prom") { server, client in
            #expect(client.url == "http://127.0.0.1:\(server.port)/prom")
            try await client.checkReady(timeout: timeout)
            #expect(try await client.externalLabels(timeout: timeout)["cluster"] == "test")
            #expect(try await client.version(timeout: timeout).hasPrefix("2."))
        }
    }

    @Test func flagsFeedTheCheck() async throws {
        try await withPrometheus(min: "2h", max: "4h") { server, client in
            let flags = try #require(try await client.flags(timeout: timeout))
            #expect(flags["storage.tsdb.path"] == server.dataDir)
            #expect(flags["web.enable-lifecycle"] == "true")
            let check = PrometheusFlagsCheck.check(
                flags: flags, shipperFilePath: server.dataDir + "/thanos.shipper.json", ignoreUnequalBlockSize: false)
            #expect(check.errors.count == 1 && check.errors[0].contains("TSDB Max time is 4h and Min time is 2h"))
        }
        try await withPrometheus(min: "1h", max: "1h") { server, client in
            let flags = try #require(try await client.flags(timeout: timeout))
            let check = PrometheusFlagsCheck.check(
                flags: flags, shipperFilePath: server.dataDir + "/thanos.shipper.json", ignoreUnequalBlockSize: false)
            #expect(check.errors.isEmpty && check.warnings.count == 1)
        }
    }

    @Test func versionAndEmptyTSDBLowestTimestamp() async throws {
        try await withPrometheus { _, client in
            let version = try await client.version(timeout: timeout)
            #expect(version == "2.42.0+ds")
            let lowestTimestampMillis = try await client.lowestTimestampMillis(timeout: timeout)
            #expect(lowestTimestampMillis == Int64.min)
        }
    }

    @Test func lowestTimestampIsTheOldestBlocksMinTime() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let blocks = try await PromBlocks.make(series: 2, hours: 5, stepSeconds: 60, into: dir.sub("data"))
        let minTimes = try blocks.map { block -> Int64 in
            let meta =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: block + "/meta.json")))
                as! [String: Any]
            return (meta["minTime"] as! NSNumber).int64Value
        }
        try await withPrometheus(dataDir: dir.sub("data")) { _, client in
            let lowestTimestampMillis = try await client.lowestTimestampMillis(timeout: timeout)
            #expect(lowestTimestampMillis == minTimes.min())
        }
    }

    @Test func readinessReturnsAfterARestart() async throws {
        try await withPrometheus { server, client in
            try await client.checkReady(timeout: timeout)
            try await server.restart()
            try await client.checkReady(timeout: timeout)
            #expect(try await client.externalLabels(timeout: timeout)["replica"] == "0")
        }
    }

    @Test func unreachablePrometheusIsTransientAndNamesTheURL() async throws {
        let server = try await PrometheusServer.start(externalLabels: [:])
        let url = server.url
        await server.stop()  // nothing listens on the port now
        let client = try PrometheusClient(url: url)
        let started = ContinuousClock.now
        do {
            try await client.checkReady(timeout: .seconds(30))
            Issue.record("checkReady succeeded against a stopped server")
        } catch {
            #expect(error.transient)
            #expect(error.message.contains(url + "/-/ready"), "\(error.message)")
            #expect(error.message.contains("Connection refused"), "\(error.message)")
        }
        // A refused connect fails at once rather than being retried until the (30 s) timeout.
        #expect(ContinuousClock.now - started < .seconds(15))
        await client.shutdown()
    }
}
