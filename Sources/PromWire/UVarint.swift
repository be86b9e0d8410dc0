/// Base-128 varints as Go's `encoding/binary` writes them (protobuf uses the same): 7 bits per
/// byte, least significant group first, the high bit set on every byte but the last.
public enum UVarint {
    /// A UInt64 never needs more than 10 bytes.
    public static let maxLength = 10

    /// The outcome of reading a varint from a buffer that may not hold all of it yet.
    public enum Parsed: Equatable, Sendable {
        /// The value and how many bytes it took.
        case value(UInt64, length: Int)
        /// The buffer ends inside the varint; more bytes may complete it.
        case incomplete
        /// More than 10 bytes, or bits beyond 64: no more bytes can make it valid.
        case overflow
    }

    /// Reads the varint starting at `start`. Never reads outside `bytes`.
    ///
    /// Inlinable: the StoreAPI's Series transcoder reads every label and chunk field through it.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Parsed {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            let length = index - start
            // The 10th byte may only carry the 64th bit; Go's binary.Uvarint rejects the rest the same way.
            if length == maxLength && byte > 1 { return .overflow }
            if byte < 0x80 { return .value(value | UInt64(byte) << shift, length: length) }
            value |= UInt64(byte & 0x7f) << shift
            shift += 7
        }
        return .incomplete
    }

    /// Reads the varint at `offset` and moves `offset` past it; running out of bytes is an error here.
    public static func read(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) throws(PromWireError) -> UInt64 {
        switch parse(bytes, at: offset) {
        case .value(let value, let length):
            offset += length
            return value
        case .incomplete:
            throw PromWireError(.truncated, "varint: input ends inside a varint at byte \(offset)")
        case .overflow:
            throw PromWireError(.malformedVarint, "varint: more than 64 bits at byte \(offset)")
        }
    }

    /// `read(_:at:)` for an array.
    public static func read(_ bytes: [UInt8], at offset: inout Int) throws(PromWireError) -> UInt64 {
        try bytes.withUnsafeBytesTyped { (raw) throws(PromWireError) in try read(raw, at: &offset) }
    }

    /// How many bytes the encoding of `value` takes (1 to 10).
    @inlinable
    public static func length(of value: UInt64) -> Int {
        // 7 bits a byte; a zero still takes one byte.
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    /// Appends the varint encoding of `value`.
    @inlinable
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Writes the varint encoding of `value` at `offset` and moves `offset` past it. Traps when
    /// the buffer has less than `length(of: value)` bytes left.
    @inlinable
    public static func write(_ value: UInt64, into buffer: UnsafeMutableRawBufferPointer, at offset: inout Int) {
        precondition(offset >= 0 && length(of: value) <= buffer.count - offset, "varint written beyond the buffer")
        var rest = value
        while rest >= 0x80 {
            buffer[offset] = UInt8(truncatingIfNeeded: rest) | 0x80
            offset += 1
            rest >>= 7
        }
        buffer[offset] = UInt8(rest)
        offset += 1
    }

    /// The varint encoding of `value`.
    public static func encode(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        append(value, to: &bytes)
        return bytes
    }

    /// Go's signed varint mapping (zigzag): small magnitudes of either sign stay short.
    public static func zigZag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value &<< 1) ^ (value >> 63))
    }

    /// The inverse of `zigZag(_:)`.
    public static func unZigZag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }
}
