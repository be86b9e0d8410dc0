import AsyncHTTPClient
import SkiffCore

extension PrometheusClient {
    /// The metric Thanos (v0.37+) reads for the sidecar's min time: seconds, as a float.
    static let lowestTimestampMetric = "prometheus_tsdb_lowest_timestamp_seconds"

    /// GET `/metrics` and find `prometheus_tsdb_lowest_timestamp_seconds`, in milliseconds. The
    /// body (often megabytes) is scanned line by line as it arrives and the read stops at the
    /// sample. Nil when the metric is absent. An empty TSDB reports MaxInt64 (as float ms); that
    /// gives `Int64.min`, as Thanos does, so the advertised range starts at the beginning of time.
    public func lowestTimestampMillis(timeout: Duration) async throws(SkiffError) -> Int64? {
        let seconds: Double? = try await get("/metrics", accept: "text/plain;version=0.0.4", timeout: timeout) { answer in
            guard answer.status == 200 else { throw await Self.refusal(answer, what: "metrics") }
            var finder = ExpositionSampleFinder(metric: Self.lowestTimestampMetric)
            for try await buffer in answer.body where try finder.feed(buffer.readableBytesView) {
                return finder.value
            }
            return try finder.finish()
        }
        return try seconds.map { value throws(SkiffError) in try Self.millis(fromSeconds: value) }
    }

    /// Seconds (float) to milliseconds, rounding away float noise (1.795499183e9 × 1000 may land
    /// a hair below the integer Prometheus divided). An empty TSDB reports MaxInt64 ms / 1000
    /// (9.223372036854776e15 s), which is MaxInt64 again once multiplied: that means "no data".
    static func millis(fromSeconds value: Double) throws(SkiffError) -> Int64 {
        let millis = (value * 1000).rounded()
        if millis >= 9.2e18 { return Int64.min }
        guard millis.isFinite, millis > -9.2e18 else {
            throw SkiffError(.io, "\(lowestTimestampMetric) has the unusable value \(value)", transient: true)
        }
        return Int64(millis)
    }
}

/// Finds the first sample of one metric in the Prometheus text exposition format, fed in chunks.
/// Memory stays bounded: at most `maxLine` bytes of the current line are kept, which is plenty
/// for the unlabeled gauge it looks for (longer lines of other metrics are only skipped).
struct ExpositionSampleFinder {
    private let metric: [UInt8]
    private let maxLine: Int
    private var line: [UInt8] = []
    private var truncated = false
    /// The sample value once found.
    private(set) var value: Double?

    init(metric: String, maxLine: Int = 4096) {
        self.metric = Array(metric.utf8)
        self.maxLine = maxLine
    }

    /// Consumes bytes; returns true once the sample is found (the rest of the body can be dropped).
    mutating func feed(_ bytes: some Collection<UInt8>) throws(SkiffError) -> Bool {
        guard value == nil else { return true }
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                try endLine()
                if value != nil { return true }
            } else if line.count < maxLine {
                line.append(byte)
            } else {
                truncated = true
            }
        }
        return false
    }

    /// The end of the body: a last line without a newline still counts. Nil when absent.
    mutating func finish() throws(SkiffError) -> Double? {
        if value == nil && !line.isEmpty { try endLine() }
        return value
    }

    private mutating func endLine() throws(SkiffError) {
        defer {
            line.removeAll(keepingCapacity: true)
            truncated = false
        }
        guard line.starts(with: metric), line.count > metric.count else { return }
        var rest = line[metric.count...]
        switch rest.first {
        case UInt8(ascii: " "), UInt8(ascii: "\t"):
            break
        case UInt8(ascii: "{"):
            // Labels; this metric has none, but skip them if a future version adds some.
            guard let close = rest.lastIndex(of: UInt8(ascii: "}")) else { throw malformed() }
            rest = rest[(close + 1)...]
        default:
            return  // another metric sharing the prefix, e.g. ..._seconds_total
        }
        guard !truncated else { throw malformed() }
        let token = rest.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }).first
        guard let token, let parsed = Double(String(decoding: token, as: UTF8.self)), !parsed.isNaN else {
            throw malformed()
        }
        value = parsed
    }

    private func malformed() -> SkiffError {
        let shown = String(decoding: line.prefix(200), as: UTF8.self)
        return SkiffError(.io, "cannot read the sample in the /metrics line \"\(shown)\"", transient: true)
    }
}
