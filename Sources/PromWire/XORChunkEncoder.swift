/// Builds one XOR chunk sample by sample; see `XORChunk` for the layout. Produces the same bytes
/// as Prometheus 2.x's `xorAppender` for the same samples.
public struct XORChunkEncoder: Sendable {
    /// The 2-byte header cannot count more.
    public static let maxSampleCount = Int(UInt16.max)

    private var writer = BitWriter(bytes: [0, 0])
    /// Samples appended so far.
    public private(set) var count = 0
    private var lastTimestamp: Int64 = 0
    /// The previous timestamp delta; Prometheus keeps it as a uint64, so arithmetic wraps.
    private var lastDelta: UInt64 = 0
    private var lastValueBits: UInt64 = 0
    /// The window the last value was XOR-written in; `leading == 0xff` means none yet.
    private var leading: UInt8 = 0xff
    private var trailing: UInt8 = 0

    public init() {}

    /// The chunk so far: header and bit stream.
    public var bytes: [UInt8] { writer.bytes }

    /// Appends a sample. Timestamps are expected in increasing order, as in a Prometheus chunk;
    /// other orders still roundtrip, only less compactly.
    public mutating func append(timestamp: Int64, value: Double) {
        precondition(count < Self.maxSampleCount, "xor chunk: at most 65535 samples")
        switch count {
        case 0:
            var varint: [UInt8] = []
            UVarint.append(UVarint.zigZag(timestamp), to: &varint)
            for byte in varint { writer.writeByte(byte) }
            writer.write(value.bitPattern, bitCount: 64)
        case 1:
            lastDelta = UInt64(bitPattern: timestamp &- lastTimestamp)
            var varint: [UInt8] = []
            UVarint.append(lastDelta, to: &varint)
            for byte in varint { writer.writeByte(byte) }
            writeValue(value)
        default:
            let delta = UInt64(bitPattern: timestamp &- lastTimestamp)
            writeDeltaOfDelta(Int64(bitPattern: delta &- lastDelta))
            lastDelta = delta
            writeValue(value)
        }
        lastTimestamp = timestamp
        lastValueBits = value.bitPattern
        count += 1
        writer.setHeader(UInt16(count))
    }

    private mutating func writeDeltaOfDelta(_ dod: Int64) {
        let bits = UInt64(bitPattern: dod)
        if dod == 0 {
            writer.writeBit(false)
        } else if Self.fits(dod, bitCount: 14) {
            writer.write(0b10, bitCount: 2)
            writer.write(bits, bitCount: 14)
        } else if Self.fits(dod, bitCount: 17) {
            writer.write(0b110, bitCount: 3)
            writer.write(bits, bitCount: 17)
        } else if Self.fits(dod, bitCount: 20) {
            writer.write(0b1110, bitCount: 4)
            writer.write(bits, bitCount: 20)
        } else {
            writer.write(0b1111, bitCount: 4)
            writer.write(bits, bitCount: 64)
        }
    }

    /// Prometheus' `bitRange`: -(2^(n-1) - 1) ... 2^(n-1). The range is lopsided because the
    /// reader maps only values above 2^(n-1) to negatives, so +2^(n-1) is representable and
    /// -2^(n-1) is not.
    static func fits(_ value: Int64, bitCount: Int) -> Bool {
        let half = Int64(1) << (bitCount - 1)
        return -(half - 1) <= value && value <= half
    }

    private mutating func writeValue(_ value: Double) {
        let delta = value.bitPattern ^ lastValueBits
        guard delta != 0 else {
            writer.writeBit(false)
            return
        }
        writer.writeBit(true)
        // Leading zeros get 5 bits, so more than 31 is written as 31 (the window just gets wider).
        let newLeading = UInt8(min(delta.leadingZeroBitCount, 31))
        let newTrailing = UInt8(delta.trailingZeroBitCount)
        if leading != 0xff && newLeading >= leading && newTrailing >= trailing {
            writer.writeBit(false)
            writer.write(delta >> UInt64(trailing), bitCount: 64 - Int(leading) - Int(trailing))
            return
        }
        leading = newLeading
        trailing = newTrailing
        writer.writeBit(true)
        writer.write(UInt64(leading), bitCount: 5)
        let meaningful = 64 - Int(leading) - Int(trailing)
        // 64 meaningful bits do not fit in 6 bits; 0 is never needed (delta != 0), so it stands for 64.
        writer.write(UInt64(meaningful & 0b11_1111), bitCount: 6)
        writer.write(delta >> UInt64(trailing), bitCount: meaningful)
    }
}

extension BitWriter {
    /// Overwrites the 2-byte big-endian sample count at the start of the chunk.
    mutating func setHeader(_ count: UInt16) {
        patch(UInt8(count >> 8), at: 0)
        patch(UInt8(count & 0xff), at: 1)
    }
}
