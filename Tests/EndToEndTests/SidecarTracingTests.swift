import Foundation
import TestSupport
import Testing

/// `--tracing.config` through `skiff sidecar` with a bucket (the Series spans are checked in
/// StoreAPITests).
@Suite(.serialized, .needs(.promtool, .prometheus, .curl, .juicefs, .boto3)) struct SidecarTracingTests {
    /// `--tracing.config` with a bucket: each block the shipper drives is a span.
    @Test(.needs(.python3)) func blockUploadsAreSpans() async throws {
        let world = try await SidecarTests.World.make()
        let receiver = try OTLPReceiver(directory: world.root)
        defer { receiver.stop() }
        let arguments = world.arguments(["--tracing.config", receiver.tracingConfig(serviceName: "skiff-shipper")])
        let (_, result) = try await SidecarTests.withSidecar(arguments) { running in
            let deadline = ContinuousClock.now + .seconds(60)
            while world.shipped().count < world.localBlocks.count && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(world.shipped() == world.localBlocks, "\(running.stderrSoFar)")
        }
        #expect(result.status == 0, "\(result)")
        // Stopping flushed the exporter's batch.
        let text = receiver.received
        #expect(text.contains("shipper.upload_block"), "\(text.utf8.count) bytes received")
        for ulid in world.localBlocks { #expect(text.contains(ulid.string), "\(ulid)") }
        await world.finish()
    }
}
