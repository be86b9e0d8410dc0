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
        // Durations of successful operations only, but a read that fails before its first byte is
        // timed, as objstore times a failed Get open.
        let uploadTimer = try metrics.expectTimer("thanos_objstore_bucket_operation_duration_seconds", dimensions("upload"))
        #expect(uploadTimer.values.count == 1)
        let getTimer = try metrics.expectTimer("thanos_objstore_bucket_operation_duration_seconds", dimensions("get"))
        #expect(getTimer.values.count == 2)
        let lastUpload = try metrics.expectGauge("thanos_objstore_bucket_last_successful_upload_time", [("bucket", dir.sub("b"))])
        #expect(try #require(lastUpload.lastValue) > 1_700_000_000)
    }

    @Test func countsTheBytesMovedThroughARealBucket() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let metrics = TestMetrics()
        let bucket = InstrumentedBucket(base: try FilesystemBucket(directory: dir.sub("b")), factory: metrics)
        let dimensions = { (op: String) in [("bucket", dir.sub("b")), ("operation", op)] }
        func fetched(_ op: String) throws -> Int64 {
            try metrics.expectCounter("thanos_objstore_bucket_operation_fetched_bytes_total", dimensions(op)).totalValue
        }
        func transferred(_ op: String) throws -> [Double] {
            try metrics.expectRecorder("thanos_objstore_bucket_operation_transferred_bytes", dimensions(op)).values
        }
        // objstore pre-creates the byte series of get, get_range and upload only.
        for op in ["get", "get_range", "upload"] { #expect(try fetched(op) == 0) }
        #expect(throws: (any Error).self) {
            try metrics.expectCounter("thanos_objstore_bucket_operation_fetched_bytes_total", dimensions("iter"))
        }

        // Larger than a read piece, so the count is summed over several.
        let size = 3 * 1024 * 1024 + 17
        let source = dir.sub("chunk")
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 * 31) }).write(to: URL(fileURLWithPath: source))
        try await bucket.upload(key: "blk/chunks/000001", fileAt: source, size: Int64(size), sha256: nil)
        try await bucket.upload(key: "blk/meta.json", bytes: Array(repeating: 0x20, count: 300))
        #expect(try transferred("upload") == [Double(size), 300])
        #expect(try fetched("upload") == 0)  // objstore never adds to upload's fetched bytes

        let whole = try await bucket.readAll(key: "blk/chunks/000001")
        #expect(whole.count == size)
        #expect(try fetched("get") == Int64(size))
        #expect(try transferred("get") == [Double(size)])

        var ranged = 0
        try await bucket.read(key: "blk/chunks/000001", range: 1000..<1_201_000) {
            (piece: ArraySlice<UInt8>) throws(SkiffError) in
            ranged += piece.count
        }
        #expect(ranged == 1_200_000)
        #expect(try fetched("get_range") == 1_200_000)
        #expect(try transferred("get_range") == [1_200_000])

        // The bytes a consumer received count even when it stops the read; no transfer is observed.
        let stop = SkiffError(.invalidArgument, "enough")
        var seen = 0
        await #expect(throws: SkiffError.self) {
            try await bucket.read(key: "blk/chunks/000001", range: nil) { (piece: ArraySlice<UInt8>) throws(SkiffError) in
                seen += piece.count
                throw stop
            }
        }
        #expect(seen > 0 && seen < size)
        #expect(try fetched("get") == Int64(size + seen))
        #expect(try transferred("get") == [Double(size)])
    }
}
