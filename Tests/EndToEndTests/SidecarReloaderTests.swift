import Foundation
import SkiffCore
import TestSupport
import Testing

/// `--reloader.*` through `skiff sidecar`: the watched template's `$(VAR)` is substituted into
/// the file Prometheus reads, Prometheus is reloaded and serves the new config, and the
/// `thanos_sidecar_reloader_*` metrics say so.
@Suite(.serialized, .needs(.promtool, .prometheus, .curl, .juicefs, .boto3)) struct SidecarReloaderTests {
    @Test func aSubstitutedConfigReachesPrometheus() async throws {
        let world = try await SidecarTests.World.make()
        let template = world.root.sub("prometheus.yml.tmpl")
        let original = try String(contentsOfFile: world.prometheus.configPath, encoding: .utf8)
        #expect(original.contains("replica"), "\(original)")
        // Prometheus writes label values quoted or not; the template sets its own line.
        try (original + "\n# reloaded by skiff: $(SKIFF_RELOAD_MARK)\n").write(
            toFile: template, atomically: true, encoding: .utf8)
        let arguments = world.arguments(
            [
                "--reloader.config-file", template, "--reloader.config-envsubst-file", world.prometheus.configPath,
                "--reloader.watch-interval=1s", "--reloader.retry-interval=200ms",
            ], bucket: false)
        let ((metrics, status), result) = try await SidecarTests.withSidecar(
            arguments, environment: ["SKIFF_RELOAD_MARK": "mark-42"]
        ) {
            running in
            let deadline = ContinuousClock.now + .seconds(30)
            var written = ""
            while !written.contains("mark-42") && ContinuousClock.now < deadline {
                written = (try? String(contentsOfFile: world.prometheus.configPath, encoding: .utf8)) ?? ""
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(written.contains("# reloaded by skiff: mark-42"), "\(running.stderrSoFar)")
            var body = ""
            while !body.contains("thanos_sidecar_reloader_reloads_total 1") && ContinuousClock.now < deadline {
                body = await HTTPProbe.get(port: world.httpPort, path: "/metrics")?.body ?? ""
                try await Task.sleep(for: .milliseconds(100))
            }
            // The status page's JSON says the same, from the reloader's own record.
            let status = await HTTPProbe.get(port: world.httpPort, path: "/api/v1/skiff/status")?.body ?? ""
            return (body, try JSONValue.parse(Array(status.utf8)))
        }
        #expect(result.status == 0, "\(result)")
        #expect(metrics.contains("thanos_sidecar_reloader_reloads_total 1"), "\(metrics)")
        #expect(metrics.contains("thanos_sidecar_reloader_reloads_failed_total 0"), "\(metrics)")
        #expect(metrics.contains("thanos_sidecar_reloader_last_reload_successful 1"), "\(metrics)")
        let reloader = status["data"]?["reloader"]
        #expect(reloader?["method"] == .string("http"), "\(status)")
        #expect(reloader?["config_file"] == .string(template))
        #expect(reloader?["config_envsubst_file"] == .string(world.prometheus.configPath))
        #expect(reloader?["reloads"]?.int64Value == 1 && reloader?["failed_reloads"]?.int64Value == 0)
        #expect(reloader?["last_success_at"]?.int64Value != nil && reloader?["failing"] == .bool(false))
        await world.finish()
    }
}
