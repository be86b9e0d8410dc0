import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import ServiceLifecycle

/// The sidecar's gRPC server (Thanos `pkg/server/grpc`) as a ServiceLifecycle `Service`.
///
/// Lifecycle, as in Thanos:
/// 1. `run()` first awaits `waitUntilReady`. Thanos opens the gRPC port only once it knows
///    Prometheus' external labels; until then the port refuses connections, while the other
///    services of the group carry on. Graceful shutdown during the wait returns without listening.
/// 2. It listens on `address` (TLS if given) and logs the bound address, which `boundAddress()` returns.
/// 3. On graceful shutdown: the health service (if any) turns NOT_SERVING and ends its Watch
///    streams, the server stops accepting and lets in-flight RPCs finish, and after `gracePeriod`
///    whatever is left is cut off (Go's GracefulStop, then Stop).
///
/// Request messages may be up to `Int32.max` bytes, as in Thanos; responses are not limited.
/// Connections older than `maxConnectionAge` are closed gracefully (grpc-go's keepalive
/// MaxConnectionAge: a GOAWAY, then the close once their RPCs finish), so clients reconnect and,
/// with TLS, handshake again.
public final class GRPCServerService: Service, Sendable {
    /// Thanos' `--grpc-grace-period` default.
    public static let defaultGracePeriod: Duration = .seconds(120)
    /// Thanos' `--grpc-server-max-connection-age` default.
    public static let defaultMaxConnectionAge: Duration = .seconds(60 * 60)

    private let address: GRPCListenAddress
    private let tls: GRPCServerTLS?
    private let services: [any RegistrableRPCService]
    private let interceptors: [any ServerInterceptor]
    private let health: HealthService?
    private let gracePeriod: Duration
    private let maxConnectionAge: Duration?
    private let logger: Logger
    private let waitUntilReady: @Sendable () async throws -> Void
    private let bound = BoundAddress()

    /// - Parameters:
    ///   - tls: nil serves plaintext.
    ///   - services: the RPC services to serve; `health` is added to them when given.
    ///   - health: also told to shut down when graceful shutdown begins.
    ///   - maxConnectionAge: `--grpc-server-max-connection-age`; nil, zero or negative means no
    ///     limit (grpc-go reads 0 as infinity). In-flight RPCs of an old connection are not cut off:
    ///     like Thanos, which sets no MaxConnectionAgeGrace, there is no deadline for them.
    ///   - waitUntilReady: the server listens only after this returns; if it throws, `run()` throws.
    public init(
        address: GRPCListenAddress, tls: GRPCServerTLS? = nil, services: [any RegistrableRPCService],
        interceptors: [any ServerInterceptor] = [], health: HealthService? = nil,
        gracePeriod: Duration = GRPCServerService.defaultGracePeriod,
        maxConnectionAge: Duration? = GRPCServerService.defaultMaxConnectionAge, logger: Logger,
        waitUntilReady: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.address = address
        self.tls = tls
        self.services = services + (health.map { [$0] } ?? [])
        self.interceptors = interceptors
        self.health = health
        self.gracePeriod = gracePeriod
        self.maxConnectionAge = maxConnectionAge.flatMap { $0 > .zero ? $0 : nil }
        self.logger = logger
        self.waitUntilReady = waitUntilReady
    }

    /// The address the server listens on, with the real port when port 0 was asked for. Waits
    /// until the server listens; throws if `run()` ends first without having listened.
    public func boundAddress() async throws -> GRPCListenAddress {
        try await bound.value()
    }

    public func run() async throws {
        defer { bound.close() }
        let socketAddress = try address.socketAddress()

        do {
            try await cancelWhenGracefulShutdown(waitUntilReady)
        } catch is CancellationError where Task.isShuttingDownGracefully {
            // The wait was cut short by the shutdown; handled below.
        }
        if Task.isShuttingDownGracefully {
            logger.info("shutting down before the gRPC server started")
            return
        }

        let server = GRPCServer(transport: makeTransport(socketAddress), services: services, interceptors: interceptors)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve() }
                group.addTask { try await self.superviseServer(server) }
                // serve() returns once a graceful shutdown completes; the supervisor returns when the
                // grace period runs out. Either way the other task is no longer needed, and cancelling
                // serve() closes every connection that is still open.
                _ = try await group.next()
                group.cancelAll()
            }
        } catch  where !(error is CancellationError) {
            throw GRPCServerFailure(address: address, underlying: error)  // the transport's errors omit it
        }
        logger.info("gRPC server stopped")
    }

    private func makeTransport(_ socketAddress: NIOCore.SocketAddress) -> Transport {
        var config = Transport.Config.defaults
        config.rpc.maxRequestPayloadSize = Int(Int32.max)
        config.connection.maxAge = maxConnectionAge
        return Transport(listenerFactory: GRPCListener(address: socketAddress, tls: tls), config: config)
    }

    /// Publishes the bound address, then waits for graceful shutdown and runs it.
    private func superviseServer(_ server: GRPCServer<Transport>) async throws {
        // A failure to bind is reported by serve(), with a better message than this would give.
        if let socketAddress = await server.transport.listeningAddress {
            let listening = GRPCListenAddress(socketAddress) ?? address
            bound.set(listening)
            logger.info(
                "listening for gRPC",
                metadata: [
                    "address": "\(listening)", "tls": "\(tlsMode)",
                    "max_connection_age": "\(maxConnectionAge.map { "\($0)" } ?? "none")",
                ])
        }

        try await gracefulShutdown()
        health?.shutDown()
        logger.info("gRPC server shutting down gracefully", metadata: ["grace_period": "\(gracePeriod)"])
        server.beginGracefulShutdown()
        try await Task.sleep(for: gracePeriod)
        logger.warning("gRPC grace period is over; closing the remaining connections")
    }

    private var tlsMode: String {
        guard let tls else { return "off" }
        return "\(tls.clientCAPath == nil ? "on" : "mutual"), min \(tls.minimumVersion.rawValue)"
    }

    /// The Posix transport cannot be told the TLS settings; see `GRPCListener`.
    private typealias Transport = HTTP2ServerTransport.Custom<GRPCListener>
}

extension GRPCListenAddress {
    /// The transport's view of a bound IP address; nil for Unix and vsock addresses.
    init?(_ address: GRPCNIOTransportHTTP2.SocketAddress) {
        if let ipv4 = address.ipv4 {
            self.init(host: ipv4.host, port: ipv4.port)
        } else if let ipv6 = address.ipv6 {
            self.init(host: ipv6.host, port: ipv6.port)
        } else {
            return nil
        }
    }
}
