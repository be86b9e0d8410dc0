/// Prometheus' XOR chunk (`tsdb/chunkenc`, encoding 1 in remote read, 0 in Thanos' StoreAPI):
/// Gorilla compression with millisecond-sized timestamp buckets.
///
/// Layout: a 2-byte big-endian sample count, then a bit stream:
/// - sample 1: timestamp as a zigzag varint, value as its 64 raw bits;
/// - sample 2: timestamp delta as a uvarint, value XOR-encoded;
/// - later samples: delta-of-delta in one of five forms, `0` (same delta), `10`+14 bits,
///   `110`+17 bits, `1110`+20 bits, `1111`+64 bits, then the value XOR-encoded.
/// A value is XOR-encoded against the previous one: `0` if equal; else `1`, then `0` and the
/// meaningful bits inside the previous window of leading/trailing zeros when they fit, or `1`,
/// 5 bits of leading zeros (capped at 31), 6 bits of meaningful-bit count (64 stored as 0) and
/// the meaningful bits.
public enum XORChunk {
    /// A sample as Prometheus stores it: milliseconds since the epoch and a float.
    ///
    /// Equality is IEEE equality (NaN != NaN); compare `value.bitPattern` to check a roundtrip.
    public struct Sample: Sendable, Equatable {
        public var timestamp: Int64
        public var value: Double

        public init(timestamp: Int64, value: Double) {
            self.timestamp = timestamp
            self.value = value
        }
    }

    /// One encoded chunk and the first and last timestamps in it (inclusive).
    public struct EncodedChunk: Sendable, Equatable {
        public var minTime: Int64
        public var maxTime: Int64
        public var data: [UInt8]

        public init(minTime: Int64, maxTime: Int64, data: [UInt8]) {
            self.minTime = minTime
            self.maxTime = maxTime
            self.data = data
        }
    }

    /// Thanos' `MaxSamplesPerChunk`: SAMPLES responses are re-chunked at this size.
    public static let defaultMaxSamplesPerChunk = 120

    /// Cuts `samples` (in time order) into consecutive chunks of at most `maxPerChunk` samples, as
    /// Thanos does when Prometheus answers with SAMPLES: 131,075 samples give 1,093 chunks, the
    /// last holding 35. No samples give no chunks.
    public static func encodeSamples(
        _ samples: some Collection<Sample>, maxPerChunk: Int = defaultMaxSamplesPerChunk
    )
        -> [EncodedChunk]
    {
        precondition((1...XORChunkEncoder.maxSampleCount).contains(maxPerChunk), "xor chunk: 1...65535 samples per chunk")
        var chunks: [EncodedChunk] = []
        chunks.reserveCapacity((samples.count + maxPerChunk - 1) / maxPerChunk)
        var encoder = XORChunkEncoder()
        var minTime: Int64 = 0
        var maxTime: Int64 = 0
        for sample in samples {
            if encoder.count == 0 { minTime = sample.timestamp }
            encoder.append(timestamp: sample.timestamp, value: sample.value)
            maxTime = sample.timestamp
            if encoder.count == maxPerChunk {
                chunks.append(EncodedChunk(minTime: minTime, maxTime: maxTime, data: encoder.bytes))
                encoder = XORChunkEncoder()
            }
        }
        if encoder.count > 0 { chunks.append(EncodedChunk(minTime: minTime, maxTime: maxTime, data: encoder.bytes)) }
        return chunks
    }

    /// All samples of one chunk; throws on truncated or impossible data.
    public static func decode(_ data: [UInt8]) throws(PromWireError) -> [Sample] {
        var decoder = try XORChunkDecoder(data)
        var samples: [Sample] = []
        samples.reserveCapacity(decoder.count)
        while let sample = try decoder.next() { samples.append(sample) }
        return samples
    }
}
