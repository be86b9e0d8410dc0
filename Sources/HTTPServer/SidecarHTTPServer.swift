import BlockingWork
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import Prometheus
import RequestLogging
import ServiceLifecycle
import SkiffCore
import Synchronization
import WebConfig

#if canImport(Glibc)
import Glibc
#endif

/// The sidecar's HTTP endpoints (Thanos `pkg/server/http`), run as a ServiceLifecycle `Service`.
///
/// - `GET|HEAD /-/healthy`: 200 "OK" while serving, 503 "NOT OK" once shutdown has begun.
/// - `GET|HEAD /-/ready`: 200 "OK" when the probe is ready, else 503 "NOT OK".
/// - `GET|HEAD /metrics`: the registry in text format 0.0.4, families sorted by name.
/// - Other methods on those paths: 405; any other path: 404.
///
/// Lifecycle, as Thanos' HTTP actor: healthy once the socket listens; on graceful shutdown, not
/// ready first (so load balancers stop sending), then stop accepting and let in-flight requests
/// finish for at most `gracePeriod` (0 closes at once), then not healthy.
///
/// Hummingbird's `MetricsMiddleware` is deliberately not used: its metrics lack HELP and `_total`.
public struct SidecarHTTPServer: Service {
    private let address: String
    private let probe: StatusProbe
    private let registry: PrometheusCollectorRegistry
    private let gracePeriod: Duration
    private let logger: Logger
    private let onListening: @Sendable (Int) -> Void
    private let web: WebConfig?
    private let requestLog: RequestLogPolicy?
    private let routes: [HTTPRoute]

    /// - Parameters:
    ///   - address: "host:port" as Thanos' `--http-address` ("0.0.0.0:10902", ":10902", "[::1]:9").
    ///     Port 0 binds a free port, reported through `onListening`. A bad address makes `run()` throw.
    ///   - onListening: called once with the bound port, after the probe is marked healthy.
    ///   - web: `--http.config` (TLS, basic auth, headers for every endpoint); nil serves plain HTTP.
    ///   - requestLog: `--request.logging-config`'s `http` rules; nil logs no requests.
    ///   - routes: extra endpoints (the query API), behind the same auth and headers.
    public init(
        address: String, probe: StatusProbe, registry: PrometheusCollectorRegistry, gracePeriod: Duration,
        logger: Logger, web: WebConfig? = nil, requestLog: RequestLogPolicy? = nil, routes: [HTTPRoute] = [],
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.routes = routes
        self.web = web
        self.requestLog = requestLog
        self.address = address
        self.probe = probe
        self.registry = registry
        self.gracePeriod = gracePeriod
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until graceful shutdown (or cancellation) and returns once the server has stopped.
    ///
    /// Hummingbird stops accepting and waits for in-flight requests on graceful shutdown, but has no
    /// deadline; a sibling task supplies it by closing the remaining connections `gracePeriod` after
    /// shutdown began (see `ConnectionTracker` for why it does not cancel the server).
    public func run() async throws {
        let (host, port) = try Self.parseAddress(address)
        let connections = ConnectionTracker()
        let listening = ListeningFlag()
        let http1 = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [connections.makeHandler()]))
        let app = Application(
            responder: CallbackResponder<SidecarRequestContext> { request, context in
                await self.loggedResponse(to: request, context: context)
            },
            server: try web?.tls.map { try .tls(http1, tlsConfiguration: $0.configuration) } ?? http1,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { [probe, logger, onListening, listening] channel in
                listening.set()
                let bound = channel.localAddress?.port ?? port
                probe.setHealthy()
                logger.info("listening for requests and metrics", metadata: ["address": "\(host):\(bound)"])
                onListening(bound)
            },
            logger: logger)

        let grace = gracePeriod
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do { try await app.run() } catch let error as IOError where !listening.isSet {
                        throw Self.listenFailure(address, error)
                    }
                }
                group.addTask {
                    try await gracefulShutdown()  // throws CancellationError once the server has stopped
                    try await Task.sleep(for: grace)
                    // Repeated, because a connection accepted just before the listener closed can
                    // register after a pass. Ends by cancellation once the server has stopped.
                    while true {
                        let closed = connections.closeAll()
                        if closed > 0, grace > .zero {
                            logger.warning(
                                "HTTP grace period expired; closing connections",
                                metadata: ["grace": "\(grace)", "connections": "\(closed)"])
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                // The server finishing ends the closer; a server error (a bind failure, say) propagates.
                try await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: { [probe] in
            probe.setNotReady(reason: "shutting down HTTP server")
        }
        // Also reached on cancellation without a graceful shutdown: the server is gone either way.
        probe.setNotReady(reason: "HTTP server stopped")
        probe.setNotHealthy()
        logger.info("HTTP server stopped")
    }

    /// A failure to listen, as the operator needs it: the flag, the address, and what to do.
    static func listenFailure(_ address: String, _ error: IOError) -> SkiffError {
        let why =
            switch error.errnoCode {
            case EADDRINUSE: "the address is already in use; stop the process listening there or choose another port"
            case EADDRNOTAVAIL: "the IP address is not one of this machine's; use 0.0.0.0:PORT or a local address"
            case EACCES: "permission denied; ports below 1024 need privileges, choose a higher one"
            default: "\(error)"
            }
        return SkiffError(.invalidArgument, "--http-address \(address): cannot listen: \(why)", transient: false)
    }

    /// `authorizedResponse`, logged as `--request.logging-config` asks (Thanos' HTTP middleware:
    /// "finished call" at debug for 200-499, error otherwise; "started call" before when asked).
    private func loggedResponse(to request: Request, context: SidecarRequestContext) async -> Response {
        let port = request.head.authority.flatMap { $0.split(separator: ":").last.map(String.init) } ?? ""
        guard let policy = requestLog, policy.logs("\(request.uri.path):\(port)") else {
            return await authorizedResponse(to: request, eventLoop: context.eventLoop)
        }
        var fields: Logger.Metadata = [
            "protocol": "http", "http.component": "server", "http.method": "\(request.method) \(request.uri)",
            "http.request_id": "\(Self.requestID.flatMap { request.headers[$0] } ?? "")",
            "http.user_agent": "\(request.headers[.userAgent] ?? "")", "thanos.method_name": "\(request.uri.path)",
        ]
        if policy.logStart, policy.minimum <= .debug { logger.debug("started call", metadata: fields) }
        let started = ContinuousClock.now
        let response = await authorizedResponse(to: request, eventLoop: context.eventLoop)
        let level = RequestLogPolicy.httpLevel(status: response.status.code)
        if level >= policy.minimum {
            let elapsed = ContinuousClock.now - started
            fields["http.status_code"] = "\(response.status.code)"
            let (seconds, attoseconds) = elapsed.components
            fields["http.time_ms"] = "\(Double(seconds) * 1000 + Double(attoseconds / 1_000_000_000_000) / 1000)"
            fields["http.remote_addr"] = "\(Self.forwardedFor.flatMap { request.headers[$0] } ?? context.remoteAddress)"
            logger.log(level: level, "finished call", metadata: fields)
        }
        return response
    }

    private static let requestID = HTTPFields.Element.Name("X-Request-ID")
    private static let forwardedFor = HTTPFields.Element.Name("X-Forwarded-For")

    /// `respond`, behind `--http.config`'s basic auth and with its headers. bcrypt runs on the
    /// blocking pool: it takes tens of milliseconds, which would stall the event loop's probes.
    private func authorizedResponse(to request: Request, eventLoop: any EventLoop) async -> Response {
        var response: Response
        if let users = web?.users {
            let authorization = request.headers[.authorization]
            let allowed = (try? await Blocking.run { users.allows(authorization: authorization) }) ?? false
            response =
                allowed
                ? await routed(request, eventLoop: eventLoop)
                : Response(
                    status: .unauthorized,
                    headers: [.wwwAuthenticate: "Basic", .contentType: "text/plain; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: "Unauthorized\n")))
        } else {
            response = await routed(request, eventLoop: eventLoop)
        }
        for header in web?.headers ?? [] {
            if let name = HTTPFields.Element.Name(header.name) { response.headers[name] = header.value }
        }
        return response
    }

    /// An extra route's answer when one serves the path, else `respond`'s.
    private func routed(_ request: Request, eventLoop: any EventLoop) async -> Response {
        guard let route = routes.first(where: { $0.serves(request.uri.path) }) else {
            return respond(to: request, eventLoop: eventLoop)
        }
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.body.collect(upTo: HTTPRoute.bodyLimit))
        } catch {
            return Response(
                status: .contentTooLarge, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "request body too large\n")))
        }
        let answer = await route.handle(
            HTTPRoute.Request(
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                contentType: request.headers[.contentType], body: body))
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let field = HTTPFields.Element.Name(name) { headers[field] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    /// Routes one request. Every answer is known up front; only the /metrics body is streamed.
    private func respond(to request: Request, eventLoop: any EventLoop) -> Response {
        let get: () -> Response
        switch request.uri.path {
        case "/-/healthy": get = { Self.text(self.probe.isHealthy ? .ok : .serviceUnavailable) }
        case "/-/ready": get = { Self.text(self.probe.isReady ? .ok : .serviceUnavailable) }
        case "/metrics": get = { Self.metrics(MetricsExposition.render(self.registry), eventLoop: eventLoop) }
        default:
            return Response(
                status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "404 page not found\n")))
        }
        switch request.method {
        case .get: return get()
        case .head:
            // Same status and headers as GET, Content-Length included, but no body (RFC 9110 9.3.2).
            var response = get()
            let length = response.body.contentLength
            response.body = ResponseBody()
            response.headers[.contentLength] = length.map(String.init)
            return response
        default:
            return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD"])
        }
    }

    /// Writes the exposition in 64 KiB chunks with real backpressure, so a slow scraper holds its
    /// request open, and graceful shutdown waits for it (up to the grace period), as Go's
    /// `http.Server.Shutdown` does. Without it the whole body lands in NIO's unbounded outbound
    /// buffer at once, the request counts as finished, and quiescing closes the connection, dropping
    /// the unsent rest.
    ///
    /// The hop to the connection's event loop after each chunk is what makes the backpressure real:
    /// chunks reach the channel asynchronously, so without it the writer can queue every chunk before
    /// the channel reports that it is no longer writable.
    private static func metrics(_ body: [UInt8], eventLoop: any EventLoop) -> Response {
        Response(
            status: .ok, headers: [.contentType: MetricsExposition.contentType],
            body: ResponseBody(contentLength: body.count) { writer in
                var offset = 0
                while offset < body.count {
                    let end = min(offset + 65536, body.count)
                    try await writer.write(ByteBuffer(bytes: body[offset..<end]))
                    try await eventLoop.submit {}.get()
                    offset = end
                }
                try await writer.finish(nil)
            })
    }

    /// Thanos' probe bodies: "OK" for 200, "NOT OK" otherwise.
    private static func text(_ status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: status == .ok ? "OK" : "NOT OK")))
    }
}

/// The request context: Hummingbird's basics plus the connection's event loop, which the /metrics
/// writer needs for backpressure (`BasicRequestContext` drops the channel).
struct SidecarRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let eventLoop: any EventLoop
    /// The client's address, for request logs.
    let remoteAddress: String

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.eventLoop = source.channel.eventLoop
        self.remoteAddress = source.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? ""
    }
}

/// Whether the server got as far as listening: an I/O error before that is a failure to listen.
private final class ListeningFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
