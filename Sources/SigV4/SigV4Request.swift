import Crypto
import Foundation

/// The parts of an HTTP request that SigV4 signs, in raw (not yet percent-encoded) form.
///
/// The signer and the HTTP client both derive the request target from this value
/// (`encodedPathAndQuery`), so what goes on the wire is byte for byte what was signed.
public struct SigV4Request: Sendable {
    /// The HTTP method exactly as sent, e.g. `GET`.
    public var method: String
    /// The `Host` header value, with `:port` when the port is not the scheme's default
    /// (`127.0.0.1:9000`), since that is what the client sends and the server signs.
    public var host: String
    /// The raw absolute path, e.g. `/bucket/dir/my key+1.txt`. Encoding is done here, once.
    public var path: String
    /// Raw query parameters in any order; a flag such as `uploads` has the value "".
    public var query: [(name: String, value: String)]
    /// Extra headers to sign and send (`range`, `content-type`, `x-amz-meta-*`...). The signer
    /// sets `host`, `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` and
    /// `authorization` itself; entries with those names here are ignored.
    public var headers: [(name: String, value: String)]
    /// Lower-case hex SHA-256 of the body, or `SigV4Request.unsignedPayload`.
    public var payloadHash: String

    /// Takes every part raw; nothing is encoded or checked until signing, and nothing here traps.
    public init(
        method: String, host: String, path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], payloadHash: String
    ) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }

    /// Signs the request without hashing the body: the body's integrity then rests on TLS (and on
    /// any checksum header), which saves a SHA-256 pass over every uploaded byte.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// The SHA-256 of an empty body, for GET, HEAD and DELETE.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The `payloadHash` of a body held in memory.
    public static func payloadHash(of body: some DataProtocol) -> String {
        lowerHex(SHA256.hash(data: body))
    }

    /// The path as sent and signed, S3 style: each segment encoded once, `/` kept, and no
    /// normalization of `//` or `.` segments, because S3 keys may contain them literally.
    /// A path without a leading `/` gets one, so an empty path means the bucket root `/`.
    public var encodedPath: String {
        let absolute = path.hasPrefix("/") ? path : "/" + path
        return uriEncode(absolute, encodeSlash: false)
    }

    /// The canonical query string, which is also what the client should send: names and values
    /// encoded, pairs sorted by encoded name then encoded value, `name=` for an empty value.
    public var encodedQuery: String {
        let encoded = query.map {
            (name: uriEncode($0.name, encodeSlash: true), value: uriEncode($0.value, encodeSlash: true))
        }
        // Byte order of the encoded (pure ASCII) text, as AWS specifies.
        let sorted = encoded.sorted { left, right in
            if left.name != right.name { return left.name.utf8.lexicographicallyPrecedes(right.name.utf8) }
            return left.value.utf8.lexicographicallyPrecedes(right.value.utf8)
        }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// The request target to send: `encodedPath`, then `?` and `encodedQuery` when there is a query.
    public var encodedPathAndQuery: String {
        query.isEmpty ? encodedPath : encodedPath + "?" + encodedQuery
    }
}
