/// DEFLATE (RFC 1951) blocks: stored, fixed Huffman and dynamic Huffman.
struct Inflater {
    let maxOutput: Int

    private static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
        8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]
    /// The order in which a dynamic block lists its code-length code's lengths.
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// Inflates one DEFLATE stream from `input`, appending to `out` (earlier members' bytes stay
    /// there, and back-references never reach into them).
    func inflate(_ input: inout BitReader, into out: inout [UInt8]) throws(Gunzip.Failure) {
        let start = out.count
        var last = false
        while !last {
            last = try input.bits(1) == 1
            switch try input.bits(2) {
            case 0: try stored(&input, into: &out)
            case 1: try codes(&input, into: &out, start: start, tables: Self.fixed())
            case 2: try codes(&input, into: &out, start: start, tables: Self.dynamic(&input))
            default: throw Gunzip.Failure(reason: "invalid block type")
            }
        }
    }

    private func stored(_ input: inout BitReader, into out: inout [UInt8]) throws(Gunzip.Failure) {
        input.alignToByte()
        let length = try input.bits(16)
        guard try input.bits(16) == length ^ 0xffff else { throw Gunzip.Failure(reason: "stored block length check failed") }
        guard out.count + length <= maxOutput else { throw tooLarge }
        for _ in 0..<length { out.append(try input.byte()) }
    }

    private var tooLarge: Gunzip.Failure { Gunzip.Failure(reason: "it decompresses to more than \(maxOutput) bytes") }

    private func codes(
        _ input: inout BitReader, into out: inout [UInt8], start: Int, tables: (Huffman, Huffman)
    ) throws(Gunzip.Failure) {
        let (literals, distances) = tables
        while true {
            let symbol = try literals.decode(&input)
            if symbol < 256 {
                guard out.count < maxOutput else { throw tooLarge }
                out.append(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            let index = symbol - 257
            guard index < 29 else { throw Gunzip.Failure(reason: "invalid length code") }
            let length = try Self.lengthBase[index] + input.bits(Self.lengthExtra[index])
            let distanceCode = try distances.decode(&input)
            guard distanceCode < 30 else { throw Gunzip.Failure(reason: "invalid distance code") }
            let distance = try Self.distanceBase[distanceCode] + input.bits(Self.distanceExtra[distanceCode])
            guard distance <= out.count - start else { throw Gunzip.Failure(reason: "distance too far back") }
            guard out.count + length <= maxOutput else { throw tooLarge }
            // Byte by byte: a copy may overlap what it is producing (distance < length).
            for _ in 0..<length { out.append(out[out.count - distance]) }
        }
    }

    private static func fixed() throws(Gunzip.Failure) -> (Huffman, Huffman) {
        var lengths = [Int](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        return (try Huffman(lengths: lengths[...]), try Huffman(lengths: [Int](repeating: 5, count: 30)[...]))
    }

    private static func dynamic(_ input: inout BitReader) throws(Gunzip.Failure) -> (Huffman, Huffman) {
        let literalCount = try input.bits(5) + 257
        let distanceCount = try input.bits(5) + 1
        let codeLengthCount = try input.bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw Gunzip.Failure(reason: "bad dynamic block counts") }
        var codeLengthLengths = [Int](repeating: 0, count: 19)
        for i in 0..<codeLengthCount { codeLengthLengths[codeLengthOrder[i]] = try input.bits(3) }
        let codeLengthCode = try Huffman(lengths: codeLengthLengths[...])
        var lengths: [Int] = []
        lengths.reserveCapacity(literalCount + distanceCount)
        while lengths.count < literalCount + distanceCount {
            let symbol = try codeLengthCode.decode(&input)
            var value = 0
            var repeats = 1
            switch symbol {
            case 0..<16:
                value = symbol
            case 16:
                guard let previous = lengths.last else { throw Gunzip.Failure(reason: "repeat with no previous length") }
                value = previous
                repeats = try 3 + input.bits(2)
            case 17:
                repeats = try 3 + input.bits(3)
            default:
                repeats = try 11 + input.bits(7)
            }
            guard lengths.count + repeats <= literalCount + distanceCount else {
                throw Gunzip.Failure(reason: "too many code lengths")
            }
            lengths.append(contentsOf: repeatElement(value, count: repeats))
        }
        guard lengths[256] != 0 else { throw Gunzip.Failure(reason: "no end-of-block code") }
        return (
            try Huffman(lengths: lengths[..<literalCount]),
            try Huffman(lengths: lengths[literalCount...])
        )
    }
}

/// CRC-32 (IEEE 802.3, reflected), the gzip trailer's checksum.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xffff_ffff
    }
}
