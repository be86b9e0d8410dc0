import GRPCRuntime
import HTTPServer
import ServiceLifecycle

/// Holds `/-/ready` at 503 until the gRPC server listens: a querier told "ready" must be able to
/// connect, and the gRPC port opens only once Prometheus' external labels are known, which can be
/// a moment after the heartbeat first succeeds. Thanos' prober likewise needs every server ready.
struct GRPCReadyGate: Service {
    static let gate = "grpc"

    let server: GRPCServerService
    let probe: StatusProbe

    func run() async throws {
        // boundAddress() throws when the server ends without having listened; the gate stays shut.
        if (try? await cancelWhenGracefulShutdown({ try await server.boundAddress() })) != nil {
            probe.openGate(Self.gate)
        }
        // A service that returns early would end the whole group: wait for the shutdown.
        try? await gracefulShutdown()
    }
}
