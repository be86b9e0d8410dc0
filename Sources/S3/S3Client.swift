import AsyncHTTPClient
import Foundation
import HTTPClientConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ObjectStorage
import SigV4
import SkiffCore

/// Signed, retried HTTP requests to one S3 bucket. `S3Bucket` builds on it.
///
/// Every attempt is signed afresh (a retry after a long backoff would otherwise carry a stale
/// date) and retried only when the failure says a retry can help (see `S3ServiceError`). Request
/// bodies are streamed from files; response bodies are either streamed to a consumer or, for
/// S3's small XML answers, collected up to a bound.
final class S3Client: Sendable {
    /// What to send: a key (nil for a bucket-level request), query and headers, and the body.
    struct Request: Sendable {
        var method: HTTPMethod
        var key: String?
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body: Body = .empty
    }

    enum Body: Sendable {
        case empty
        case bytes([UInt8])
        /// `length` bytes of the file at `offset`, whose SHA-256 is `sha256` (sent as
        /// `x-amz-content-sha256`). With `verify`, the bytes are also hashed as they are read and the
        /// request ends short on a mismatch, so no server stores bytes that differ from the digest,
        /// even one that does not check it. Multipart parts skip that: their digests were computed
        /// from the same file a moment before, in the pass that also checks the whole file's hash.
        case file(path: String, offset: Int64, length: Int64, sha256: String, verify: Bool)
    }

    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    let config: S3Config
    /// Short waits between request retries (`RequestRetries.backoff`): a request retry is cheap
    /// and a failing request holds up its block (the shipper's own backoff handles longer
    /// outages), so the default 10 retries give up within about 10 s.
    private let retries: RequestRetries
    private let http: HTTPClient
    private let signer: SigV4Signer
    /// Host header value: `bucket.endpoint` (virtual-host) or `endpoint` (path style).
    private let host: String
    /// "/bucket" in path style, "" in virtual-host style.
    private let bucketPath: String
    private let origin: String
    private let logger: Logger
    /// Largest XML answer collected in memory (ListObjects pages are about 250 KB for 1,000 keys).
    static let maxCollectedBytes = 16 << 20

    init(config: S3Config, logger: Logger = Logger(label: "skiff.s3")) throws(SkiffError) {
        self.config = config
        self.logger = logger
        retries = RequestRetries(store: "s3", bucket: config.bucket, logger: logger)
        let secrets = config.secrets
        self.signer = SigV4Signer(
            credentials: SigV4Credentials(
                accessKeyID: config.accessKey, secretAccessKey: secrets.secretKey, sessionToken: secrets.sessionToken),
            region: config.region)
        if Self.usesVirtualHost(config) {
            host = "\(config.bucket).\(config.endpoint)"
            bucketPath = ""
        } else {
            host = config.endpoint
            bucketPath = "/\(config.bucket)"
        }
        origin = "\(config.insecure ? "http" : "https")://\(host)"

        let tls: TLSConfiguration?
        if config.insecure {
            tls = nil
        } else {
            let source = "S3 bucket config"
            let key = "config.http_config.tls_config"
            let hostname = host.hasPrefix("[") ? String(host.dropFirst().prefix { $0 != "]" }) : String(host.prefix { $0 != ":" })
            try config.tls.checkServerName(host: hostname, source: source, key: key + ".server_name")
            tls = try config.tls.clientConfiguration(source: source, key: key)
        }
        var httpConfig = config.transport.clientConfiguration(tls: tls, defaultConnectionsPerHost: 16)
        httpConfig.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfig)
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    /// minio-go's `auto` rule: virtual-host style for AWS and Aliyun, path style elsewhere (MinIO,
    /// Ceph and IP endpoints mostly need it). Bucket names with dots break TLS wildcard matching.
    static func usesVirtualHost(_ config: S3Config) -> Bool {
        switch config.addressing {
        case .path: return false
        case .virtualHost: return true
        case .auto:
            let hostname = config.endpoint.split(separator: ":").first.map(String.init) ?? config.endpoint
            let known = hostname.hasSuffix("amazonaws.com") || hostname.hasSuffix("aliyuncs.com")
            return known && !(config.bucket.contains(".") && !config.insecure)
        }
    }

    /// Where a key lives, for messages: `s3://bucket/key at endpoint`.
    func location(_ key: String?) -> String {
        "s3://\(config.bucket)/\(key ?? "") at \(config.endpoint)"
    }

    // MARK: - Sending

    /// Sends `request`, retrying what can be retried, and returns the (collected) response when
    /// its status is in `accept`; any other status becomes an error.
    func send(
        _ request: Request, operation: String, accept: Set<Int> = [200], journal: (any UploadJournal)? = nil
    ) async throws(SkiffError) -> Response {
        var result: Response?
        try await withRetries(request, operation: operation, journal: journal) { response throws in
            let body = try await response.body.collect(upTo: Self.maxCollectedBytes)
            let collected = Response(status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
            guard accept.contains(collected.status) else {
                var body = collected.body
                if request.method == .HEAD, body.isEmpty, (400..<500).contains(collected.status) {
                    body = try await errorBody(explaining: request)
                }
                throw S3ServiceError(
                    status: collected.status, body: body, headers: response.headers.first(name: "x-amz-request-id"))
            }
            result = collected
        }
        return result!
    }

    /// An answer to HEAD has no body, so it cannot say *why* it was refused (a wrong secret and a
    /// missing permission are both a bare 403). The same request as a one-byte GET gets S3's
    /// error document, whose code and message the operator needs.
    private func errorBody(explaining request: Request) async throws -> [UInt8] {
        var probe = request
        probe.method = .GET
        probe.headers.append(("range", "bytes=0-0"))
        let response = try await execute(probe, digest: DigestCheck())
        let body = try await response.body.collect(upTo: 1 << 16)
        return response.status.code >= 400 ? Array(buffer: body) : []
    }

    /// Runs one request with retries. `handle` gets each response; it throws an `S3ServiceError`
    /// (or a transport error while reading the body) to have the attempt judged for retrying.
    func withRetries(
        _ request: Request, operation: String, journal: (any UploadJournal)?,
        handle: (HTTPClientResponse) async throws -> Void
    ) async throws(SkiffError) {
        try await retries.run(
            operation: operation, key: request.key, maxAttempts: config.maxRetries + 1, journal: journal,
            observer: { DigestCheck() },
            attempt: { digest in try await handle(try await execute(request, digest: digest)) },
            judge: { error, digest in classify(error, digest: digest, request: request, operation: operation) })
    }

    private func execute(_ request: Request, digest: DigestCheck) async throws -> HTTPClientResponse {
        let payloadHash: String
        switch request.body {
        case .empty: payloadHash = SigV4Request.emptyPayloadHash
        case .bytes(let bytes): payloadHash = SigV4Request.payloadHash(of: bytes)
        case .file(_, _, _, let sha256, _): payloadHash = sha256
        }
        let path = bucketPath + (request.key.map { "/" + $0 } ?? (bucketPath.isEmpty ? "/" : ""))
        let signable = SigV4Request(
            method: request.method.rawValue, host: host, path: path, query: request.query,
            headers: request.headers, payloadHash: payloadHash)
        let query = signable.encodedQuery
        var outgoing = HTTPClientRequest(url: origin + signable.encodedPath + (query.isEmpty ? "" : "?" + query))
        outgoing.method = request.method
        outgoing.headers.add(name: "Host", value: host)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        for (name, value) in signer.sign(signable, date: Date()) { outgoing.headers.add(name: name, value: value) }
        switch request.body {
        case .empty:
            if request.method == .PUT || request.method == .POST { outgoing.body = .bytes(ByteBuffer()) }
        case .bytes(let bytes):
            outgoing.body = .bytes(ByteBuffer(bytes: bytes))
        case .file(let filePath, let offset, let length, let sha256, let verify):
            let source = try FileRangeBody(
                path: filePath, offset: offset, length: length, expectedSHA256: verify ? sha256 : nil, observer: digest)
            outgoing.body = .stream(source, length: .known(length))
        }
        // The whole request, body included, must finish within this deadline: generous for a
        // 5 GiB part on a slow link, while `read` bounds a silent server much sooner.
        return try await http.execute(outgoing, timeout: .hours(2), logger: nil)
    }

    // MARK: - Judging failures

    private func classify(_ error: any Error, digest: DigestCheck, request: Request, operation: String) -> RequestFailure {
        var failure = judge(error, digest: digest, request: request, operation: operation)
        failure.context.key = failure.context.key ?? request.key
        return failure
    }

    private func judge(_ error: any Error, digest: DigestCheck, request: Request, operation: String) -> RequestFailure {
        let here = location(request.key)
        if let mismatch = digest.mismatch {
            // The local bytes differ from the recorded hash: no retry sends the right bytes.
            return RequestFailure(retryable: false, code: .bucket, text: mismatch, operation: operation, location: here)
        }
        switch error {
        case let error as S3ServiceError:
            let code: SkiffError.Code =
                error.code == "NoSuchKey" ? .notFound : error.isConfigurationError ? .invalidArgument : .bucket
            return RequestFailure(
                retryable: error.isRetryable, code: code, text: error.summary, operation: operation, location: here,
                context: SkiffError.Context(httpStatus: error.status, storeCode: error.code, requestID: error.requestID))
        case let error as SkiffError:
            return RequestFailure(
                retryable: error.transient, code: error.code, text: error.message, operation: operation, location: here,
                context: error.context)
        case is CancellationError:
            return RequestFailure(retryable: false, code: .bucket, text: "cancelled", operation: operation, location: here)
        case is NIOSSLError, is NIOSSLExtraError:
            // A certificate that does not verify will not verify on the next try either.
            let text =
                "TLS handshake failed (\(error)); check http_config.tls_config.ca_file and server_name, or set insecure: true for a plain-HTTP endpoint"
            return RequestFailure(retryable: false, code: .invalidArgument, text: text, operation: operation, location: here)
        default:
            // Refused, reset, timed out, closed mid-body: the network or the server hiccuped.
            return RequestFailure(
                retryable: true, code: .bucket, text: describeTransport(error), operation: operation, location: here,
                context: SkiffError.Context(cause: "\(type(of: error)): \(error)"))
        }
    }

    private func describeTransport(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return HTTPTransport.describe(error) }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused: nothing listens at \(config.endpoint); check config.endpoint"
            case EHOSTUNREACH, ENETUNREACH: return "\(config.endpoint) is unreachable from here (\(error))"
            default: break
            }
        }
        return "\(error)"
    }
}
