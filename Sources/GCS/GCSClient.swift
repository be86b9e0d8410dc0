import AsyncHTTPClient
import Foundation
import HTTPClientConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ObjectStorage
import SkiffCore

/// Authorized, retried requests to GCS' JSON API for one bucket. `GCSBucket` builds on it.
///
/// Each attempt carries a current access token (none against an emulator) and is retried only
/// when the failure says a retry can help (see `GCSServiceError`).
final class GCSClient: Sendable {
    struct Request: Sendable {
        var method: HTTPMethod
        /// The whole URL (API paths, or a resumable session URI).
        var url: String
        /// The object the request is about, for messages.
        var key: String?
        var headers: [(name: String, value: String)] = []
        var body: Body = .empty
    }

    enum Body: Sendable {
        case empty
        case bytes([UInt8])
        /// `length` bytes of the file at `offset`; see `FileRangeBody` for the checks.
        case file(path: String, offset: Int64, length: Int64, expectedSHA256: String?)
    }

    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    let config: GCSConfig
    /// The API's origin: Google's, or the emulator's from `STORAGE_EMULATOR_HOST`.
    let origin: String
    /// Short waits between attempts, as for S3 (the shipper's own backoff covers outages).
    let retries: RequestRetries
    /// Largest JSON answer collected in memory (a listing page of 1,000 objects is about 1 MB).
    static let maxCollectedBytes = 16 << 20
    private let http: HTTPClient
    private let tokens: GCSTokenSource?
    private let logger: Logger

    init(config: GCSConfig, logger: Logger = Logger(label: "skiff.gcs")) throws(SkiffError) {
        self.config = config
        self.logger = logger
        retries = RequestRetries(store: "gcs", bucket: config.bucket, logger: logger)
        origin = config.emulatorOrigin ?? "https://storage.googleapis.com"
        var tls: TLSConfiguration?
        if origin.hasPrefix("https://") {
            tls = try config.tls.clientConfiguration(source: "GCS bucket config", key: "config.http_config.tls_config")
        }
        var httpConfig = config.transport.clientConfiguration(tls: tls, defaultConnectionsPerHost: 16)
        httpConfig.httpVersion = .http1Only
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfig)
        self.http = http
        // Google's clients send no credentials to an emulator (option.WithoutAuthentication).
        if config.emulatorOrigin == nil {
            do throws(SkiffError) {
                tokens = GCSTokenSource(credentials: try GCSCredentials.resolve(config), http: http)
            } catch {
                try? http.syncShutdown()
                throw error
            }
        } else {
            tokens = nil
        }
    }

    func shutdown() async { try? await http.shutdown() }

    /// Where a key lives, for messages: `gs://bucket/key`.
    func location(_ key: String?) -> String {
        "gs://\(config.bucket)/\(key ?? "")" + (config.emulatorOrigin.map { " at \($0)" } ?? "")
    }

    // MARK: - URLs

    /// `/storage/v1/b/BUCKET/o/KEY`: an object's metadata (and, with `alt=media`, its bytes).
    func objectURL(_ key: String, query: String = "") -> String {
        origin + "/storage/v1/b/" + Self.escape(config.bucket) + "/o/" + Self.escape(key) + (query.isEmpty ? "" : "?" + query)
    }

    /// `/storage/v1/b/BUCKET/o?QUERY`: listings.
    func listURL(_ query: [(String, String)]) -> String {
        origin + "/storage/v1/b/" + Self.escape(config.bucket) + "/o?" + Self.query(query)
    }

    /// `/upload/storage/v1/b/BUCKET/o?uploadType=TYPE&name=KEY`: uploads.
    func uploadURL(type: String, key: String) -> String {
        origin + "/upload/storage/v1/b/" + Self.escape(config.bucket) + "/o?" + Self.query([("uploadType", type), ("name", key)])
    }

    static func query(_ items: [(String, String)]) -> String {
        items.map { "\($0.0)=\(escape($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters (so "/" in a key is %2F).
    static func escape(_ value: String) -> String { GCSCredentials.formEncoded(value) }

    // MARK: - Sending

    /// Sends `request` with retries and returns the collected response when its status is in
    /// `accept`; any other status becomes an error. `tally`, when given, is the body's tally of the
    /// attempt that succeeded.
    func send(
        _ request: Request, operation: String, accept: Set<Int> = [200], journal: (any UploadJournal)? = nil,
        attempts: Int? = nil
    ) async throws(SkiffError) -> (response: Response, tally: BodyTally) {
        var result: (Response, BodyTally)?
        try await withRetries(request, operation: operation, journal: journal, attempts: attempts) { response, tally in
            let body = try await response.body.collect(upTo: Self.maxCollectedBytes)
            let collected = Response(status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
            guard accept.contains(collected.status) else {
                throw GCSServiceError(status: collected.status, body: collected.body, headers: collected.headers)
            }
            result = (collected, tally)
        }
        return result!
    }

    /// Runs one request with retries (up to `attempts`, default the config's). `handle` gets each
    /// response; it throws a `GCSServiceError` (or a transport error while reading the body) to have
    /// the attempt judged for retrying.
    func withRetries(
        _ request: Request, operation: String, journal: (any UploadJournal)?, attempts: Int? = nil,
        handle: (HTTPClientResponse, BodyTally) async throws -> Void
    ) async throws(SkiffError) {
        try await retries.run(
            operation: operation, key: request.key, maxAttempts: attempts ?? config.maxAttempts, journal: journal,
            observer: { BodyTally() },
            attempt: { tally in try await handle(try await execute(request, tally: tally), tally) },
            judge: { error, tally in judge(error, tally: tally, request: request, operation: operation) })
    }

    private func execute(_ request: Request, tally: BodyTally) async throws -> HTTPClientResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let tokens { outgoing.headers.add(name: "Authorization", value: "Bearer " + (try await tokens.token())) }
        switch request.body {
        case .empty:
            if request.method == .PUT || request.method == .POST { outgoing.body = .bytes(ByteBuffer()) }
        case .bytes(let bytes):
            tally.sent(bytes)
            outgoing.body = .bytes(ByteBuffer(bytes: bytes))
        case .file(let path, let offset, let length, let expectedSHA256):
            let source = try FileRangeBody(
                path: path, offset: offset, length: length, expectedSHA256: expectedSHA256, observer: tally)
            outgoing.body = .stream(source, length: .known(length))
        }
        // Generous for a whole object on a slow link; `read` bounds a silent server much sooner.
        return try await http.execute(outgoing, timeout: .hours(2), logger: nil)
    }

    // MARK: - Judging failures

    func judge(_ error: any Error, tally: BodyTally, request: Request, operation: String) -> RequestFailure {
        let here = location(request.key)
        var failure: RequestFailure
        if let mismatch = tally.mismatch {
            // The local bytes differ from the recorded hash: no retry sends the right bytes.
            failure = RequestFailure(retryable: false, code: .bucket, text: mismatch, operation: operation, location: here)
        } else {
            switch error {
            case let error as GCSServiceError:
                failure = RequestFailure(
                    retryable: error.isRetryable,
                    code: error.status == 404
                        ? .notFound
                        : error.isConfigurationError
                            ? .invalidArgument : .bucket,
                    text: error.summary, operation: operation, location: here,
                    context: SkiffError.Context(httpStatus: error.status, storeCode: error.reason, requestID: error.requestID))
            case let error as SkiffError:
                failure = RequestFailure(
                    retryable: error.transient, code: error.code, text: error.message, operation: operation, location: here,
                    context: error.context)
            case is CancellationError:
                failure = RequestFailure(retryable: false, code: .bucket, text: "cancelled", operation: operation, location: here)
            case is NIOSSLError, is NIOSSLExtraError:
                let text = "TLS handshake failed (\(error)); check http_config.tls_config.ca_file and server_name"
                failure = RequestFailure(
                    retryable: false, code: .invalidArgument, text: text, operation: operation, location: here)
            default:
                failure = RequestFailure(
                    retryable: true, code: .bucket, text: Self.describeTransport(error, origin: origin), operation: operation,
                    location: here, context: SkiffError.Context(cause: "\(type(of: error)): \(error)"))
            }
        }
        failure.context.key = failure.context.key ?? request.key
        return failure
    }

    static func describeTransport(_ error: any Error, origin: String) -> String {
        if let error = error as? HTTPClientError { return HTTPTransport.describe(error) }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED {
            return "connection refused: nothing listens at \(origin)"
                + (origin.hasPrefix("https://storage.googleapis.com") ? "" : "; check STORAGE_EMULATOR_HOST")
        }
        return "\(error)"
    }
}
