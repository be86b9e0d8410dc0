import CoreMetrics
import Foundation
import SkiffCore

/// Counts and times every bucket operation under the names Thanos' dashboards and alerts use:
/// `thanos_objstore_bucket_operations_total`, `..._operation_failures_total`,
/// `..._operation_duration_seconds` (all by `bucket` and `operation`) and
/// `thanos_objstore_bucket_last_successful_upload_time`.
///
/// As in Thanos, every operation's series is created up front so dashboards see zeros, and a
/// not-found answer to a read is not a failure (the shipper asks about absent objects routinely).
public struct InstrumentedBucket: Bucket {
    public let base: any Bucket
    private let metrics: BucketMetrics

    public var name: String { base.name }

    public init(base: any Bucket, factory: any MetricsFactory = MetricsSystem.factory) {
        self.base = base
        self.metrics = BucketMetrics(bucket: base.name, factory: factory)
    }

    public func upload(
        key: String, fileAt path: String, size: Int64, sha256: String?, journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        try await metrics.observe(.upload) { () async throws(SkiffError) in
            try await base.upload(key: key, fileAt: path, size: size, sha256: sha256, journal: journal)
        }
        metrics.uploaded()
    }

    public func upload(key: String, bytes: [UInt8]) async throws(SkiffError) {
        try await metrics.observe(.upload) { () async throws(SkiffError) in try await base.upload(key: key, bytes: bytes) }
        metrics.uploaded()
    }

    public func attributes(key: String) async throws(SkiffError) -> ObjectAttributes? {
        try await metrics.observe(.attributes) { () async throws(SkiffError) in try await base.attributes(key: key) }
    }

    public func read(
        key: String, range: Range<Int64>?, into consumer: (ArraySlice<UInt8>) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        try await metrics.observe(range == nil ? .get : .getRange) { () async throws(SkiffError) in
            try await base.read(key: key, range: range, into: consumer)
        }
    }

    public func list(prefix: String, recursive: Bool) async throws(SkiffError) -> [String] {
        try await metrics.observe(.iter) { () async throws(SkiffError) in
            try await base.list(prefix: prefix, recursive: recursive)
        }
    }

    public func walk(prefix: String, page: ([ObjectEntry]) async throws(SkiffError) -> Void) async throws(SkiffError) {
        try await metrics.observe(.iter) { () async throws(SkiffError) in try await base.walk(prefix: prefix, page: page) }
    }

    public func incompleteUploads(prefix: String) async throws(SkiffError) -> [String] {
        try await metrics.observe(.iter) { () async throws(SkiffError) in try await base.incompleteUploads(prefix: prefix) }
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
    private let lastUpload: Gauge

    init(bucket: String, factory: any MetricsFactory) {
        func each<T>(_ make: (Operation) -> T) -> [Operation: T] {
            Dictionary(uniqueKeysWithValues: Operation.allCases.map { ($0, make($0)) })
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
                label: "thanos_objstore_bucket_operation_duration_seconds",
                dimensions: [("bucket", bucket), ("operation", $0.rawValue)], factory: factory)
        }
        lastUpload = Gauge(
            label: "thanos_objstore_bucket_last_successful_upload_time", dimensions: [("bucket", bucket)], factory: factory)
    }

    func observe<T>(_ operation: Operation, _ body: () async throws(SkiffError) -> T) async throws(SkiffError) -> T {
        operations[operation]!.increment()
        let start = DispatchTime.now().uptimeNanoseconds
        defer { durations[operation]!.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start)) }
        do {
            return try await body()
        } catch {
            if error.code != .notFound { failures[operation]!.increment() }
            throw error
        }
    }

    func uploaded() { lastUpload.record(Date().timeIntervalSince1970) }
}
