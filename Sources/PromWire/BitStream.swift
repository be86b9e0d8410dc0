/// Bits written most significant first into bytes, exactly as Prometheus' `bstream` (2.x, as
/// vendored by Thanos) lays out XOR chunks, so our chunks match theirs byte for byte.
///
/// One quirk is kept on purpose: a whole byte written into a full (or empty) last byte also
/// appends a fresh zero byte. When a chunk ends right there, it carries one trailing zero byte
/// more than it needs. Decoders ignore it; Prometheus 3 dropped it (prometheus#14854).
struct BitWriter {
    private(set) var bytes: [UInt8]
    /// Unused low bits in the last byte, 0...8 (`bstream.count`).
    private var freeBits = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func writeBit(_ bit: Bool) {
        if freeBits == 0 {
            bytes.append(0)
            freeBits = 8
        }
        if bit { bytes[bytes.count - 1] |= 1 << UInt8(freeBits - 1) }
        freeBits -= 1
    }

    /// Fills the last byte's free bits with the top of `byte` and always starts a new byte with
    /// the rest (all zero when the old byte had 8 free bits): the source of the trailing zero byte.
    mutating func writeByte(_ byte: UInt8) {
        if freeBits == 0 {
            bytes.append(0)
            freeBits = 8
        }
        bytes[bytes.count - 1] |= byte >> UInt8(8 - freeBits)
        bytes.append(freeBits == 8 ? 0 : byte << UInt8(freeBits))
    }

    /// Overwrites a whole byte already written (the chunk header).
    mutating func patch(_ byte: UInt8, at index: Int) {
        bytes[index] = byte
    }

    /// Writes the low `bitCount` (0...64) bits of `value`, most significant first: whole bytes
    /// through `writeByte`, the rest bit by bit, in that order, as `bstream.writeBits` does.
    mutating func write(_ value: UInt64, bitCount: Int) {
        var remaining = bitCount
        var bits = bitCount == 0 ? 0 : value &<< UInt64(64 - bitCount)
        while remaining >= 8 {
            writeByte(UInt8(truncatingIfNeeded: bits >> 56))
            bits = bits &<< 8
            remaining -= 8
        }
        while remaining > 0 {
            writeBit(bits >> 63 == 1)
            bits = bits &<< 1
            remaining -= 1
        }
    }
}

/// Reads what `BitWriter` wrote; running out of bits throws instead of trapping, since chunk
/// bytes come from the network.
struct BitReader {
    private let bytes: [UInt8]
    /// The next bit to read, counted from the start of `bytes`.
    private var position: Int

    init(bytes: [UInt8], byteOffset: Int) {
        self.bytes = bytes
        self.position = byteOffset * 8
    }

    private var remainingBits: Int { bytes.count * 8 - position }

    mutating func readBit() throws(PromWireError) -> Bool {
        guard position < bytes.count * 8 else { throw truncated() }
        let byte = bytes[position >> 3]
        let bit = byte & (0x80 >> UInt8(position & 7)) != 0
        position += 1
        return bit
    }

    /// Reads `bitCount` (0...64) bits as the low bits of the result.
    mutating func read(bitCount: Int) throws(PromWireError) -> UInt64 {
        guard bitCount <= remainingBits else { throw truncated() }
        var value: UInt64 = 0
        var remaining = bitCount
        while remaining > 0 {
            let bitInByte = position & 7
            let available = 8 - bitInByte
            let taken = min(available, remaining)
            let byte = UInt64(bytes[position >> 3])
            let piece = (byte &>> UInt64(available - taken)) & ((1 &<< UInt64(taken)) - 1)
            value = value &<< UInt64(taken) | piece
            position += taken
            remaining -= taken
        }
        return value
    }

    mutating func readByte() throws(PromWireError) -> UInt8 {
        UInt8(truncatingIfNeeded: try read(bitCount: 8))
    }

    /// A uvarint read byte by byte from the bit stream, as Prometheus reads the timestamps.
    mutating func readUVarint() throws(PromWireError) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<UVarint.maxLength {
            let byte = try readByte()
            if index == UVarint.maxLength - 1 && byte > 1 { break }
            if byte < 0x80 { return value | UInt64(byte) &<< UInt64(7 * index) }
            value |= UInt64(byte & 0x7f) &<< UInt64(7 * index)
        }
        throw PromWireError(.corruptChunk, "xor chunk: timestamp varint longer than 64 bits")
    }

    private func truncated() -> PromWireError {
        PromWireError(.truncated, "xor chunk: data ends after \(bytes.count) bytes, inside a sample")
    }
}
