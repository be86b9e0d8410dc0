import CoreMetrics
import FileIO
import Foundation
import SkiffCore

/// Counts and times every bucket operation under the names Thanos' dashboards and alerts use
/// (thanos-io/objstore's `BucketMetrics`): `thanos_objstore_bucket_operations_total`,
/// `..._operation_failures_total`, `..._operation_duration_seconds`,
/// `..._operation_fetched_bytes_total`, `..._operation_transferred_bytes` (all by `bucket` and
/// `operation`) and `thanos_objstore_bucket_last_successful_upload_time`.
///
/// As in Thanos, every operation's series is created up front so dashboards see zeros, and a
/// not-found answer to a read is not a failure (the shipper asks about absent objects routinely).
/// Durations are of successful operations, except that listings are always timed and a read that
/// fails before its first byte is timed too (objstore times `Iter` in a defer and a failed `Get`
/// open). Bytes, as objstore counts them: `fetched_bytes_total` counts a read's bytes as the
/// caller receives them (upload's series stays 0: objstore never adds to it);
/// `transferred_bytes` observes a successful read's bytes and a successful upload's size (a
/// resumed multipart upload sends less, but Thanos, which cannot resume, would send it all).
///
/// swift-metrics carries no histogram buckets: register `durationBuckets` and
/// `transferredBytesBuckets` under their metric names with the metrics backend (for
/// swift-prometheus, `PrometheusMetricsFactory.durationHistogramBuckets` and
/// `valueHistogramBuckets`) before a bucket is made, or the backend's defaults apply.
public struct InstrumentedBucket: Bucket {
    public static let durationMetric = "thanos_objstore_bucket_operation_duration_seconds"
    /// objstore's `opsDuration` buckets (seconds): 0.001, 0.01, 0.1, 0.3, 0.6, 1, 3, 6, 9, 20, 30, 60, 90, 120.
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(10), .milliseconds(100), .milliseconds(300), .milliseconds(600), .seconds(1),
        .seconds(3), .seconds(6), .seconds(9), .seconds(20), .seconds(30), .seconds(60), .seconds(90), .seconds(120),
    ]
    public static let transferredBytesMetric = "thanos_objstore_bucket_operation_transferred_bytes"
    /// objstore's `ExponentialBuckets(32 KiB, 2, 16)`: 32 KiB, 64 KiB, ... 1 GiB.
    public static let transferredBytesBuckets: [Double] = (0..<16).map { Double(32768 << $0) }

    public let base: any Bucket
    private let metrics: BucketMetrics

    public var name: String { base.name }

    public init(base: any Bucket, factory: any MetricsFactory = MetricsSystem.factory) {
        self.base = base
        self.metrics = BucketMetrics(bucket: base.name, factory: factory)
    }

    public func upload(
        key: String, fileAt path: String, size: Int64, sha256: String?, hashedAs hashed: HashedFile?,
        journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        try await metrics.observe(.upload) { () async throws(SkiffError) in
            try await base.upload(key: key, fileAt: path, size: size, sha256: sha256, hashedAs: hashed, journal: journal)
        }
        metrics.uploaded(bytes: size)
    }

    public func signedPartSize(forFileOfSize size: Int64) -> Int64? { base.signedPartSize(forFileOfSize: size) }

    public func upload(key: String, bytes: [UInt8]) async throws(SkiffError) {
        try await metrics.observe(.upload) { () async throws(SkiffError) in try await base.upload(key: key, bytes: bytes) }
        metrics.uploaded(bytes: Int64(bytes.count))
    }

    public func attributes(key: String) async throws(SkiffError) -> ObjectAttributes? {
        try await metrics.observe(.attributes) { () async throws(SkiffError) in try await base.attributes(key: key) }
    }

    public func read(
        key: String, range: Range<Int64>?, into consumer: (ArraySlice<UInt8>) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        let operation: BucketMetrics.Operation = range == nil ? .get : .getRange
        var received: Int64 = 0
        try await metrics.observe(operation, timeFailure: { received == 0 }) { () async throws(SkiffError) in
            try await base.read(key: key, range: range) { (piece: ArraySlice<UInt8>) async throws(SkiffError) in
                received += Int64(piece.count)
                metrics.fetched(operation, bytes: piece.count)
                try await consumer(piece)
            }
        }
        metrics.transferred(operation, bytes: received)
    }

    public func list(prefix: String, recursive: Bool) async throws(SkiffError) -> [String] {
        try await metrics.observe(.iter, timeFailure: { true }) { () async throws(SkiffError) in
            try await base.list(prefix: prefix, recursive: recursive)
        }
    }

    public func walk(prefix: String, page: ([ObjectEntry]) async throws(SkiffError) -> Void) async throws(SkiffError) {
        try await metrics.observe(.iter, timeFailure: { true }) { () async throws(SkiffError) in
            try await base.walk(prefix: prefix, page: page)
        }
    }

    public func incompleteUploads(prefix: String) async throws(SkiffError) -> [String] {
        try await metrics.observe(.iter, timeFailure: { true }) { () async throws(SkiffError) in
            try await base.incompleteUploads(prefix: prefix)
        }
    }

    public func delete(key: String) async throws(SkiffError) {
        try await metrics.observe(.delete) { () async throws(SkiffError) in try await base.delete(key: key) }
    }

    public func abortIncompleteUploads(prefix: String) async throws(SkiffError) -> Int {
        try await metrics.observe(.delete) { () async throws(SkiffError) in
            try await base.abortIncompleteUploads(prefix: prefix)
        }
    }

    public func shutdown() async { await base.shutdown() }
}

/// The metric handles of one bucket.
struct BucketMetrics: Sendable {
    /// Thanos' operation names (`objstore.OpGet` and friends).
    enum Operation: String, CaseIterable {
        case get, getRange = "get_range", exists, upload, delete, iter, attributes
    }

    private let operations: [Operation: CoreMetrics.Counter]
    private let failures: [Operation: CoreMetrics.Counter]
    private let durations: [Operation: CoreMetrics.Timer]
    /// Only get, get_range and upload have byte series, as in objstore.
    private let fetchedBytes: [Operation: CoreMetrics.Counter]
    private let transferredBytes: [Operation: Recorder]
    private let lastUpload: Gauge

    init(bucket: String, factory: any MetricsFactory) {
        func each<T>(_ operations: [Operation] = Operation.allCases, _ make: (Operation) -> T) -> [Operation: T] {
            Dictionary(uniqueKeysWithValues: operations.map { ($0, make($0)) })
        }
        operations = each {
            Counter(
                label: "thanos_objstore_bucket_operations_total", dimensions: [("bucket", bucket), ("operation", $0.rawValue)],
                factory: factory)
        }
        failures = each {
            Counter(
                label: "thanos_objstore_bucket_operation_failures_total",
                dimensions: [("bucket", bucket), ("operation", $0.rawValue)],
                factory: factory)
        }
        durations = each {
            Timer(
                label: InstrumentedBucket.durationMetric, dimensions: [("bucket", bucket), ("operation", $0.rawValue)],
                factory: factory)
        }
        fetchedBytes = each([.get, .getRange, .upload]) {
            Counter(
                label: "thanos_objstore_bucket_operation_fetched_bytes_total",
                dimensions: [("bucket", bucket), ("operation", $0.rawValue)], factory: factory)
        }
        transferredBytes = each([.get, .getRange, .upload]) {
            Recorder(
                label: InstrumentedBucket.transferredBytesMetric, dimensions: [("bucket", bucket), ("operation", $0.rawValue)],
                aggregate: true, factory: factory)
        }
        lastUpload = Gauge(
            label: "thanos_objstore_bucket_last_successful_upload_time", dimensions: [("bucket", bucket)], factory: factory)
    }

    /// Counts the operation, and its failure unless not-found; times it when it succeeds, or when
    /// it fails and `timeFailure` says so (asked after the failure).
    func observe<T>(
        _ operation: Operation, timeFailure: () -> Bool = { false }, _ body: () async throws(SkiffError) -> T
    ) async throws(SkiffError) -> T {
        operations[operation]!.increment()
        let start = DispatchTime.now().uptimeNanoseconds
        func time() { durations[operation]!.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start)) }
        do {
            let result = try await body()
            time()
            return result
        } catch {
            if error.code != .notFound { failures[operation]!.increment() }
            if timeFailure() { time() }
            throw error
        }
    }

    /// Bytes handed to a reader's consumer.
    func fetched(_ operation: Operation, bytes: Int) { fetchedBytes[operation]!.increment(by: Int64(bytes)) }

    /// A successful read's or upload's bytes.
    func transferred(_ operation: Operation, bytes: Int64) { transferredBytes[operation]!.record(bytes) }

    func uploaded(bytes: Int64) {
        transferred(.upload, bytes: bytes)
        lastUpload.record(Date().timeIntervalSince1970)
    }
}
