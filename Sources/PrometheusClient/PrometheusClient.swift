import AsyncHTTPClient
import FileIO
import Foundation
import HTTPClientConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import SkiffCore
import Tracing

/// The sidecar's calls to one Prometheus server (Thanos pkg/promclient, the parts the sidecar
/// uses): readiness, external labels, flags, version and the lowest timestamp. Every call carries
/// the configured credentials, is bounded by the caller's timeout (connect, head and body
/// together) and reads at most a bounded body. Failures are `SkiffError`s naming the URL; they
/// never contain the password or the token. Call `shutdown()` before dropping the client.
public final class PrometheusClient: Sendable {
    /// The base URL without a trailing slash; a path prefix (`/prom`) is kept for every call.
    public let url: String
    let http: HTTPClient
    /// The `Authorization` header value, or nil. Never logged or put in a message.
    let authorization: String?
    let logger: Logger

    /// Builds the client. Credential files are read here (Thanos re-reads them per request; Skiff
    /// reads once so a missing file fails at start, where the operator is looking).
    public init(url: String, config: PrometheusHTTPClientConfig = .init()) throws(SkiffError) {
        let (base, host) = try Self.normalize(url)
        try config.validate()
        try config.tls.checkServerName(host: host, source: PrometheusHTTPClientConfig.source, key: "tls_config.server_name")
        self.url = base
        self.authorization = try Self.authorization(config)
        self.logger = Logger(label: "skiff.prometheus")
        let tls =
            base.hasPrefix("https://")
            ? try config.tls.clientConfiguration(source: PrometheusHTTPClientConfig.source, key: "tls_config") : nil
        var httpConfig = config.transport.clientConfiguration(tls: tls, defaultConnectionsPerHost: 8)
        httpConfig.httpVersion = .automatic
        // Fail a refused connect at once, saying so, instead of retrying until the call times out
        // with no reason given; callers (the heartbeat, the readiness wait) retry on their own.
        httpConfig.connectionPool.retryConnectionEstablishment = false
        // Created last: an HTTPClient dropped without shutdown traps, so nothing may throw after it.
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfig)
    }

    /// Closes pooled connections. Must be awaited once before the client is released.
    public func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: - URL and credentials

    /// Accepts `http(s)://host[:port][/prefix]`; returns the URL without a trailing slash and the
    /// host. Credentials in the URL are refused (and the URL not echoed) so they never reach logs.
    static func normalize(_ text: String) throws(SkiffError) -> (String, String) {
        func bad(_ why: String) -> SkiffError {
            SkiffError(.invalidArgument, "--prometheus.url: \(why)", transient: false)
        }
        guard let components = URLComponents(string: text) else {
            throw bad("\"\(text)\" is not a URL; use e.g. http://localhost:9090")
        }
        if components.user != nil || components.password != nil {
            throw bad("credentials in the URL are not supported; use basic_auth in --prometheus.http-client")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw bad("\"\(text)\" must start with http:// or https://, e.g. http://localhost:9090")
        }
        guard let host = components.host, !host.isEmpty else {
            throw bad("\"\(text)\" has no host; use e.g. http://localhost:9090")
        }
        if components.query != nil || components.fragment != nil {
            throw bad("\"\(text)\" must not have a query or fragment")
        }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let port = components.port.map { ":\($0)" } ?? ""
        return ("\(scheme)://\(hostPart)\(port)\(path)", host)
    }

    /// Basic auth or bearer token, reading `password_file` / `bearer_token_file` now. Surrounding
    /// whitespace is trimmed, as Prometheus does, so a file ending in a newline works.
    static func authorization(_ config: PrometheusHTTPClientConfig) throws(SkiffError) -> String? {
        func read(_ path: String, _ key: String) throws(SkiffError) -> String {
            do throws(Errno) {
                let bytes = try Posix.readAll(path)
                return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw SkiffError(
                    .invalidArgument,
                    "--prometheus.http-client: cannot read \(key) \(path) (\(error.reason)); check the path and its permissions",
                    transient: false)
            }
        }
        let auth = config.basicAuth
        if auth.isSet {
            let password = auth.passwordFile.isEmpty ? auth.password : try read(auth.passwordFile, "basic_auth.password_file")
            return "Basic " + Data("\(auth.username):\(password)".utf8).base64EncodedString()
        }
        if !config.bearerTokenFile.isEmpty { return "Bearer " + (try read(config.bearerTokenFile, "bearer_token_file")) }
        if !config.bearerToken.isEmpty { return "Bearer " + config.bearerToken }
        return nil
    }

    // MARK: - Sending

    /// A call's answer handed to `handle` while the body is still streaming.
    struct Answer {
        let status: Int
        let body: HTTPClientResponse.Body
    }

    /// GETs `path` (relative to `url`) and runs `handle` on the answer, the whole exchange bounded
    /// by `timeout`. AsyncHTTPClient's deadline only covers the response head, so a racing timer
    /// in a task group bounds the body too. Every error comes back as a `SkiffError`.
    func get<T: Sendable>(
        _ path: String, accept: String = "application/json", timeout: Duration,
        handle: @escaping @Sendable (Answer) async throws -> T
    ) async throws(SkiffError) -> T {
        let target = url + path
        let http = self.http
        let logger = self.logger
        let prepared = request(target, accept: accept)
        let span = Self.startCallSpan("GET", target)
        defer { span.end() }
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    let response = try await http.execute(prepared, timeout: TimeAmount(timeout), logger: logger)
                    return try await handle(Answer(status: Int(response.status.code), body: response.body))
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else { throw CallTimedOut() }
                return value
            }
        } catch let error as SkiffError {
            throw Self.failed(
                span, SkiffError(error.code, "Prometheus at \(target): \(error.message)", transient: error.transient))
        } catch is CallTimedOut {
            throw Self.failed(span, Self.unreachable(target, "no complete answer within \(timeout)"))
        } catch {
            throw Self.failed(span, Self.classify(error, target: target, timeout: timeout))
        }
    }

    /// A client span for one call to Prometheus (a child of the caller's span, if any), for
    /// `--tracing.config`; a no-op when no tracer is bootstrapped.
    static func startCallSpan(_ method: String, _ target: String) -> any Span {
        let span = startSpan("prometheus \(method)", ofKind: .client)
        span.attributes["http.request.method"] = method
        span.attributes["url.full"] = target
        return span
    }

    static func failed(_ span: any Span, _ error: SkiffError) -> SkiffError {
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error))
        return error
    }

    private struct CallTimedOut: Error {}

    /// A request to `target` with the headers every call carries (and the credentials, if any).
    func request(_ target: String, accept: String? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: target)
        request.headers.add(name: "User-Agent", value: "skiff")
        if let accept { request.headers.add(name: "Accept", value: accept) }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        return request
    }

    static func unreachable(_ target: String, _ what: String) -> SkiffError {
        SkiffError(.io, "Prometheus at \(target): \(what); is it running and reachable?", transient: true)
    }

    /// Transport failures: TLS ones are configuration problems; the rest may pass on retry.
    static func classify(_ error: any Error, target: String, timeout: Duration) -> SkiffError {
        switch error {
        case is NIOSSLError, is NIOSSLExtraError:
            return SkiffError(
                .invalidArgument,
                "Prometheus at \(target): TLS handshake failed (\(error)); check tls_config in --prometheus.http-client",
                transient: false)
        case let error as HTTPClientError where error == .deadlineExceeded:
            return unreachable(target, "no answer within \(timeout)")
        case let error as HTTPClientError where error == .connectTimeout:
            return unreachable(target, "connect timed out")
        case let error as HTTPClientError where error == .readTimeout:
            return unreachable(target, "no response within transport_config.response_header_timeout")
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            return unreachable(target, "the server closed the connection")
        case let error as IOError:
            return unreachable(target, "connection failed: \(String(cString: strerror(error.errnoCode)))")
        default:
            return unreachable(target, "\(error)")
        }
    }

    /// Reads a small body whole, failing with a clear message beyond `limit` bytes.
    static func collect(_ body: HTTPClientResponse.Body, limit: Int, what: String) async throws -> [UInt8] {
        do {
            return Array(buffer: try await body.collect(upTo: limit))
        } catch is NIOTooManyBytesError {
            throw SkiffError(.io, "the \(what) answer is larger than \(limit) bytes", transient: true)
        }
    }

    /// The start of an error answer for a message: at most 512 bytes, one line, printable.
    static func snippet(_ body: HTTPClientResponse.Body) async -> String {
        var bytes: [UInt8] = []
        do {
            for try await buffer in body {
                bytes += buffer.readableBytesView.prefix(512 - bytes.count)
                if bytes.count >= 512 { break }
            }
        } catch {}
        let text = String(decoding: bytes, as: UTF8.self)
            .map { $0.isNewline || $0 == "\t" ? " " : $0 }
            .filter { !$0.unicodeScalars.contains { $0.properties.generalCategory == .control } }
        return String(text).trimmingCharacters(in: .whitespaces)
    }
}
