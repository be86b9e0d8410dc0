import PromWire

/// Just enough of the protobuf wire format to turn Prometheus' `ChunkedSeries` into Thanos'
/// `Series` without building message objects: the chunk bytes are copied once, from the frame
/// into the response, and nothing else is allocated per chunk. (Decoding and re-encoding with the
/// generated types cost more CPU than Prometheus spent producing the data.) Varints are
/// `PromWire.UVarint`'s (inlinable), so a 10th byte above 1 is refused here as in Go.
enum ProtoWire {
    struct Malformed: Error, CustomStringConvertible {
        let what: String
        var description: String { "malformed protobuf: \(what)" }
    }

    /// Reads fields from a buffer; ranges index the same buffer.
    struct Reader {
        let buffer: UnsafeRawBufferPointer
        var position: Int
        let end: Int

        init(_ buffer: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
            self.buffer = buffer
            position = range?.lowerBound ?? 0
            end = range?.upperBound ?? buffer.count
        }

        var atEnd: Bool { position >= end }

        mutating func varint() throws(Malformed) -> UInt64 {
            do {
                return try UVarint.decode(buffer, at: &position, end: end)
            } catch {
                switch error {
                case .incomplete: throw Malformed(what: "truncated varint")
                case .overflow: throw Malformed(what: "varint too long")
                }
            }
        }

        /// The next field's number and wire type.
        mutating func tag() throws(Malformed) -> (field: Int, wireType: Int) {
            let key = try varint()
            return (Int(key >> 3), Int(key & 7))
        }

        mutating func lengthDelimited() throws(Malformed) -> Range<Int> {
            let length = try varint()
            guard length <= UInt64(end - position) else { throw Malformed(what: "length beyond the message") }
            let range = position..<(position + Int(length))
            position = range.upperBound
            return range
        }

        mutating func skip(wireType: Int) throws(Malformed) {
            switch wireType {
            case 0: _ = try varint()
            case 1: position += 8
            case 2: _ = try lengthDelimited()
            case 5: position += 4
            default: throw Malformed(what: "wire type \(wireType)")
            }
            guard position <= end else { throw Malformed(what: "truncated field") }
        }

        func string(_ range: Range<Int>) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: buffer[range]), as: UTF8.self)
        }
    }

    /// A varint field, omitted when zero (proto3).
    static func varintFieldSize(_ value: UInt64) -> Int { value == 0 ? 0 : 1 + UVarint.length(of: value) }

    static func appendVarintField(_ field: UInt8, _ value: UInt64, to out: inout [UInt8]) {
        guard value != 0 else { return }
        out.append(field << 3)
        UVarint.append(value, to: &out)
    }

    static func appendBytesField(_ field: UInt8, _ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(field << 3 | 2)
        UVarint.append(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    /// Writes fields into a buffer sized beforehand.
    struct Writer {
        let buffer: UnsafeMutableRawBufferPointer
        var position = 0

        init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

        var isFull: Bool { position == buffer.count }

        mutating func append(_ byte: UInt8) {
            precondition(position < buffer.count, "write beyond the buffer")
            buffer[position] = byte
            position += 1
        }

        mutating func appendVarint(_ value: UInt64) {
            UVarint.write(value, into: buffer, at: &position)
        }

        mutating func append(contentsOf bytes: UnsafeRawBufferPointer) {
            precondition(bytes.count <= buffer.count - position, "write beyond the buffer")
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            (buffer.baseAddress! + position).copyMemory(from: base, byteCount: bytes.count)
            position += bytes.count
        }

        /// A bytes or string field, omitted when empty (proto3).
        mutating func appendNonEmptyBytesField(_ field: UInt8, _ bytes: UnsafeRawBufferPointer) {
            guard !bytes.isEmpty else { return }
            append(field << 3 | 2)
            appendVarint(UInt64(bytes.count))
            append(contentsOf: bytes)
        }
    }
}
