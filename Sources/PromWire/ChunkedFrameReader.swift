/// Splits Prometheus' streamed remote-read body (STREAMED_XOR_CHUNKS) into frames as the body
/// arrives, in pieces of any size.
///
/// A frame is `uvarint(len) ‖ big-endian uint32 CRC32C(data) ‖ data`, the data being one
/// `ChunkedReadResponse`. Feed pieces with `append`, drain with `nextFrame()` until it answers
/// nil, repeat; at the end of the body call `finish()`, which throws if a frame was cut short.
/// After any error the stream is unusable: discard the reader.
///
/// Bytes are kept in one growing buffer with a read offset. Consumed bytes are dropped only when
/// they outnumber the unread ones, so each byte is moved at most once on average (amortised
/// O(n)), never once per frame.
public struct ChunkedFrameReader: Sendable {
    /// Prometheus' `DefaultChunkedReadLimit` (5e7 bytes), the limit Thanos reads with.
    public static let defaultMaxFrameLength = 50_000_000

    /// A frame whose data is longer than this is refused as soon as its length is read.
    public let maxFrameLength: Int
    private var buffer: [UInt8] = []
    /// Where the next unread frame starts in `buffer`.
    private var readOffset = 0
    /// Bytes dropped from the front of `buffer` so far, to report stream offsets in errors.
    private var droppedByteCount = 0

    public init(maxFrameLength: Int = defaultMaxFrameLength) {
        self.maxFrameLength = maxFrameLength
    }

    /// Bytes received but not yet returned as frames.
    public var unreadByteCount: Int { buffer.count - readOffset }

    /// Adds the next piece of the body.
    public mutating func append(contentsOf piece: UnsafeRawBufferPointer) {
        dropConsumedBytes()
        buffer.append(contentsOf: piece)
    }

    /// Adds the next piece of the body (arrays and other contiguous collections are not copied twice).
    public mutating func append(_ piece: some Collection<UInt8>) {
        dropConsumedBytes()
        if piece.withContiguousStorageIfAvailable({ buffer.append(contentsOf: $0) }) == nil {
            buffer.append(contentsOf: piece)
        }
    }

    /// The next whole frame's data, checksum verified; nil when the buffered bytes do not hold a
    /// whole frame yet.
    public mutating func nextFrame() throws(PromWireError) -> [UInt8]? {
        do { return try nextFrame { Array($0) } } catch let error as PromWireError { throw error } catch {
            preconditionFailure("copying a frame cannot throw")
        }
    }

    /// Lends the next whole frame's data, checksum verified, to `body` without copying it out of
    /// the reader (valid only during the call), and returns what `body` returns; nil when the
    /// buffered bytes do not hold a whole frame yet. Throws `PromWireError` or what `body` throws;
    /// the frame counts as read only when `body` returns.
    public mutating func nextFrame<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result? {
        guard let header = try parseHeader() else { return nil }
        let dataEnd = header.dataStart + header.dataLength
        guard dataEnd <= buffer.count else {
            // Grow once to the known size rather than by repeated doubling while a big frame arrives.
            buffer.reserveCapacity(dataEnd)
            return nil
        }
        let result = try buffer.withUnsafeBytes { all in
            let data = UnsafeRawBufferPointer(rebasing: all[header.dataStart..<dataEnd])
            let actual = CRC32C.checksum(data)
            guard actual == header.checksum else {
                throw PromWireError(
                    .checksumMismatch,
                    "chunkedReader: corrupted frame; checksum mismatch (frame at byte \(droppedByteCount + readOffset) "
                        + "says \(hex(header.checksum)), its \(header.dataLength) data bytes have \(hex(actual)))")
            }
            return try body(data)
        }
        readOffset = dataEnd
        return result
    }

    /// Declares the end of the body: fine when it ended exactly after a frame, an error when a
    /// frame is cut short (or whole frames were left unread, a caller bug).
    public func finish() throws(PromWireError) {
        guard unreadByteCount > 0 else { return }
        let at = droppedByteCount + readOffset
        guard let header = try parseHeader() else {
            throw PromWireError(.truncated, "chunkedReader: truncated frame: the body ends inside the frame header at byte \(at)")
        }
        let have = buffer.count - header.dataStart
        guard have >= header.dataLength else {
            throw PromWireError(
                .truncated,
                "chunkedReader: truncated frame: the frame at byte \(at) has \(max(have, 0)) of its \(header.dataLength) data bytes"
            )
        }
        throw PromWireError(.truncated, "chunkedReader: finish() with \(unreadByteCount) bytes of unread frames at byte \(at)")
    }

    private struct FrameHeader {
        var dataLength: Int
        var checksum: UInt32
        var dataStart: Int
    }

    /// The unread frame's header, or nil while its length and checksum have not all arrived.
    private func parseHeader() throws(PromWireError) -> FrameHeader? {
        guard readOffset < buffer.count else { return nil }
        let parsed = buffer.withUnsafeBytes { UVarint.parse($0, at: readOffset) }
        let length: UInt64
        let varintLength: Int
        switch parsed {
        case .incomplete: return nil
        case .overflow:
            throw PromWireError(
                .malformedVarint, "chunkedReader: malformed frame length varint at byte \(droppedByteCount + readOffset)")
        case .value(let value, let count):
            length = value
            varintLength = count
        }
        guard length <= UInt64(maxFrameLength) else {
            throw PromWireError(
                .tooLarge, "chunkedReader: message size exceeded the limit \(maxFrameLength) bytes; got: \(length) bytes")
        }
        let checksumStart = readOffset + varintLength
        guard checksumStart + 4 <= buffer.count else { return nil }
        let checksum = buffer.withUnsafeBytes {
            UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: checksumStart, as: UInt32.self))
        }
        return FrameHeader(dataLength: Int(length), checksum: checksum, dataStart: checksumStart + 4)
    }

    /// Drops consumed bytes once they outnumber the unread ones: the move costs at most as much
    /// as the bytes consumed since the last one, so the total stays linear.
    private mutating func dropConsumedBytes() {
        guard readOffset > 0 else { return }
        if readOffset == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else if readOffset >= buffer.count - readOffset {
            buffer.removeSubrange(0..<readOffset)
        } else {
            return
        }
        droppedByteCount += readOffset
        readOffset = 0
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
