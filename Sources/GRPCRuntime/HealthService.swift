import GRPCCore
import StoreProto
import Synchronization

/// The standard gRPC health service (grpc.health.v1.Health), which Thanos serves for probes such as
/// grpc_health_probe and Kubernetes' gRPC probes.
///
/// One status covers "" (the server as a whole) and every service name given at init: the sidecar
/// is ready or not as a whole. It starts NOT_SERVING; the sidecar calls `setServing(true)` once it
/// knows Prometheus' external labels and `shutDown()` when it stops. A name it was not given gets
/// NOT_FOUND from Check and SERVICE_UNKNOWN from Watch, as the health checking protocol specifies.
/// (Thanos itself registers only "" with its health server; the service names are an extra.)
public final class HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol, Sendable {
    public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    /// The sidecar's StoreAPI and Info services, the names a Thanos-aware probe may ask about.
    public static let sidecarServiceNames = ["thanos.Store", "thanos.info.Info"]

    private struct Watcher {
        let knowsService: Bool
        let updates: AsyncStream<Status>.Continuation
    }

    private struct State {
        var status: Status = .notServing
        var isShutDown = false
        var watchers: [Int: Watcher] = [:]
        var nextWatcherID = 0
    }

    private let knownServices: Set<String>
    private let state = Mutex(State())

    public init(serviceNames: [String] = HealthService.sidecarServiceNames) {
        knownServices = Set(serviceNames + [""])
    }

    /// The status Check reports for "" and the known services.
    public var status: Status { state.withLock { $0.status } }

    /// Flips every known service between SERVING and NOT_SERVING and tells the watchers.
    /// Ignored after `shutDown()`, so a late flip cannot make a stopping server look healthy.
    public func setServing(_ serving: Bool) {
        state.withLock { state in
            guard !state.isShutDown else { return }
            state.status = serving ? .serving : .notServing
            for watcher in state.watchers.values where watcher.knowsService { watcher.updates.yield(state.status) }
        }
    }

    /// NOT_SERVING for good, and every Watch stream ends after saying so. Ending them matters:
    /// the server's graceful shutdown waits for open streams, and a probe's Watch never ends by itself.
    public func shutDown() {
        let watchers = state.withLock { state in
            state.isShutDown = true
            state.status = .notServing
            for watcher in state.watchers.values where watcher.knowsService { watcher.updates.yield(.notServing) }
            let all = Array(state.watchers.values)
            state.watchers.removeAll()
            return all
        }
        // Outside the lock: finish() runs the stream's onTermination, which takes the lock.
        for watcher in watchers { watcher.updates.finish() }
    }

    public func check(
        request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard knownServices.contains(request.service) else {
            throw RPCFailure.unknownService(request.service).rpcError
        }
        return .with { $0.status = status }
    }

    /// Sends the current status, then each change, until the client cancels or `shutDown()`.
    /// Only the newest status is buffered: a slow reader skips states it no longer needs.
    /// Updates are queued under the lock, so watchers see changes in the order they were made.
    public func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        let (updates, continuation) = AsyncStream.makeStream(of: Status.self, bufferingPolicy: .bufferingNewest(1))
        let id = register(continuation, service: request.service)
        continuation.onTermination = { [self] _ in state.withLock { _ = $0.watchers.removeValue(forKey: id) } }

        try await RPCCancellation.cancellingWork(when: context) {
            var sent: Status?
            for await status in updates where status != sent {
                try await response.write(.with { $0.status = status })
                sent = status
            }
        }
    }

    /// Open Watch calls.
    public var watcherCount: Int { state.withLock { $0.watchers.count } }

    /// Records a watcher and queues its first message; after `shutDown()` that message is also the last.
    private func register(_ updates: AsyncStream<Status>.Continuation, service: String) -> Int {
        let knowsService = knownServices.contains(service)
        let (id, isShutDown) = state.withLock { state in
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            updates.yield(knowsService ? state.status : .serviceUnknown)
            if !state.isShutDown { state.watchers[id] = Watcher(knowsService: knowsService, updates: updates) }
            return (id, state.isShutDown)
        }
        if isShutDown { updates.finish() }
        return id
    }
}
