import SkiffCore
import Testing

@testable import PrometheusClient

/// The pure parsing behind `lowestTimestampMillis` and `externalLabels`.
struct ExpositionParsingTests {
    let metrics = """
        # HELP prometheus_tsdb_lowest_timestamp Lowest timestamp value stored in the database. The unit is decided by the library consumer.
        # TYPE prometheus_tsdb_lowest_timestamp gauge
        prometheus_tsdb_lowest_timestamp 1.795499183e+12
        # HELP prometheus_tsdb_lowest_timestamp_seconds Lowest timestamp value stored in the database.
        # TYPE prometheus_tsdb_lowest_timestamp_seconds gauge
        prometheus_tsdb_lowest_timestamp_seconds 1.795499183e+09
        prometheus_tsdb_mmap_chunk_corruptions_total 0

        """

    func find(_ text: String, chunk: Int) throws -> Double? {
        var finder = ExpositionSampleFinder(metric: PrometheusClient.lowestTimestampMetric)
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: chunk)
        where try finder.feed(bytes[start..<min(start + chunk, bytes.count)]) {
            return finder.value
        }
        return try finder.finish()
    }

    @Test(arguments: [1, 7, 4096])
    func findsTheSampleWhateverTheChunking(chunk: Int) throws {
        #expect(try find(metrics, chunk: chunk) == 1.795499183e9)
    }

    @Test func absentMetricIsNil() throws {
        #expect(try find("up 1\nprometheus_tsdb_lowest_timestamp_seconds_total 5\n", chunk: 3) == nil)
        #expect(try find("", chunk: 1) == nil)
    }

    @Test func lastLineWithoutNewlineAndLabelsAndTimestamps() throws {
        #expect(try find("up 1\nprometheus_tsdb_lowest_timestamp_seconds 12.5", chunk: 5) == 12.5)
        #expect(try find("prometheus_tsdb_lowest_timestamp_seconds{db=\"a}b\"} 3 1700000000000\n", chunk: 2) == 3)
    }

    @Test func malformedSampleIsAnError() {
        #expect(throws: SkiffError.self) { try find("prometheus_tsdb_lowest_timestamp_seconds abc\n", chunk: 4) }
        #expect(throws: SkiffError.self) { try find("prometheus_tsdb_lowest_timestamp_seconds NaN\n", chunk: 4) }
    }

    @Test func longUnrelatedLinesAreSkippedWithBoundedMemory() throws {
        let long = "big{l=\"" + String(repeating: "x", count: 100_000) + "\"} 1\n"
        #expect(try find(long + "prometheus_tsdb_lowest_timestamp_seconds 2\n", chunk: 1000) == 2)
    }

    @Test func secondsBecomeMillis() throws {
        #expect(try PrometheusClient.millis(fromSeconds: 1.795499183e9) == 1_795_499_183_000)
        #expect(try PrometheusClient.millis(fromSeconds: 1795499183.123) == 1_795_499_183_123)
        #expect(try PrometheusClient.millis(fromSeconds: 9.223372036854776e15) == Int64.min)  // what 2.42 reports
        #expect(try PrometheusClient.millis(fromSeconds: 9.223372036854776e18) == Int64.min)
        #expect(try PrometheusClient.millis(fromSeconds: .infinity) == Int64.min)
        #expect(try PrometheusClient.millis(fromSeconds: 0) == 0)
        #expect(throws: SkiffError.self) { try PrometheusClient.millis(fromSeconds: -.infinity) }
    }

    @Test func externalLabelsOnlyReadsThatMapping() throws {
        // A Prometheus 3 style config with fields a full decode would reject.
        let yaml = """
            global:
              scrape_interval: 1m
              scrape_protocols: [PrometheusProto, SomethingNew]
              external_labels:
                cluster: test
                replica: "0"
            scrape_configs:
            - job_name: x
              unknown_future_field: {a: [1, 2]}
            """
        #expect(try PrometheusClient.externalLabels(fromConfigYAML: yaml) == LabelSet(["cluster": "test", "replica": "0"]))
        // The bytes Prometheus sent are kept: a decomposed "é" is not the precomposed one.
        let decomposed = try PrometheusClient.externalLabels(
            fromConfigYAML: "global:\n  external_labels:\n    site: \"e\\u0301\"\n    Z: x\n")
        #expect(decomposed == LabelSet([Label(name: "site", value: "e\u{301}"), Label(name: "Z", value: "x")]))
        #expect(decomposed != LabelSet([Label(name: "site", value: "\u{E9}"), Label(name: "Z", value: "x")]))
        #expect(decomposed.names == ["Z", "site"])
        #expect(try PrometheusClient.externalLabels(fromConfigYAML: "global:\n  scrape_interval: 1m\n").isEmpty)
        #expect(try PrometheusClient.externalLabels(fromConfigYAML: "").isEmpty)
        #expect(throws: SkiffError.self) { try PrometheusClient.externalLabels(fromConfigYAML: "global: [") }
        #expect(throws: SkiffError.self) {
            try PrometheusClient.externalLabels(fromConfigYAML: "global:\n  external_labels: [a]\n")
        }
    }

    /// A proxy or another TSDB at /api/v1/status/config can answer label names `ship --label`
    /// refuses; they would end up in every meta.json (bad-inputs case 70). Empty values are no
    /// labels, as Prometheus reads them.
    @Test func externalLabelsAreValidatedAsFlagsAre() throws {
        for name in ["1bad", "__name__", "a-b"] {
            let yaml = "global:\n  external_labels:\n    cluster: eu1\n    \"\(name)\": x\n"
            let error = #expect(throws: SkiffError.self) { try PrometheusClient.externalLabels(fromConfigYAML: yaml) }
            #expect(error?.message.contains(name) == true, "\(String(describing: error))")
            #expect(error?.message.contains("global.external_labels") == true)
        }
        let withEmpty = "global:\n  external_labels:\n    cluster: eu1\n    replica: \"\"\n"
        #expect(try PrometheusClient.externalLabels(fromConfigYAML: withEmpty) == LabelSet(["cluster": "eu1"]))
    }
}
