import Foundation
import PromWire
import SeededRandom
import SkiffCore
import StoreLogic
import StoreProto
import SwiftProtobuf
import Testing

@testable import StoreAPI

/// The hand-written transcoder (Prometheus ChunkedReadResponse bytes in, Thanos SeriesResponse
/// bytes out) against swift-protobuf's generated types, which define what the bytes must mean.
@Suite struct SeriesTranscoderTests {
    /// Frames with everything the wire allows: empty and non-ASCII labels, times at the int64
    /// extremes, every chunk type, empty chunk data, unknown fields, two series in one frame.
    static func frame(seed: UInt64) throws -> (frame: [UInt8], expected: [(LabelSet, [(Int64, Int64, Int, [UInt8])])]) {
        var random = SeededGenerator(seed: seed)
        var response = Prometheus_ChunkedReadResponse()
        response.queryIndex = 3
        var expected: [(LabelSet, [(Int64, Int64, Int, [UInt8])])] = []
        for s in 0..<Int(random.next() % 3 + 1) {
            var series = Prometheus_ChunkedSeries()
            var labels: [Label] = [Label(name: "__name__", value: "m\(s)")]
            if random.next() % 2 == 0 { labels.append(Label(name: "empty", value: "")) }
            labels.append(Label(name: "zone", value: "Zürich-\(random.next() % 1000)"))
            series.labels = labels.map { label in
                var l = Prometheus_Label()
                l.name = label.name
                l.value = label.value
                return l
            }
            var chunks: [(Int64, Int64, Int, [UInt8])] = []
            let times: [Int64] = [0, 1, 127, 128, -1, .min, .max, 1_795_586_400_000]
            for _ in 0..<Int(random.next() % 40) {
                var chunk = Prometheus_Chunk()
                chunk.minTimeMs = times[Int(random.next() % UInt64(times.count))]
                chunk.maxTimeMs = times[Int(random.next() % UInt64(times.count))]
                let type = Int(random.next() % 5)  // 0 UNKNOWN (dropped), 1 XOR, 2 HISTOGRAM, 3 FLOAT_HISTOGRAM, 4 unknown to us
                chunk.type = Prometheus_Chunk.Encoding(rawValue: type) ?? .unknown
                chunk.data = Data((0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
                series.chunks.append(chunk)
                if type >= 1 { chunks.append((chunk.minTimeMs, chunk.maxTimeMs, type - 1, Array(chunk.data))) }
            }
            response.chunkedSeries.append(series)
            expected.append((LabelSet(labels), chunks))
        }
        var bytes: [UInt8] = try response.serializedBytes()
        bytes += [0xF8, 0x01, 0x05]  // field 31, varint 5: unknown, skipped
        return (bytes, expected)
    }

    @Test(arguments: 0..<40)
    func transcodesLikeTheGeneratedTypes(seed: UInt64) throws {
        let (frame, expected) = try Self.frame(seed: seed)
        let decoded = try frame.withUnsafeBytes { try SeriesTranscoder.decodeFrame($0) }
        #expect(decoded.count == expected.count)
        for ((labels, chunks), (wantLabels, wantChunks)) in zip(decoded, expected) {
            #expect(labels == wantLabels)
            #expect(chunks.count == wantChunks.count)
            let external = LabelSet([Label(name: "cluster", value: "eu-1")])
            let message = RawSeriesResponse(labels: labels.withExternal(external), chunks: chunks)
            let bytes: [UInt8] = try RawSeriesSerializer().serialize(message)
            #expect(bytes.count == message.size)
            let parsed = try Thanos_SeriesResponse(serializedBytes: bytes)
            #expect(parsed.series.labels.map { Label(name: $0.name, value: $0.value) } == Array(labels.withExternal(external)))
            #expect(parsed.series.chunks.count == wantChunks.count)
            for (got, want) in zip(parsed.series.chunks, wantChunks) {
                #expect(got.minTime == want.0)
                #expect(got.maxTime == want.1)
                #expect(got.raw.type.rawValue == want.2)
                #expect(Array(got.raw.data) == want.3)
                #expect(!got.hasCount && !got.hasSum)
            }
        }
    }

    @Test func aSeriesSplitOverFramesJoinsByAppending() throws {
        let (frame, expected) = try Self.frame(seed: 1)
        let first = try frame.withUnsafeBytes { try SeriesTranscoder.decodeFrame($0) }[0]
        var joined = first.chunks
        joined.bytes += first.chunks.bytes
        joined.count += first.chunks.count
        let bytes: [UInt8] = try RawSeriesSerializer().serialize(RawSeriesResponse(labels: first.labels, chunks: joined))
        let parsed = try Thanos_SeriesResponse(serializedBytes: bytes)
        #expect(parsed.series.chunks.count == 2 * expected[0].1.count)
    }

    @Test func malformedFramesAreErrorsNotCrashes() throws {
        let (frame, _) = try Self.frame(seed: 2)
        // Every truncation of a valid frame either parses a prefix or throws; none may crash.
        for cut in 0..<frame.count {
            _ = try? Array(frame[..<cut]).withUnsafeBytes { try SeriesTranscoder.decodeFrame($0) }
        }
        #expect(throws: ProtoWire.Malformed.self) {
            try [0x0A, 0x7F, 0x01].withUnsafeBytes { try SeriesTranscoder.decodeFrame($0) }
        }
    }

    /// One series with one XOR chunk whose min_time is the 10-byte varint `9 × 0xFF, last`.
    static func frameWithTenByteMinTime(last: UInt8) -> [UInt8] {
        let chunk: [UInt8] = [0x08] + [UInt8](repeating: 0xFF, count: 9) + [last] + [0x18, 0x01]  // min_time, type XOR
        let series: [UInt8] = [0x12, UInt8(chunk.count)] + chunk  // ChunkedSeries.chunks
        return [0x0A, UInt8(series.count)] + series  // ChunkedReadResponse.chunked_series
    }

    @Test func aTenthVarintByteAboveOneIsRefusedAsGoDoes() throws {
        // A 10th byte of 1 carries bit 63: UInt64.max. Anything larger would need more than 64
        // bits; Go's binary.Uvarint and protobuf refuse it, and so must we (the old reader
        // dropped the extra bits and went on with a wrong time).
        let valid = try Self.frameWithTenByteMinTime(last: 0x01).withUnsafeBytes { try SeriesTranscoder.decodeFrame($0) }
        #expect(valid.count == 1 && valid.first?.1.count == 1)
        for last: UInt8 in [0x02, 0x7F] {
            #expect(throws: ProtoWire.Malformed.self) {
                try Self.frameWithTenByteMinTime(last: last).withUnsafeBytes { try SeriesTranscoder.decodeFrame($0) }
            }
        }
        let tenBytes = [UInt8](repeating: 0xFF, count: 9)
        #expect(throws: ProtoWire.Malformed.self) { try Self.varint(tenBytes + [0x02]) }
        #expect(try Self.varint(tenBytes + [0x01]) == UInt64.max)
    }

    /// Reads one varint with `ProtoWire.Reader` over `range` of `bytes`, after a tag if asked.
    static func varint(_ bytes: [UInt8], range: Range<Int>? = nil, afterTag: Bool = false) throws -> UInt64 {
        try bytes.withUnsafeBytes { raw in
            var reader = ProtoWire.Reader(raw, range: range)
            if afterTag { _ = try reader.tag() }
            return try reader.varint()
        }
    }

    @Test func aVarintMayNotRunPastItsField() throws {
        // The series' range ends inside the varint, though the frame's bytes go on: the reader
        // must not read past its range.
        #expect(throws: ProtoWire.Malformed.self) { try Self.varint([0x08, 0x80, 0x01], range: 0..<2, afterTag: true) }
        #expect(try Self.varint([0x08, 0x80, 0x01], range: 0..<3, afterTag: true) == 128)
    }
}
