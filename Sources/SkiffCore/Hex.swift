/// Lower-case hex, the form SHA-256 digests take in meta.json, the ledger and S3 headers.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func lower(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
