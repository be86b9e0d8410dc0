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

    /// Why `decode` stopped short of a value.
    public enum Failure: Error, Sendable, Equatable {
        /// The bytes end inside the varint.
        case incomplete
        /// More than 10 bytes, or bits beyond 64.
        case overflow
    }

    /// The one decoding loop (`parse`, `read` and the StoreAPI's protobuf reader go through it):
    /// reads the varint at `offset`, looking no further than `end`, and moves `offset` past it.
    /// After a failure `offset` is somewhere inside the varint.
    ///
    /// Inlinable, and it advances `offset` in place: the Series transcoder reads every label and
    /// chunk field through it (returning a `Parsed` instead measured twice as slow there).
    @inlinable
    public static func decode(_ bytes: UnsafeRawBufferPointer, at offset: inout Int, end: Int) throws(Failure) -> UInt64 {
        let end = Swift.min(end, bytes.count)
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < end {
            let byte = bytes[offset]
            offset += 1
            if byte < 0x80 {
                // The 10th byte may only carry the 64th bit; Go's binary.Uvarint rejects the rest the same way.
                if shift == 63 && byte > 1 { throw .overflow }
                return value | UInt64(byte) &<< shift
            }
            value |= UInt64(byte & 0x7f) &<< shift
            shift &+= 7
            if shift > 63 { throw .overflow }
        }
        throw .incomplete
    }

    /// Reads the varint starting at `start`. Never reads outside `bytes`.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Parsed {
        var offset = start
        do {
            let value = try decode(bytes, at: &offset, end: bytes.count)
            return .value(value, length: offset - start)
        } catch {
            switch error {
            case .incomplete: return .incomplete
            case .overflow: return .overflow
            }
        }
    }

    /// Reads the varint at `offset` and moves `offset` past it; running out of bytes is an error here.
    public static func read(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) throws(PromWireError) -> UInt64 {
        var position = offset
        do {
            let value = try decode(bytes, at: &position, end: bytes.count)
            offset = position
            return value
        } catch {
            switch error {
            case .incomplete: throw PromWireError(.truncated, "varint: input ends inside a varint at byte \(offset)")
            case .overflow: throw PromWireError(.malformedVarint, "varint: more than 64 bits at byte \(offset)")
            }
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
