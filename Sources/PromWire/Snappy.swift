/// Snappy's block format (not the framed stream format): a uvarint of the decoded length, then
/// tagged elements, each either a literal run of bytes or a copy of bytes already decoded.
///
/// Remote read uses it twice: requests are snappy-encoded, and SAMPLES responses come back
/// snappy-encoded by Go's encoder, which emits literals and copies with 1- and 2-byte offsets.
public enum Snappy {
    /// Literals are split into runs of at most this many bytes, as Go's encoder splits its input
    /// into 64 KiB blocks; the length then fits the 2-byte length form.
    public static let maxLiteralRun = 65_536

    /// The default ceiling for `decode`: a declared length above it is refused before allocating.
    /// SAMPLES responses of a sane query are far below this; pass a bigger limit deliberately.
    public static let defaultMaxDecodedLength = 1 << 30

    // MARK: - Encoding

    /// Encodes `bytes` as literal runs only: valid snappy that any decoder (Prometheus included)
    /// accepts, no compression. Remote-read requests are small, so compressing buys nothing.
    public static func encodeLiteral(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let encoded = bytes.withContiguousStorageIfAvailable({ encodeLiteralRuns(UnsafeRawBufferPointer($0)) }) {
            return encoded
        }
        return Array(bytes).withUnsafeBytes { encodeLiteralRuns($0) }
    }

    private static func encodeLiteralRuns(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        precondition(input.count <= Int(UInt32.max), "snappy: a block holds at most 4 GiB")
        let runs = (input.count + maxLiteralRun - 1) / maxLiteralRun
        var out: [UInt8] = []
        out.reserveCapacity(UVarint.maxLength + runs * 3 + input.count)
        UVarint.append(UInt64(input.count), to: &out)
        var start = 0
        while start < input.count {
            let end = min(start + maxLiteralRun, input.count)
            appendLiteralTag(length: end - start, to: &out)
            out.append(contentsOf: input[start..<end])
            start = end
        }
        return out
    }

    /// A literal tag stores length-1: inline in the upper 6 bits when below 60, else tag value
    /// 60...63 announces 1...4 little-endian length bytes after the tag.
    private static func appendLiteralTag(length: Int, to out: inout [UInt8]) {
        let stored = length - 1
        if stored < 60 {
            out.append(UInt8(stored) << 2)
            return
        }
        var extra = 1
        while extra < 4 && stored >> (8 * extra) != 0 { extra += 1 }
        out.append(UInt8(59 + extra) << 2)
        for byte in 0..<extra { out.append(UInt8(truncatingIfNeeded: stored >> (8 * byte))) }
    }
}
