import Foundation
import MetricsTestKit
import PrometheusClient
import SkiffCore
import TestSupport
import Testing

@testable import Reloader

/// The reloader against Debian's real Prometheus 2.42: it writes Prometheus' config file and
/// tells it to reload; what Prometheus then serves is read back from its API.
@Suite(.needs(.prometheus)) struct ConfigReloaderLiveTests {
    /// (a) A `$(VAR)` in external_labels is substituted, written, and loaded by Prometheus.
    @Test func substitutedConfigIsWrittenAndLoaded() async throws {
        try await ReloaderHarness.with { h in
            try h.writeTemplate(h.config(replica: "$(RELOADER_TEST_REPLICA)"))
            try await h.running(h.configuration(environment: ["RELOADER_TEST_REPLICA": "r-42"])) {
                try await h.eventually("Prometheus reports replica r-42") { try await h.replica() == "r-42" }
                let written = try String(contentsOfFile: h.server.configPath, encoding: .utf8)
                #expect(written.contains("replica: \"r-42\"") && !written.contains("$("))
                #expect(h.counter("reloads_total") == 1)
                #expect(h.counter("reloads_failed_total") == 0)
                #expect(h.gauge("last_reload_successful") == 1)
                #expect((h.gauge("last_reload_success_timestamp_seconds") ?? 0) > Date().timeIntervalSince1970 - 60)
                #expect(h.gauge("watches") == 3)  // as Thanos counts: the config file, its dir, the rule dir
                #expect(h.gauge("config_environment_variable_expansion_errors") == 0)
                #expect(try h.metrics.expectGauge("thanos_sidecar_reloader_info", [("method", "http")]).lastValue == 1)
                let info = h.logs.messages(at: .info)
                #expect(info.prefix(2) == ["reloading via HTTP", "Reload triggered"])
                #expect(info.contains("started watching config file and directories for changes"))
                let triggered = try #require(h.logs.all.first { $0.message == "Reload triggered" })
                #expect(triggered.metadata["component"] == "reloader")
                #expect(triggered.metadata["cfg_in"] == h.template && triggered.metadata["cfg_out"] == h.server.configPath)
            }
        }
    }

    /// (b) A rule file written into a watched dir is loaded without waiting for the interval.
    @Test func ruleChangeInWatchedDirReloads() async throws {
        try await ReloaderHarness.with { h in
            try h.writeTemplate(h.config(replica: "rules"))
            try h.writeRule("reloader_test_first")
            try await h.running(h.configuration(watchInterval: .seconds(60))) {
                try await h.eventually("the first rule loaded") { try await h.ruleNames() == ["reloader_test_first"] }
                try h.writeRule("reloader_test_second")
                try await h.eventually("the second rule loaded") { try await h.ruleNames() == ["reloader_test_second"] }
                #expect(h.counter("reloads_total") == 2)
                #expect(h.counter("watch_events_total") > 0)
                #expect(h.counter("config_apply_operations_total") >= 1)
            }
        }
    }

    /// (c) touch and a rewrite with the same bytes wake the reloader, but nothing is reloaded.
    @Test func unchangedContentDoesNotReload() async throws {
        try await ReloaderHarness.with { h in
            try h.writeTemplate(h.config(replica: "same"))
            try h.writeRule("reloader_test_same")
            try await h.running(h.configuration(watchInterval: .seconds(60))) {
                try await h.eventually("the first reload") { h.gauge("last_reload_successful") == 1 }
                let applies = h.counter("config_apply_operations_total")
                try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: h.template)
                try await h.eventually("an apply after touch") { h.counter("config_apply_operations_total") > applies }
                try h.writeRule("reloader_test_same")  // same bytes, new inode (atomic write)
                try h.writeTemplate(h.config(replica: "same"))
                try await h.eventually("an apply after the rewrite") {
                    h.counter("config_apply_operations_total") > applies + 1
                }
                try await Task.sleep(for: .milliseconds(300))  // any further events settle
                #expect(h.counter("reloads_total") == 1)
                #expect(h.counter("config_apply_operations_failed_total") == 0)
            }
        }
    }

    /// (d) A config Prometheus refuses counts failures and is retried; the fix is applied at once.
    @Test func refusedConfigIsRetriedUntilFixed() async throws {
        try await ReloaderHarness.with { h in
            try h.writeTemplate(h.config(replica: "good"))
            try await h.running(h.configuration(watchInterval: .seconds(60))) {
                try await h.eventually("the good config") { try await h.replica() == "good" }
                try h.writeTemplate(h.config(replica: "broken", scrapeInterval: "banana"))
                try await h.eventually("several failed attempts") { h.counter("reloads_failed_total") >= 3 }
                #expect(h.gauge("last_reload_successful") == 0)
                #expect(try await h.replica() == "good")  // Prometheus kept its running config
                let retry = try #require(h.logs.all.first { $0.message == "reload failed; retrying" })
                #expect(retry.level == .warning)
                #expect(retry.metadata["err"]?.contains("received non-200 response: 500") == true, "\(retry.metadata)")
                #expect(retry.metadata["err"]?.contains("banana") == true, "\(retry.metadata)")
                try h.writeTemplate(h.config(replica: "fixed"))
                try await h.eventually("the fixed config") { try await h.replica() == "fixed" }
                // Prometheus applies the config before its answer reaches the reloader, which only
                // then records the success: wait for the record rather than race it.
                try await h.eventually("the success recorded") { h.gauge("last_reload_successful") == 1 }
                #expect(h.counter("config_apply_operations_failed_total") == 0)
            }
        }
    }

    /// Thanos' TestReloader_ConfigRollback: after a refused config, going back to the content
    /// last reloaded must reload again (Prometheus may hold neither), though its hash is the
    /// last successful one.
    @Test func rollbackAfterARefusedConfigReloads() async throws {
        try await ReloaderHarness.with { h in
            try h.writeTemplate(h.config(replica: "before"))
            try await h.running(h.configuration(watchInterval: .seconds(1))) {
                try await h.eventually("the first config") { try await h.replica() == "before" }
                try h.writeTemplate(h.config(replica: "broken", scrapeInterval: "banana"))
                try await h.eventually("a failed attempt") { h.gauge("last_reload_successful") == 0 }
                let reloads = h.counter("reloads_total")
                try h.writeTemplate(h.config(replica: "before"))
                try await h.eventually("a reload of the rolled-back config") { h.gauge("last_reload_successful") == 1 }
                #expect(h.counter("reloads_total") > reloads)
            }
        }
    }

    /// `--reloader.watch-interval=0`: the output is written once, Prometheus is never told, and
    /// the reloader stays up until shutdown (Thanos' would end the sidecar here).
    @Test func zeroWatchIntervalWritesOnceAndNeverReloads() async throws {
        try await ReloaderHarness.with { h in
            try h.writeTemplate(h.config(replica: "$(RELOADER_TEST_ZERO)"))
            let configuration = h.configuration(watchInterval: .zero, environment: ["RELOADER_TEST_ZERO": "written"])
            try await h.running(configuration) {
                try await h.eventually("the output written") {
                    (try? String(contentsOfFile: h.server.configPath, encoding: .utf8))?.contains("\"written\"") == true
                }
                try h.writeTemplate(h.config(replica: "changed"))
                try await Task.sleep(for: .milliseconds(300))
                #expect(h.counter("reloads_total") == 0)
                #expect(try await h.replica() == "initial")
                #expect(try String(contentsOfFile: h.server.configPath, encoding: .utf8).contains("\"written\""))
            }
        }
    }

    /// The signal method with no process of that name: each attempt fails and is counted.
    @Test func signalToAMissingProcessFailsAndRetries() async throws {
        try await ReloaderHarness.with { h in
            try h.writeTemplate(h.config(replica: "unsent"))
            let configuration = h.configuration(
                watchInterval: .seconds(30), method: .signal(processName: "skiff-no-such-\(UInt16.random(in: 0...9999))"))
            try await h.running(configuration) {
                try await h.eventually("two failed attempts") { h.counter("reloads_failed_total") >= 2 }
                #expect(h.gauge("last_reload_successful") == 0)
                #expect(try await h.replica() == "initial")
            }
        }
    }

    /// (e) A gzip-compressed config (prometheus-operator's prometheus.yaml.gz) is gunzipped.
    @Test func gzippedConfigIsGunzipped() async throws {
        try await ReloaderHarness.with { h in
            try h.writeTemplate(h.config(replica: "$(RELOADER_TEST_GZ)"))
            let gzip = try await ExternalProgram.run(atPath: "/bin/gzip", ["-k", h.template])
            #expect(gzip.succeeded, "\(gzip.stderr)")
            let configuration = h.configuration(configFile: h.template + ".gz", environment: ["RELOADER_TEST_GZ": "from-gz"])
            try await h.running(configuration) {
                try await h.eventually("the gunzipped config") { try await h.replica() == "from-gz" }
            }
        }
    }

    /// (g) SIGHUP to Prometheus found by its process name, confirmed through runtimeinfo. The
    /// name is a symlink's, longer than the kernel's 15-byte comm, so it is unique to this test.
    @Test func signalMethodReloadsTheNamedProcess() async throws {
        let links = try TempDir()
        defer { links.remove() }
        let name = "prometheus-skiff-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        try FileManager.default.createSymbolicLink(
            atPath: links.sub(name), withDestinationPath: try ExternalProgram.prometheus.path())
        try await ReloaderHarness.with(executable: links.sub(name)) { h in
            try h.writeTemplate(h.config(replica: "signalled"))
            try h.writeRule("reloader_test_signal")
            let configuration = h.configuration(watchInterval: .seconds(60), method: .signal(processName: name))
            try await h.running(configuration) {
                try await h.eventually("the signalled config") { try await h.replica() == "signalled" }
                try await h.eventually("the signalled rule") { try await h.ruleNames() == ["reloader_test_signal"] }
                #expect(h.counter("reloads_failed_total") == 0)
                #expect(try h.metrics.expectGauge("thanos_sidecar_reloader_info", [("method", "signal")]).lastValue == 1)
                try h.writeTemplate(h.config(replica: "signalled-again"))
                try await h.eventually("the second signalled config") { try await h.replica() == "signalled-again" }
                #expect(h.counter("reloads_total") == 2)
            }
        }
    }

    /// A change no watch sees (a symlinked rule file's target, outside the watched dir) is found
    /// by the periodic re-check, as a Kubernetes ConfigMap's symlink swap can be.
    @Test func periodicRecheckCatchesWhatTheWatchMisses() async throws {
        try await ReloaderHarness.with { h in
            let outside = h.dir.sub("outside.yml")
            try h.writeTemplate(h.config(replica: "periodic"))
            let yaml: @Sendable (String) -> String = { name in
                "groups:\n  - name: t\n    rules:\n      - record: \(name)\n        expr: vector(1)\n"
            }
            try yaml("reloader_test_before").write(toFile: outside, atomically: false, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: h.rules + "/linked.yml", withDestinationPath: outside)
            try await h.running(h.configuration(watchInterval: .seconds(1))) {
                try await h.eventually("the first rule") { try await h.ruleNames() == ["reloader_test_before"] }
                let events = h.counter("watch_events_total")
                try yaml("reloader_test_after").write(toFile: outside, atomically: false, encoding: .utf8)
                try await h.eventually("the rule changed behind the symlink") {
                    try await h.ruleNames() == ["reloader_test_after"]
                }
                #expect(h.counter("watch_events_total") == events)
            }
        }
    }

    /// (f) An unset `$(VAR)` ends the reloader at its first apply, naming the variable and the
    /// flag; nothing is written and Prometheus is never called.
    @Test func unsetVariableIsAClearErrorAtStart() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try "global:\n  external_labels:\n    replica: $(RELOADER_TEST_UNSET)\n".write(
            toFile: dir.sub("in.yml"), atomically: false, encoding: .utf8)
        let client = try PrometheusClient(url: "http://127.0.0.1:9")
        let metrics = TestMetrics()
        let reloader = ConfigReloader(
            configuration: ReloaderConfiguration(
                configFile: dir.sub("in.yml"), configEnvsubstFile: dir.sub("out.yml"), environment: ["OTHER": "1"]),
            client: client, logger: quietLogger, metrics: ReloaderMetrics(factory: metrics))
        do {
            try await reloader.run()
            Issue.record("the reloader started with an unset variable")
        } catch let error as SkiffError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("RELOADER_TEST_UNSET is not set"), "\(error.message)")
            #expect(error.message.contains("--reloader.config-file \(dir.sub("in.yml"))"), "\(error.message)")
        }
        await client.shutdown()
        #expect(!FileManager.default.fileExists(atPath: dir.sub("out.yml")))
        #expect(
            try metrics.expectGauge("thanos_sidecar_reloader_config_environment_variable_expansion_errors").lastValue == 1)
        #expect(metrics.counterTotal(label: "thanos_sidecar_reloader_reloads_total") == 0)
    }
}
