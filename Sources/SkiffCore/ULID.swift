/// A block identifier: a ULID in its 26-character Crockford base32 form, as Prometheus names block dirs.
public struct ULID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The canonical (upper-case) text.
    public let string: String

    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    /// Character to 5-bit value; lower case is accepted as oklog/ulid does, I, L, O and U are not.
    private static let decode: [UInt8: UInt8] = {
        var table: [UInt8: UInt8] = [:]
        for (i, c) in alphabet.enumerated() {
            table[c] = UInt8(i)
            if c >= UInt8(ascii: "A") { table[c + 32] = UInt8(i) }
        }
        return table
    }()

    /// Parses a ULID; nil for anything that is not one (wrong length, bad character, overflowing first character).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 26, bytes[0] <= UInt8(ascii: "7") else { return nil }
        for b in bytes where Self.decode[b] == nil { return nil }
        string = String(decoding: bytes.map { Self.alphabet[Int(Self.decode[$0]!)] }, as: UTF8.self)
    }

    /// Milliseconds since the Unix epoch encoded in the first 10 characters.
    public var timestampMillis: Int64 {
        var value: Int64 = 0
        for b in string.utf8.prefix(10) { value = value << 5 | Int64(Self.decode[b]!) }
        return value
    }

    public var description: String { string }
    public static func < (lhs: ULID, rhs: ULID) -> Bool { lhs.string < rhs.string }
}
