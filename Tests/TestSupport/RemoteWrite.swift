import Foundation

/// Pushes samples into a Prometheus with `--web.enable-remote-write-receiver`, so tests can make
/// Prometheus cut real blocks itself: history remote-written into an empty head is compacted into
/// 2h blocks within a second (see the harness notes).
///
/// The request is a `prometheus.WriteRequest` protobuf, encoded here by hand (three message types,
/// no dependency), compressed with a literal-only snappy block encoding, which is valid snappy
/// that Prometheus accepts.
public enum RemoteWrite {
    /// One series: sorted labels (with `__name__`) and its samples in time order.
    public struct Series: Sendable {
        public var labels: [(name: String, value: String)]
        public var samples: [(timestampMillis: Int64, value: Double)]
        /// Exemplars of the series (Prometheus keeps them with `--enable-feature=exemplar-storage`).
        public var exemplars: [Exemplar]

        public init(
            labels: [String: String], samples: [(timestampMillis: Int64, value: Double)], exemplars: [Exemplar] = []
        ) {
            self.labels = labels.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
            self.samples = samples
            self.exemplars = exemplars
        }
    }

    public struct Exemplar: Sendable {
        public var labels: [(name: String, value: String)]
        public var value: Double
        public var timestampMillis: Int64

        public init(labels: [String: String], value: Double, timestampMillis: Int64) {
            self.labels = labels.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
            self.value = value
            self.timestampMillis = timestampMillis
        }
    }

    /// `count` gauge series named `name`, one sample every `stepMillis` from `start` to `end`.
    public static func history(name: String, count: Int, from start: Int64, to end: Int64, stepMillis: Int64) -> [Series] {
        (0..<count).map { i in
            Series(
                labels: ["__name__": name, "job": "remote-write", "series": "\(i)"],
                samples: stride(from: start, through: end, by: Int(stepMillis)).map { ($0, Double(i) + sin(Double($0) / 6e5)) })
        }
    }

    /// POSTs the series to `<prometheusURL>/api/v1/write`; throws unless Prometheus answers 2xx.
    public static func push(_ series: [Series], to prometheusURL: String) async throws {
        var request = [UInt8]()
        for one in series { field(1, message: encode(one), into: &request) }
        let body = snappyLiteral(request)
        guard let url = URL(string: prometheusURL + "/api/v1/write") else { throw Failure("bad URL \(prometheusURL)") }
        let result = try await curl(url: url.absoluteString, body: body)
        guard (200..<300).contains(result.status) else { throw Failure("remote write answered \(result.status): \(result.body)") }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: - Protobuf (TimeSeries = 1: labels, 2: samples, 3: exemplars; Label = 1: name, 2: value; Sample = 1: value
    // (double), 2: timestamp (int64); Exemplar = 1: labels, 2: value, 3: timestamp)

    static func encode(_ series: Series) -> [UInt8] {
        var out = [UInt8]()
        labels(series.labels, into: &out)
        for sample in series.samples {
            var encoded = [UInt8]()
            encoded.append(0x09)  // field 1, wire type 1 (64-bit)
            withUnsafeBytes(of: sample.value.bitPattern.littleEndian) { encoded += $0 }
            encoded.append(0x10)  // field 2, wire type 0 (varint)
            varint(UInt64(bitPattern: sample.timestampMillis), into: &encoded)
            field(2, message: encoded, into: &out)
        }
        for exemplar in series.exemplars {
            var encoded = [UInt8]()
            labels(exemplar.labels, into: &encoded)
            encoded.append(0x11)  // field 2, wire type 1 (64-bit)
            withUnsafeBytes(of: exemplar.value.bitPattern.littleEndian) { encoded += $0 }
            encoded.append(0x18)  // field 3, wire type 0 (varint)
            varint(UInt64(bitPattern: exemplar.timestampMillis), into: &encoded)
            field(3, message: encoded, into: &out)
        }
        return out
    }

    /// Labels as field 1 of the enclosing message (TimeSeries and Exemplar alike).
    static func labels(_ labels: [(name: String, value: String)], into out: inout [UInt8]) {
        for label in labels {
            var encoded = [UInt8]()
            field(1, bytes: Array(label.name.utf8), into: &encoded)
            field(2, bytes: Array(label.value.utf8), into: &encoded)
            field(1, message: encoded, into: &out)
        }
    }

    static func field(_ number: UInt64, message: [UInt8], into out: inout [UInt8]) {
        field(number, bytes: message, into: &out)
    }

    static func field(_ number: UInt64, bytes: [UInt8], into out: inout [UInt8]) {
        varint(number << 3 | 2, into: &out)
        varint(UInt64(bytes.count), into: &out)
        out += bytes
    }

    static func varint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Snappy block format with literals only: the uncompressed length, then 64 KiB literal runs.
    static func snappyLiteral(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        varint(UInt64(data.count), into: &out)
        var offset = 0
        while offset < data.count {
            let chunk = data[offset..<min(offset + 65536, data.count)]
            let n = chunk.count - 1
            if n < 60 {
                out.append(UInt8(n << 2))
            } else if n < 256 {
                out += [60 << 2, UInt8(n)]
            } else {
                out += [61 << 2, UInt8(n & 0xff), UInt8(n >> 8)]
            }
            out += chunk
            offset += chunk.count
        }
        return out
    }

    /// The POST, by curl (tests that push carry `.needs(.curl)`), to keep this file free of an HTTP stack.
    static func curl(url: String, body: [UInt8]) async throws -> (status: Int, body: String) {
        let dir = FileManager.default.temporaryDirectory.path
        let input = "\(dir)/skiff-rw-\(UUID().uuidString)"
        let output = input + ".out"
        defer {
            try? FileManager.default.removeItem(atPath: input)
            try? FileManager.default.removeItem(atPath: output)
        }
        try Data(body).write(to: URL(fileURLWithPath: input))
        let result = try await ExternalProgram.curl.run([
            "-s", "-o", output, "-w", "%{http_code}", "-X", "POST", "--data-binary", "@\(input)",
            "-H", "Content-Type: application/x-protobuf", "-H", "Content-Encoding: snappy",
            "-H", "X-Prometheus-Remote-Write-Version: 0.1.0", "--max-time", "30", url,
        ])
        let answer = String(decoding: FileManager.default.contents(atPath: output) ?? Data(), as: UTF8.self)
        return (Int(result.stdout) ?? 0, answer)
    }
}
