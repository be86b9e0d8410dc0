/// Reads an XOR chunk's samples one at a time; see `XORChunk` for the layout.
///
/// Chunk bytes come from the network, so every read is bounds-checked: data that ends before the
/// header's sample count is reached throws `.truncated`, impossible bit widths throw
/// `.corruptChunk`. Bytes after the last sample (padding) are ignored, as Prometheus ignores them.
public struct XORChunkDecoder: Sendable {
    /// The sample count from the chunk header.
    public let count: Int
    private var reader: BitReader
    private var decodedCount = 0
    private var timestamp: Int64 = 0
    /// Prometheus keeps the delta as a uint64, so deltas and timestamps wrap rather than trap.
    private var delta: UInt64 = 0
    private var valueBits: UInt64 = 0
    private var leading = 0
    private var trailing = 0

    public init(_ data: [UInt8]) throws(PromWireError) {
        guard data.count >= 2 else {
            throw PromWireError(.truncated, "xor chunk: \(data.count) bytes, shorter than the 2-byte header")
        }
        count = Int(data[0]) << 8 | Int(data[1])
        reader = BitReader(bytes: data, byteOffset: 2)
    }

    /// The next sample, or nil after the last one.
    public mutating func next() throws(PromWireError) -> XORChunk.Sample? {
        guard decodedCount < count else { return nil }
        switch decodedCount {
        case 0:
            timestamp = UVarint.unZigZag(try reader.readUVarint())
            valueBits = try reader.read(bitCount: 64)
        case 1:
            delta = try reader.readUVarint()
            timestamp = timestamp &+ Int64(bitPattern: delta)
            try readValue()
        default:
            delta = delta &+ UInt64(bitPattern: try readDeltaOfDelta())
            timestamp = timestamp &+ Int64(bitPattern: delta)
            try readValue()
        }
        decodedCount += 1
        return XORChunk.Sample(timestamp: timestamp, value: Double(bitPattern: valueBits))
    }

    /// Up to four 1-bits select the width: none → 0, `10` → 14, `110` → 17, `1110` → 20, `1111` → 64.
    private mutating func readDeltaOfDelta() throws(PromWireError) -> Int64 {
        var ones = 0
        while ones < 4, try reader.readBit() { ones += 1 }
        let width: Int
        switch ones {
        case 0: return 0
        case 1: width = 14
        case 2: width = 17
        case 3: width = 20
        default: return Int64(bitPattern: try reader.read(bitCount: 64))
        }
        var bits = try reader.read(bitCount: width)
        // Two's complement in `width` bits, except that +2^(width-1) itself stays positive (see `fits`).
        if bits > UInt64(1) << (width - 1) { bits = bits &- (UInt64(1) << width) }
        return Int64(bitPattern: bits)
    }

    private mutating func readValue() throws(PromWireError) {
        guard try reader.readBit() else { return }  // same value as before
        if try reader.readBit() {
            leading = Int(try reader.read(bitCount: 5))
            var meaningful = Int(try reader.read(bitCount: 6))
            if meaningful == 0 { meaningful = 64 }
            guard leading + meaningful <= 64 else {
                throw PromWireError(
                    .corruptChunk,
                    "xor chunk: sample \(decodedCount) claims \(leading) leading zeros and \(meaningful) meaningful bits")
            }
            trailing = 64 - leading - meaningful
        }
        let bits = try reader.read(bitCount: 64 - leading - trailing)
        valueBits ^= bits << UInt64(trailing)
    }
}
