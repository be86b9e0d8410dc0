import Foundation
import TestSupport
import Testing

extension SidecarTests {
    /// What Thanos' registry always has, on the real binary's /metrics: build info, the process
    /// collector, objstore's byte counters, and `thanos_shipper_upload_compacted_done` (1 after a
    /// clean pass with --shipper.upload-compacted, 0 after one without).
    @Test func exportsBuildProcessAndCompactedMetrics() async throws {
        let world = try await World.make()
        do {
            let (metrics, result) = try await Self.withSidecar(world.arguments(["--shipper.upload-compacted"])) { running in
                let deadline = ContinuousClock.now + .seconds(60)
                while world.shipped().count < world.localBlocks.count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(world.shipped() == world.localBlocks, "\(running.stderrSoFar)")
                try await Task.sleep(for: .seconds(1))  // one more, clean, pass
                return await HTTPProbe.get(port: world.httpPort, path: "/metrics")?.body ?? ""
            }
            #expect(result.status == 0, "\(result)")
            #expect(metrics.contains("\nthanos_shipper_upload_compacted_done 1"), "\(metrics)")
            #expect(metrics.contains(#"version="0.1.0"} 1"#) && metrics.contains("\nthanos_build_info{"), "\(metrics)")
            let start = metrics.split(separator: "\n").first { $0.hasPrefix("process_start_time_seconds ") }
                .flatMap { Double($0.split(separator: " ")[1]) }
            // The sidecar started moments ago.
            #expect(abs((start ?? 0) - Date().timeIntervalSince1970) < 60, "\(metrics)")
            #expect(metrics.contains("\nprocess_open_fds "), "\(metrics)")
            #expect(
                metrics.contains(#"thanos_objstore_bucket_operation_fetched_bytes_total{bucket="#)
                    && metrics.contains("\nthanos_objstore_bucket_operation_transferred_bytes_bucket{"), "\(metrics)")

            // Without the flag, a clean pass sets it to 0.
            let (again, secondResult) = try await Self.withSidecar(world.arguments()) { running in
                let deadline = ContinuousClock.now + .seconds(30)
                var body = ""
                let synced = { (body: String) in
                    body.contains("\nthanos_shipper_dir_syncs_total ") && !body.contains("\nthanos_shipper_dir_syncs_total 0")
                }
                while !synced(body) && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                    body = await HTTPProbe.get(port: world.httpPort, path: "/metrics")?.body ?? ""
                }
                return body
            }
            #expect(secondResult.status == 0, "\(secondResult)")
            #expect(again.contains("\nthanos_shipper_upload_compacted_done 0"), "\(again)")
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }
}
