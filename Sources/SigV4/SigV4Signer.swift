import Crypto
import Foundation

/// Signs requests with AWS Signature Version 4, in the `Authorization` header form with the whole
/// payload hashed up front (or `UNSIGNED-PAYLOAD`), as S3 and S3-compatible servers accept.
///
/// Pure: the date is a parameter and no I/O happens, so a request signs the same way every time
/// and tests can compare exact strings with AWS's published examples. Each step of the algorithm
/// is a separate internal function, so a mismatch can be traced to the step that differs.
public struct SigV4Signer: Sendable {
    /// Who signs. Public for the access key id; printing it is safe, as the secret and token are redacted.
    public let credentials: SigV4Credentials
    /// The region in the credential scope, e.g. `us-east-1` (S3-compatible servers usually want
    /// the region they were configured with, often `us-east-1`).
    public let region: String
    /// The service in the credential scope: `s3` for object storage.
    public let service: String

    /// - Parameter service: the scope's service name; AWS's generic test suite uses `service`.
    public init(credentials: SigV4Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to `request` so that the server accepts it: `x-amz-date`,
    /// `x-amz-content-sha256`, `x-amz-security-token` (with temporary credentials) and
    /// `Authorization`. The client must also send `request.host` as `Host`, `request.headers`,
    /// and `request.encodedPathAndQuery` as the target, unchanged.
    ///
    /// `x-amz-content-sha256` is always sent and signed, even for `UNSIGNED-PAYLOAD`: S3 rejects a
    /// SigV4 request without it, and signing it stops anyone swapping the body's hash.
    public func sign(_ request: SigV4Request, date: Date) -> [(name: String, value: String)] {
        let timestamp = amzDate(date)
        var added: [(name: String, value: String)] = [
            ("x-amz-date", timestamp), ("x-amz-content-sha256", request.payloadHash),
        ]
        if let token = credentials.sessionToken {
            added.append(("x-amz-security-token", token))
        }
        let callerHeaders = request.headers.filter { !Self.signerOwnedHeaders.contains($0.name.lowercased()) }
        let signed = [("host", request.host)] + callerHeaders + added
        return added + [("Authorization", authorization(request, headers: signed, amzDate: timestamp))]
    }

    /// Headers whose value the signer decides; a caller's copy would be signed twice or disagree.
    static let signerOwnedHeaders: Set<String> = [
        "host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "authorization",
    ]

    // MARK: - The steps, internal so that tests can check each one.

    /// The `Authorization` value for `request` carrying exactly `headers` (host included), all signed.
    func authorization(_ request: SigV4Request, headers: [(name: String, value: String)], amzDate: String) -> String {
        let day = String(amzDate.prefix(8))
        let text = stringToSign(canonicalRequest: canonicalRequest(request, headers: headers), amzDate: amzDate)
        let signature = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: signingKey(day: day))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(day: day)), "
            + "SignedHeaders=\(canonicalHeaders(headers).names), Signature=\(lowerHex(signature))"
    }

    /// Step 1: the request reduced to one string both sides can build from what was sent.
    func canonicalRequest(_ request: SigV4Request, headers: [(name: String, value: String)]) -> String {
        let canonical = canonicalHeaders(headers)
        // The header block ends in "\n", so joining leaves the blank line the format requires.
        return [
            request.method, request.encodedPath, request.encodedQuery, canonical.block, canonical.names,
            request.payloadHash,
        ].joined(separator: "\n")
    }

    /// Lower-case names, sorted; values trimmed with inner runs of spaces and tabs made one space
    /// (proxies may refold whitespace); a repeated name becomes one line with its values joined by
    /// "," in the order given, as an HTTP server would combine them.
    func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, names: String) {
        var valuesByName: [String: [String]] = [:]
        for header in headers {
            let value = header.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            valuesByName[header.name.lowercased(), default: []].append(value)
        }
        let names = valuesByName.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let block = names.map { "\($0):\(valuesByName[$0, default: []].joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// Step 2: what the key signs: algorithm, time, scope, and the canonical request's hash.
    func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        let hash = lowerHex(SHA256.hash(data: Data(canonicalRequest.utf8)))
        return "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope(day: String(amzDate.prefix(8))))\n\(hash)"
    }

    /// Step 3: the key for one day, region and service, derived from the secret by a chain of HMACs
    /// so that a leaked derived key is useless elsewhere. Derived anew for each request: it costs
    /// four HMACs, too little to be worth a cache and the thread-safety a cache would need.
    func signingKey(day: String) -> SymmetricKey {
        let secret = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        let dayKey = hmacKey(secret, day)
        let regionKey = hmacKey(dayKey, region)
        let serviceKey = hmacKey(regionKey, service)
        return hmacKey(serviceKey, "aws4_request")
    }

    /// `day/region/service/aws4_request`: where and when the signature is valid.
    func scope(day: String) -> String {
        "\(day)/\(region)/\(service)/aws4_request"
    }

    private func hmacKey(_ key: SymmetricKey, _ message: String) -> SymmetricKey {
        SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key))
    }
}

extension SigV4Signer: CustomStringConvertible {
    /// Names the access key id but never the secret or the token.
    public var description: String {
        "SigV4Signer(accessKeyID: \(credentials.accessKeyID), region: \(region), service: \(service))"
    }
}
