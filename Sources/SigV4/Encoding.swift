/// Percent-encodes `string` the way SigV4's `UriEncode` does.
///
/// The 66 unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`) are kept; every other UTF-8
/// byte becomes `%XX` with upper-case hex. This is stricter than Foundation's URL encoders, which
/// leave characters such as `+`, `=`, `$` or `!` alone: the server re-encodes what it receives with
/// AWS's rules, so anything we send must already be in that exact form or the signatures differ.
///
/// A free function rather than a static member, so that no type shadows the module name; callers
/// write `SigV4.uriEncode(key, encodeSlash: false)` all the same.
///
/// - Parameter encodeSlash: `false` for an S3 object path, where `/` separates segments and is sent
///   as is; `true` for query names and values, where `/` must become `%2F`.
public func uriEncode(_ string: String, encodeSlash: Bool) -> String {
    var encoded: [UInt8] = []
    encoded.reserveCapacity(string.utf8.count)
    for byte in string.utf8 {
        if isUnreserved(byte) || (byte == UInt8(ascii: "/") && !encodeSlash) {
            encoded.append(byte)
        } else {
            encoded.append(UInt8(ascii: "%"))
            encoded.append(upperHexDigits[Int(byte >> 4)])
            encoded.append(upperHexDigits[Int(byte & 0x0F)])
        }
    }
    return String(decoding: encoded, as: UTF8.self)
}

/// RFC 3986 section 2.3: the bytes that never need encoding.
private func isUnreserved(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
        UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

private let upperHexDigits = Array("0123456789ABCDEF".utf8)
private let lowerHexDigits = Array("0123456789abcdef".utf8)

/// Lower-case hex, the form SigV4 uses for hashes and signatures.
func lowerHex(_ bytes: some Sequence<UInt8>) -> String {
    var text: [UInt8] = []
    for byte in bytes {
        text.append(lowerHexDigits[Int(byte >> 4)])
        text.append(lowerHexDigits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}
