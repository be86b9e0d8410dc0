import Foundation
import MetricsTestKit
import ObjectStorage
import SkiffCore
import TestSupport
import Testing

/// Thanos' bucket metrics: pre-created series, per-operation counts, failures without not-found.
@Suite struct InstrumentedBucketTests {
    @Test func countsOperationsAndFailuresAsThanosDoes() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let metrics = TestMetrics()
        let bucket = InstrumentedBucket(base: try FilesystemBucket(directory: dir.sub("b")), factory: metrics)
        let dimensions = { (op: String) in [("bucket", dir.sub("b")), ("operation", op)] }
        func count(_ label: String, _ op: String) throws -> Int64 {
            try metrics.expectCounter(label, dimensions(op)).totalValue
        }
        // Every operation's series exists before it is used, at zero.
        for op in ["get", "get_range", "exists", "upload", "delete", "iter", "attributes"] {
            #expect(try count("thanos_objstore_bucket_operations_total", op) == 0)
            #expect(try count("thanos_objstore_bucket_operation_failures_total", op) == 0)
        }

        try await bucket.upload(key: "blk/meta.json", bytes: [1, 2, 3])
        _ = try await bucket.readAll(key: "blk/meta.json")
        _ = try await bucket.list(prefix: "", recursive: true)
        #expect(try await bucket.attributes(key: "absent") == nil)
        // Not found is an answer, not a failure.
        await #expect(throws: SkiffError.self) { _ = try await bucket.readAll(key: "absent") }
        // A rejected upload is a failure.
        let source = dir.sub("src")
        try Array(repeating: UInt8(7), count: 10).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: source)) }
        await #expect(throws: SkiffError.self) {
            try await bucket.upload(key: "blk/index", fileAt: source, size: 11, sha256: nil)
        }

        #expect(try count("thanos_objstore_bucket_operations_total", "upload") == 2)
        #expect(try count("thanos_objstore_bucket_operation_failures_total", "upload") == 1)
        #expect(try count("thanos_objstore_bucket_operations_total", "get") == 2)
        #expect(try count("thanos_objstore_bucket_operation_failures_total", "get") == 0)
        #expect(try count("thanos_objstore_bucket_operations_total", "iter") == 1)
        #expect(try count("thanos_objstore_bucket_operations_total", "attributes") == 1)
        let timer = try metrics.expectTimer("thanos_objstore_bucket_operation_duration_seconds", dimensions("upload"))
        #expect(timer.values.count == 2)
        let lastUpload = try metrics.expectGauge("thanos_objstore_bucket_last_successful_upload_time", [("bucket", dir.sub("b"))])
        #expect(try #require(lastUpload.lastValue) > 1_700_000_000)
    }
}
