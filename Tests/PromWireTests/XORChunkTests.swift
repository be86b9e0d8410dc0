import SeededRandom
import Testing

@testable import PromWire

@Suite struct XORChunkTests {
    typealias Sample = XORChunk.Sample

    static let staleMarker = Double(bitPattern: 0x7FF0_0000_0000_0002)

    static func encode(_ samples: [Sample]) -> [UInt8] {
        var encoder = XORChunkEncoder()
        for sample in samples { encoder.append(timestamp: sample.timestamp, value: sample.value) }
        return encoder.bytes
    }

    /// Timestamps and value bit patterns, so NaN payloads compare exactly.
    static func bits(_ samples: [Sample]) -> [[UInt64]] {
        samples.map { [UInt64(bitPattern: $0.timestamp), $0.value.bitPattern] }
    }

    static func expectRoundtrip(_ samples: [Sample], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let data = encode(samples)
        #expect(Int(data[0]) << 8 | Int(data[1]) == samples.count, sourceLocation: sourceLocation)
        #expect(bits(try XORChunk.decode(data)) == bits(samples), sourceLocation: sourceLocation)
    }

    /// Values that stress the XOR path: special floats, repeats, tiny and huge changes.
    static func randomValue(after previous: Double, using random: inout SeededGenerator) -> Double {
        switch Int.random(in: 0..<12, using: &random) {
        case 0: previous
        case 1: .nan
        case 2: staleMarker
        case 3: Double(bitPattern: 0x7FF8_0000_0000_0000 | UInt64.random(in: 1..<(1 << 51), using: &random))  // NaN payloads
        case 4:
            [Double.infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude].randomElement(
                using: &random)!
        case 5: Double(bitPattern: previous.bitPattern ^ 1)  // last-bit change: leading zeros capped at 31
        case 6: Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &random))
        case 7: previous + 1
        default: Double(Int.random(in: -1000...1000, using: &random)) / 8
        }
    }

    @Test func randomSeriesRoundtripBitExactly() throws {
        var random = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            var samples: [Sample] = []
            var timestamp = Int64.random(in: -1_000_000_000_000...2_000_000_000_000, using: &random)
            var value = 0.0
            for _ in 0..<Int.random(in: 1...240, using: &random) {
                value = Self.randomValue(after: value, using: &random)
                samples.append(Sample(timestamp: timestamp, value: value))
                timestamp +=
                    [15_000, 15_000, 14_999, 1, 60_000, 3_600_000, 1 << 40].randomElement(using: &random)!
                    + Int64.random(in: -3...3, using: &random)
            }
            try Self.expectRoundtrip(samples)
        }
    }

    static let bucketEdges: [Int64] = [
        0, 1, -1, 8191, 8192, -8191, -8192, 8193, 65535, 65536, -65535, -65536, 65537, 524_287, 524_288, -524_287, -524_288,
        524_289,
        1 << 40, -(1 << 40),
    ]

    @Test(arguments: bucketEdges)
    func deltaOfDeltaBucketEdgesRoundtrip(_ dod: Int64) throws {
        let start: Int64 = 1_700_000_000_000
        let firstDelta: Int64 = 2_000_000_000_000
        let samples = [start, start + firstDelta, start + 2 * firstDelta + dod, start + 3 * firstDelta + 2 * dod].map {
            Sample(timestamp: $0, value: 1)
        }
        try Self.expectRoundtrip(samples)
    }

    static let bucketBits: [(dod: Int64, prefix: UInt64, prefixBits: Int, payload: UInt64, payloadBits: Int)] = [
        (0, 0b0, 1, 0, 0),
        (8192, 0b10, 2, 0x2000, 14),  // +2^13 fits 14 bits...
        (-8191, 0b10, 2, 0x2001, 14),
        (-8192, 0b110, 3, 0x1_E000, 17),  // ...-2^13 does not (Prometheus' bitRange is lopsided)
        (65536, 0b110, 3, 0x1_0000, 17),
        (-65536, 0b1110, 4, 0xF_0000, 20),
        (524_288, 0b1110, 4, 0x8_0000, 20),
        (524_289, 0b1111, 4, 524_289, 64),
        (-524_288, 0b1111, 4, UInt64(bitPattern: -524_288), 64),
    ]

    @Test(arguments: bucketBits)
    func deltaOfDeltaBitsAreExactlyPrometheus(
        _ expected: (dod: Int64, prefix: UInt64, prefixBits: Int, payload: UInt64, payloadBits: Int)
    ) throws {
        // Header 2, varint(0) 1, value 8, delta varint 1: sample 3's bits start at byte 12, after
        // one 0 bit for sample 2's unchanged value.
        let data = Self.encode([0, 10, 20 + expected.dod].map { Sample(timestamp: $0, value: 1) })
        var reader = BitReader(bytes: data, byteOffset: 12)
        #expect(try reader.readBit() == false)
        #expect(try reader.read(bitCount: expected.prefixBits) == expected.prefix)
        #expect(try reader.read(bitCount: expected.payloadBits) == expected.payload)
        #expect(try reader.readBit() == false)  // sample 3's value is unchanged too
    }

    @Test func specialValuesAndTimeQuirksRoundtrip() throws {
        let values: [Double] = [
            0, -0.0, .infinity, -.infinity, .nan, Self.staleMarker, Double(bitPattern: 0xFFF8_DEAD_BEEF_0001), 1, 1, 1.0.nextUp,
            1,
            .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude, Double(bitPattern: 0x8000_0000_0000_0001),
            42,
        ]
        let irregular = values.indices.map { Sample(timestamp: Int64($0 * $0 * 997), value: values[$0]) }
        try Self.expectRoundtrip(irregular)
        // Timestamps going back (not what Prometheus writes, but the uint64 arithmetic must wrap back).
        try Self.expectRoundtrip([100, 50, 400, -7, Int64.max, Int64.min, 0].map { Sample(timestamp: $0, value: 2) })
        // A big jump then back to normal: a large positive then a large negative delta-of-delta.
        try Self.expectRoundtrip([0, 15_000, 30_000, 86_400_000, 86_415_000, 86_430_000].map { Sample(timestamp: $0, value: 3) })
    }

    @Test func tinyChunks() throws {
        #expect(XORChunkEncoder().bytes == [0, 0])
        #expect(try XORChunk.decode([0, 0]).isEmpty)
        try Self.expectRoundtrip([Sample(timestamp: -5, value: .nan)])
        try Self.expectRoundtrip([Sample(timestamp: 1, value: 1), Sample(timestamp: 2, value: -1)])
    }

    @Test func layoutOfASingleSampleChunk() {
        // Count 1, zigzag varint of 100 (200 = 0xc8 0x01), 1.0's bits, then the zero byte Prometheus
        // 2.x's bstream leaves after a whole-byte write (see BitWriter).
        let data = Self.encode([Sample(timestamp: 100, value: 1.0)])
        #expect(data == [0x00, 0x01, 0xc8, 0x01, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x00])
    }

    // MARK: - Real Prometheus chunks

    @Test(arguments: PrometheusFixtures.chunks.indices)
    func decodesPrometheusChunk(_ index: Int) throws {
        let chunk = PrometheusFixtures.chunks[index]
        let decoded = try XORChunk.decode(chunk.data)
        #expect(
            decoded.map { [UInt64(bitPattern: $0.timestamp), $0.value.bitPattern] }
                == chunk.samples.map { [UInt64(bitPattern: $0.0), $0.1] })
        #expect(decoded.first?.timestamp == chunk.minTime)
        #expect(decoded.last?.timestamp == chunk.maxTime)
    }

    @Test(arguments: PrometheusFixtures.chunks.indices)
    func encodesPrometheusChunkByteForByte(_ index: Int) {
        let chunk = PrometheusFixtures.chunks[index]
        let samples = chunk.samples.map { Sample(timestamp: $0.0, value: Double(bitPattern: $0.1)) }
        #expect(Self.encode(samples) == chunk.data, "\(chunk.series)")
    }

    @Test func prometheusChunksAreInsideTheStreamedFrames() throws {
        var reader = ChunkedFrameReader()
        reader.append(PrometheusFixtures.streamedBody)
        var frames: [[UInt8]] = []
        while let frame = try reader.nextFrame() { frames.append(frame) }
        try reader.finish()
        for chunk in PrometheusFixtures.chunks {
            let found = frames.contains { frame in
                frame.count >= chunk.data.count
                    && (0...(frame.count - chunk.data.count)).contains {
                        frame[$0..<$0 + chunk.data.count].elementsEqual(chunk.data)
                    }
            }
            #expect(found, "\(chunk.series)")
        }
    }

    // MARK: - Damaged chunks

    @Test func everyTruncationThrowsOrOnlyDropsPadding() throws {
        var random = SeededGenerator(seed: 12)
        var chunks = PrometheusFixtures.chunks.map(\.data)
        for _ in 0..<30 {
            var value = 0.0
            chunks.append(
                Self.encode(
                    (0..<Int.random(in: 1...130, using: &random)).map { i in
                        value = Self.randomValue(after: value, using: &random)
                        return Sample(timestamp: Int64(i) * 15_000 + Int64.random(in: 0...40, using: &random), value: value)
                    }))
        }
        for data in chunks {
            let whole = Self.bits(try XORChunk.decode(data))
            for length in 0..<data.count {
                let prefix = Array(data[..<length])
                if length == data.count - 1 && data.last == 0, let decoded = try? XORChunk.decode(prefix) {
                    #expect(Self.bits(decoded) == whole)  // only the trailing zero byte was cut
                    continue
                }
                #expect(throws: PromWireError.self) { try XORChunk.decode(prefix) }
            }
        }
    }

    @Test func impossibleBitWidthsAreCorrupt() {
        // Second value written with a new window of 31 leading zeros and 40 meaningful bits: 71 > 64.
        var writer = BitWriter(bytes: [0, 2])
        writer.writeByte(0)  // t = 0
        writer.write(0, bitCount: 64)  // v = 0
        writer.writeByte(1)  // delta 1
        writer.write(0b11, bitCount: 2)
        writer.write(31, bitCount: 5)
        writer.write(40, bitCount: 6)
        writer.write(0, bitCount: 40)
        #expect(throws: PromWireError.self) { try XORChunk.decode(writer.bytes) }
        do {
            _ = try XORChunk.decode(writer.bytes)
        } catch {
            #expect(error.code == .corruptChunk)
        }
        #expect(throws: PromWireError(.truncated, "xor chunk: 1 bytes, shorter than the 2-byte header")) {
            try XORChunk.decode([0])
        }
    }

    @Test func randomDamageNeverCrashes() {
        var random = SeededGenerator(seed: 13)
        let original = PrometheusFixtures.chunks[0].data
        for _ in 0..<3000 {
            var data = original
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                data[Int.random(in: 0..<data.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            }
            _ = try? XORChunk.decode(data)
        }
    }

    // MARK: - Re-chunking SAMPLES answers

    @Test func encodeSamplesCutsLikeThanos() throws {
        let samples = (0..<131_075).map { Sample(timestamp: Int64($0) * 15_000, value: Double($0 % 100)) }
        let chunks = XORChunk.encodeSamples(samples)
        #expect(chunks.count == 1093)
        #expect(chunks.dropLast().allSatisfy { $0.data[0] == 0 && $0.data[1] == 120 })
        #expect(chunks.last.map { Array($0.data[0..<2]) } == [0, 35])
        #expect(chunks[1].minTime == 120 * 15_000)
        #expect(chunks[1].maxTime == 239 * 15_000)
        #expect(chunks.last?.maxTime == Int64(131_074) * 15_000)
        var decoded: [Sample] = []
        for chunk in chunks { decoded += try XORChunk.decode(chunk.data) }
        #expect(decoded == samples)
    }

    @Test func encodeSamplesEdgeCases() {
        #expect(XORChunk.encodeSamples([Sample]()).isEmpty)
        let three = [1, 2, 3].map { Sample(timestamp: $0, value: 0) }
        #expect(XORChunk.encodeSamples(three, maxPerChunk: 1).map(\.minTime) == [1, 2, 3])
        #expect(XORChunk.encodeSamples(three, maxPerChunk: 3).count == 1)
        #expect(XORChunk.encodeSamples(three).first?.data == Self.encode(three))
    }
}
