import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRuntime
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import StoreProto
import Synchronization
import TestSupport
import Testing

/// Call options for tests: fail fast instead of waiting for a connection that will never work.
let testCallOptions: CallOptions = {
    var options = CallOptions.defaults
    options.timeout = .seconds(15)
    options.waitForReady = false
    return options
}()

/// A one-way switch that tasks can wait on; waiting ends early if the task is cancelled.
final class TestGate: Sendable {
    private let isOpen = Atomic(false)

    func open() { isOpen.store(true, ordering: .releasing) }

    func wait() async throws {
        // Polling keeps the wait trivially cancellable; 10 ms is nothing next to a test's run time.
        while !isOpen.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(10)) }
    }
}

/// A `GRPCServerService` on 127.0.0.1 inside a ServiceGroup, as the sidecar will run it.
struct RunningGRPCServer: Sendable {
    let port: Int
    let group: ServiceGroup

    /// Starts the server, runs `body` once it listens, then shuts it down gracefully and waits.
    static func with<T: Sendable>(
        tls: GRPCServerTLS? = nil, services: [any RegistrableRPCService] = [], health: HealthService? = HealthService(),
        gracePeriod: Duration = .seconds(5),
        maxConnectionAge: Duration? = GRPCServerService.defaultMaxConnectionAge,
        _ body: (RunningGRPCServer) async throws -> T
    ) async throws -> T {
        let service = GRPCServerService(
            address: GRPCListenAddress(host: "127.0.0.1", port: 0), tls: tls, services: services, health: health,
            gracePeriod: gracePeriod, maxConnectionAge: maxConnectionAge, logger: quietLogger)
        let group = ServiceGroup(configuration: .init(services: [service], logger: quietLogger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await withTimeout(gracePeriod + .seconds(60), "server run") { try await group.run() }
            }
            let address = try await withTimeout(.seconds(20), "server start") { try await service.boundAddress() }
            let result: T
            do {
                result = try await body(RunningGRPCServer(port: address.port, group: group))
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }
}

/// A health client on 127.0.0.1:`port`, closed when `body` returns.
func withHealthClient<T: Sendable>(
    port: Int, security: HTTP2ClientTransport.Posix.TransportSecurity = .plaintext,
    _ body: (Grpc_Health_V1_Health.Client<HTTP2ClientTransport.Posix>) async throws -> T
) async throws -> T {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: security)
    return try await withGRPCClient(transport: transport) { client in
        try await body(Grpc_Health_V1_Health.Client(wrapping: client))
    }
}

/// Check("") through a fresh client: the everyday probe.
func checkHealth(
    port: Int, service: String = "", security: HTTP2ClientTransport.Posix.TransportSecurity = .plaintext
) async throws -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
    try await withHealthClient(port: port, security: security) { health in
        try await health.check(.with { $0.service = service }, options: testCallOptions).status
    }
}

/// Whether a plain TCP connection to 127.0.0.1:`port` is accepted.
func acceptsConnections(port: Int) async -> Bool {
    guard
        let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5)).connect(host: "127.0.0.1", port: port).get()
    else { return false }
    try? await channel.close()
    return true
}
