import Metrics
import ObjectStorage
import Prometheus
import TestSupport
import Testing

/// The objstore metrics as a scraper sees them, with the histogram buckets registered the way the
/// sidecar registers them: Thanos' `le` bounds, and byte counts of a real filesystem bucket.
@Suite("objstore metrics exposition")
struct ObjstoreExpositionTests {
    @Test("Thanos' duration and transferred-bytes buckets; bytes as moved", .needs(.promtool))
    func bucketsAndBytes() async throws {
        try await RunningServer.with { server in
            var factory = PrometheusMetricsFactory(registry: server.registry)
            factory.durationHistogramBuckets[InstrumentedBucket.durationMetric] = InstrumentedBucket.durationBuckets
            factory.valueHistogramBuckets[InstrumentedBucket.transferredBytesMetric] =
                InstrumentedBucket.transferredBytesBuckets
            let dir = try TempDir()
            defer { dir.remove() }
            let bucket = InstrumentedBucket(base: try FilesystemBucket(directory: dir.sub("b")), factory: factory)
            try await bucket.upload(key: "blk/meta.json", bytes: Array(repeating: 0x7b, count: 100_000))
            #expect(try await bucket.readAll(key: "blk/meta.json").count == 100_000)

            let body = try await RawHTTP.get("/metrics", port: server.port).body
            let scraped = ScrapedMetrics(body)
            let labels = { (op: String) in #"bucket="\#(dir.sub("b"))",operation="\#(op)""# }
            let duration = "thanos_objstore_bucket_operation_duration_seconds"
            let transferred = "thanos_objstore_bucket_operation_transferred_bytes"
            let fetched = "thanos_objstore_bucket_operation_fetched_bytes_total"
            #expect(scraped.types[duration] == "histogram")
            #expect(scraped.types[transferred] == "histogram")
            #expect(scraped.types[fetched] == "counter")

            // The `le` bounds of one series, in order; +Inf is always last.
            func bounds(_ name: String, _ op: String) -> [Double] {
                body.split(separator: "\n").filter { $0.hasPrefix("\(name)_bucket{\(labels(op)),") }
                    .compactMap { $0.split(separator: "\"").dropLast().last.flatMap { Double($0) } }
            }
            #expect(bounds(duration, "get") == [0.001, 0.01, 0.1, 0.3, 0.6, 1, 3, 6, 9, 20, 30, 60, 90, 120, .infinity])
            let byteBounds = bounds(transferred, "get")
            #expect(byteBounds == (0..<16).map { 32768 * Double(1 << $0) } + [.infinity])
            #expect(byteBounds.dropLast().last == 1_073_741_824)  // 1 GiB

            #expect(scraped.value("\(fetched){\(labels("get"))}") == 100_000)
            #expect(scraped.value("\(fetched){\(labels("upload"))}") == 0)
            #expect(scraped.value("\(fetched){\(labels("get_range"))}") == 0)
            for op in ["get", "upload"] {
                #expect(scraped.value(#"\#(transferred)_bucket{\#(labels(op)),le="65536.0"}"#) == 0, "\(op)")
                #expect(scraped.value(#"\#(transferred)_bucket{\#(labels(op)),le="131072.0"}"#) == 1, "\(op)")
                #expect(scraped.value("\(transferred)_sum{\(labels(op))}") == 100_000, "\(op)")
            }

            let check = try await promtoolCheckMetrics(body)
            #expect(check.status == 0 || check.status == 3, "promtool: \(check.output)")
        }
    }
}
