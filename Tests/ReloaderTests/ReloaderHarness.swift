import Foundation
import Logging
import MetricsTestKit
import PrometheusClient
import ServiceLifecycle
import SkiffCore
import TestSupport
import Testing

@testable import Reloader

/// A real Prometheus whose config file the reloader writes, a client for it, a rule dir, and
/// the reloader's metrics in a `TestMetrics`. Everything is torn down however the test ends.
struct ReloaderHarness: Sendable {
    let server: PrometheusServer
    let client: PrometheusClient
    let dir: TempDir
    let metrics = TestMetrics()
    let logs = RecordedLogs()
    let timeout = Duration.seconds(5)

    var template: String { dir.sub("prometheus.yml.tmpl") }
    var rules: String { dir.sub("rules") }

    static func with(
        executable: String? = nil, _ body: @Sendable (ReloaderHarness) async throws -> Void
    ) async throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.path + "/rules", withIntermediateDirectories: true)
        let server: PrometheusServer
        do {
            server = try await PrometheusServer.start(externalLabels: ["replica": "initial"], executable: executable)
        } catch {
            dir.remove()
            throw error
        }
        let harness: ReloaderHarness
        do {
            harness = ReloaderHarness(server: server, client: try PrometheusClient(url: server.url), dir: dir)
        } catch {
            await server.stop()
            dir.remove()
            throw error
        }
        do {
            try await body(harness)
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    private func tearDown() async {
        await client.shutdown()
        await server.stop()
        dir.remove()
    }

    /// A Prometheus config with `replica` as its external label (`$(VAR)` allowed) that loads
    /// the rule dir's `*.yml`.
    func config(replica: String, scrapeInterval: String = "15s") -> String {
        """
        global:
          scrape_interval: \(scrapeInterval)
          external_labels:
            replica: "\(replica)"
        rule_files:
          - \(rules)/*.yml

        """
    }

    func writeTemplate(_ text: String) throws {
        try text.write(toFile: template, atomically: true, encoding: .utf8)
    }

    /// Replaces the rule file by a rename from outside the rule dir, so the reloader never sees
    /// a half-written file or a temp file in the dir (either would be a change of its own).
    func writeRule(_ name: String, file: String = "rules.yml") throws {
        let yaml = "groups:\n  - name: test\n    rules:\n      - record: \(name)\n        expr: vector(1)\n"
        let temp = dir.sub("rule.tmp")
        try yaml.write(toFile: temp, atomically: false, encoding: .utf8)
        guard rename(temp, rules + "/" + file) == 0 else { throw SkiffError(.io, "rename \(temp): errno \(errno)") }
    }

    func configuration(
        configFile: String? = nil, watchInterval: Duration = .seconds(30), retryInterval: Duration = .milliseconds(200),
        method: ReloaderConfiguration.Method = .http, environment: [String: String] = [:]
    ) -> ReloaderConfiguration {
        ReloaderConfiguration(
            configFile: configFile ?? template, configEnvsubstFile: server.configPath, ruleDirs: [rules],
            watchInterval: watchInterval, retryInterval: retryInterval, method: method, environment: environment)
    }

    /// Runs the reloader in a ServiceGroup while `body` runs, then shuts it down gracefully.
    func running(_ configuration: ReloaderConfiguration, _ body: @Sendable () async throws -> Void) async throws {
        let reloader = ConfigReloader(
            configuration: configuration, client: client, logger: logs.logger, metrics: ReloaderMetrics(factory: metrics))
        let group = ServiceGroup(configuration: .init(services: [reloader], logger: quietLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body()
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    // MARK: - Reading back

    func counter(_ name: String) -> Int64 { metrics.counterTotal(label: "thanos_sidecar_reloader_" + name) }

    func gauge(_ name: String) -> Double? { try? metrics.expectGauge("thanos_sidecar_reloader_" + name).lastValue }

    func replica() async throws -> String? { try await client.externalLabels(timeout: timeout)["replica"] }

    /// The names of the rules Prometheus has loaded.
    func ruleNames() async throws -> [String] {
        struct Rules: Decodable, Sendable {
            struct Group: Decodable, Sendable { let rules: [Rule] }
            struct Rule: Decodable, Sendable { let name: String }
            let groups: [Group]
        }
        let data = try await client.apiData("/api/v1/rules", query: [], as: Rules.self, timeout: timeout)
        return data?.groups.flatMap { $0.rules.map(\.name) } ?? []
    }

    /// Polls `condition` every 50 ms until it holds, failing after `limit`.
    func eventually(
        _ what: String, within limit: Duration = .seconds(15), _ condition: @Sendable () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestTimeout(what: "\(what) within \(limit)\n\(server.logTail(lines: 10))")
    }
}
