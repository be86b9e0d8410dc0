/// Gunzip (RFC 1952 members around RFC 1951 DEFLATE data), as Go's `gzip.Reader` reads a
/// compressed `--reloader.config-file` (prometheus-operator stores `prometheus.yaml.gz`).
/// Written here because no zlib is reachable from Swift without a C target of our own, and a
/// config is small: this is the simple canonical-Huffman decoder of zlib's `puff.c`, one bit at a
/// time, with each member's CRC-32 and length checked and the output bounded.
enum Gunzip {
    struct Failure: Error, Equatable {
        let reason: String
    }

    /// Whether `bytes` starts as a gzip member (magic and the deflate method), the test Thanos uses.
    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes[0] == 0x1f && bytes[1] == 0x8b && bytes[2] == 0x08
    }

    /// The decompressed bytes of every member in `bytes`; more than `maxOutput` bytes fails.
    static func decompress(_ bytes: [UInt8], maxOutput: Int) throws(Failure) -> [UInt8] {
        var input = BitReader(bytes)
        var out: [UInt8] = []
        repeat {
            let start = out.count
            try readHeader(&input)
            try Inflater(maxOutput: maxOutput).inflate(&input, into: &out)
            input.alignToByte()
            let crc = try input.littleEndian32()
            let size = try input.littleEndian32()
            guard crc == CRC32.checksum(out[start...]) else { throw Failure(reason: "CRC-32 mismatch (the file is damaged)") }
            guard size == UInt32(truncatingIfNeeded: out.count - start) else {
                throw Failure(reason: "length mismatch (the file is damaged)")
            }
        } while !input.atEnd
        return out
    }

    private static func readHeader(_ input: inout BitReader) throws(Failure) {
        guard try input.byte() == 0x1f, try input.byte() == 0x8b, try input.byte() == 8 else {
            throw Failure(reason: "not gzip data (bad magic or method)")
        }
        let flags = try input.byte()
        for _ in 0..<6 { _ = try input.byte() }  // mtime, extra flags, OS
        if flags & 0x04 != 0 {  // FEXTRA
            let low = Int(try input.byte())
            let length = try low | Int(input.byte()) << 8
            for _ in 0..<length { _ = try input.byte() }
        }
        for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT: NUL-terminated
            while try input.byte() != 0 {}
        }
        if flags & 0x02 != 0 {
            _ = try input.byte()
            _ = try input.byte()
        }  // FHCRC
    }
}

/// Reads bytes, and bits least significant first, as DEFLATE packs them.
struct BitReader {
    private let bytes: [UInt8]
    private var position = 0
    private var bitBuffer: UInt32 = 0
    private var bitCount = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count && bitCount == 0 }

    mutating func bits(_ count: Int) throws(Gunzip.Failure) -> Int {
        while bitCount < count {
            guard position < bytes.count else { throw Gunzip.Failure(reason: "unexpected end of data (truncated file)") }
            bitBuffer |= UInt32(bytes[position]) << UInt32(bitCount)
            position += 1
            bitCount += 8
        }
        let value = Int(bitBuffer & ((1 << UInt32(count)) - 1))
        bitBuffer >>= UInt32(count)
        bitCount -= count
        return value
    }

    /// Drops the bits left of the current byte (stored blocks and the trailer start on a byte).
    mutating func alignToByte() {
        bitBuffer = 0
        bitCount = 0
    }

    mutating func byte() throws(Gunzip.Failure) -> UInt8 { UInt8(try bits(8)) }

    mutating func littleEndian32() throws(Gunzip.Failure) -> UInt32 {
        var value: UInt32 = 0
        for shift in stride(from: 0, to: 32, by: 8) { value |= UInt32(try byte()) << UInt32(shift) }
        return value
    }
}

/// A canonical Huffman code: how many codes of each length, and the symbols in code order.
struct Huffman {
    private var counts = [Int](repeating: 0, count: 16)
    private var symbols: [Int]

    init(lengths: ArraySlice<Int>) throws(Gunzip.Failure) {
        for length in lengths { counts[length] += 1 }
        var left = 1
        for length in 1..<16 {
            left = left << 1 - counts[length]
            guard left >= 0 else { throw Gunzip.Failure(reason: "over-subscribed Huffman code") }
        }
        var offsets = [Int](repeating: 0, count: 16)
        for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
        symbols = [Int](repeating: 0, count: lengths.count)
        for (symbol, length) in zip(0..., lengths) where length != 0 {
            symbols[offsets[length]] = symbol
            offsets[length] += 1
        }
    }

    func decode(_ input: inout BitReader) throws(Gunzip.Failure) -> Int {
        var code = 0
        var first = 0
        var index = 0
        for length in 1..<16 {
            code |= try input.bits(1)
            let count = counts[length]
            if code - first < count { return symbols[index + code - first] }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        throw Gunzip.Failure(reason: "invalid Huffman code")
    }
}
