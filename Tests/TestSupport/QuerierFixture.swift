import Foundation

/// A real Prometheus with what a Thanos Querier asks a sidecar about besides series: external
/// labels, a rule file (a recording rule and an alert that fires at once, evaluated every second,
/// and a daily group never evaluated during a test), a self-scrape target every second, an idle
/// one (scraped hourly, so never during a test) and a dropped target, exemplar storage with
/// exemplars remote-written. Internal labels named like external ones (`cluster`, `region`)
/// appear on rules, targets and exemplar series, so the clash rule is exercised everywhere.
public struct QuerierFixture: Sendable {
    public static let external = ["cluster": "test", "region": "eu-west"]

    public let prometheus: PrometheusServer
    let dir: TempDir
    /// The exemplars' timestamps (ms): `rw_exemplar{series="a"}` has the first two,
    /// `rw_exemplar{series="b"}` the last.
    public let exemplarTimes: [Int64]

    public static let rules = """
        groups:
          - name: fast
            interval: 1s
            rules:
              - record: job:up:sum
                expr: sum by (job) (up)
                labels:
                  cluster: internal
                  team: storage
              - alert: AlwaysFiring
                expr: vector(1)
                for: 0s
                labels:
                  severity: page
                  region: internal
                annotations:
                  summary: fires at once
          - name: daily
            interval: 24h
            rules:
              - alert: NeverEvaluated
                expr: vector(1)
                for: 5m
              - record: never:evaluated
                expr: vector(2)

        """

    /// Starts Prometheus, writes the exemplars and waits (bounded) until the alert fires, the
    /// targets are discovered and the self-scrape has metadata. `scrape: false` leaves out the
    /// rules and scrape jobs, so the TSDB holds only the remote-written series and never changes.
    public static func start(
        externalLabels: [String: String] = external, scrape: Bool = true
    ) async throws
        -> QuerierFixture
    {
        let dir = try TempDir()
        try rules.write(toFile: dir.sub("rules.yml"), atomically: true, encoding: .utf8)
        let rulesPath = dir.sub("rules.yml")
        let prometheus = try await PrometheusServer.start(
            externalLabels: externalLabels, extraFlags: ["--enable-feature=exemplar-storage"],
            extraConfig: { port in scrape ? scrapeConfig(port: port, rules: rulesPath) : "" })
        let now = Int64(Date().timeIntervalSince1970 * 1000) / 1000 * 1000
        let times = [now - 60_000, now - 30_500, now - 20_000]
        let fixture = QuerierFixture(prometheus: prometheus, dir: dir, exemplarTimes: times)
        do {
            try await RemoteWrite.push(
                [
                    RemoteWrite.Series(
                        labels: ["__name__": "rw_exemplar", "series": "a", "cluster": "internal"],
                        samples: [(times[0], 1), (times[1], 2)],
                        exemplars: [
                            RemoteWrite.Exemplar(labels: ["trace_id": "a1"], value: 0.25, timestampMillis: times[0]),
                            RemoteWrite.Exemplar(labels: ["trace_id": "a2", "span": "x"], value: 1.5, timestampMillis: times[1]),
                        ]),
                    RemoteWrite.Series(
                        labels: ["__name__": "rw_exemplar", "series": "b"], samples: [(times[2], 3)],
                        exemplars: [RemoteWrite.Exemplar(labels: ["trace_id": "b1"], value: 7, timestampMillis: times[2])]),
                ], to: prometheus.url)
            if scrape { try await fixture.waitUntilEverythingIsThere() }
        } catch {
            await fixture.stop()
            throw error
        }
        return fixture
    }

    public func stop() async {
        await prometheus.stop()
        dir.remove()
    }

    static func scrapeConfig(port: Int, rules: String) -> String {
        """
        rule_files:
          - \(rules)
        scrape_configs:
          - job_name: self
            scrape_interval: 1s
            static_configs:
              - targets: ["127.0.0.1:\(port)"]
                labels:
                  cluster: local
          - job_name: idle
            scrape_interval: 1h
            scrape_timeout: 10s
            static_configs:
              - targets: ["127.0.0.1:\(port)"]
                labels:
                  region: local
          - job_name: dropped
            static_configs:
              - targets: ["127.0.0.1:1"]
            relabel_configs:
              - action: drop
                source_labels: [__address__]
                regex: "127\\\\.0\\\\.0\\\\.1:1"

        """
    }

    /// The `data` of a Prometheus API answer (GET `path`, by curl: large answers come chunked),
    /// as JSONSerialization reads it.
    public func data(_ path: String) async throws -> Any {
        let answer = try await ExternalProgram.curl.run(["-s", "--max-time", "10", prometheus.url + path])
        let object = try? JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any]
        guard let object, object["status"] as? String == "success", let data = object["data"] else {
            throw PrometheusServer.Failure(description: "GET \(path): \(answer.stdout.prefix(500))")
        }
        return data
    }

    private func waitUntilEverythingIsThere() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await ready() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw PrometheusServer.Failure(description: "rules, targets or metadata not there within 30 s\n\(prometheus.logTail())")
    }

    private func ready() async throws -> Bool {
        let rules = try await data("/api/v1/rules?type=alert") as? [String: Any]
        let groups = rules?["groups"] as? [[String: Any]] ?? []
        let firing = groups.contains { group in
            (group["rules"] as? [[String: Any]] ?? []).contains { $0["state"] as? String == "firing" }
        }
        let targets = try await data("/api/v1/targets") as? [String: Any]
        let active = targets?["activeTargets"] as? [[String: Any]] ?? []
        let dropped = targets?["droppedTargets"] as? [[String: Any]] ?? []
        let up = active.contains { $0["health"] as? String == "up" }
        let metadata = try await data("/api/v1/metadata?metric=prometheus_build_info") as? [String: Any]
        return firing && up && active.count == 2 && !dropped.isEmpty && !(metadata ?? [:]).isEmpty
    }
}
