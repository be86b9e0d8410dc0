import GRPCCore
import GRPCRuntime
import PrometheusClient
import SkiffCore
import StoreAPI

/// What the Querier-facing services read: Prometheus, the sidecar's state (its external labels)
/// and the bound on each call.
public struct PrometheusUpstream: Sendable {
    let client: PrometheusClient
    let state: StoreState
    let timeout: Duration

    /// `timeout` bounds each call to Prometheus (Thanos sets none but the client's own).
    public init(client: PrometheusClient, state: StoreState, timeout: Duration = .seconds(120)) {
        self.client = client
        self.state = state
        self.timeout = timeout
    }

    /// The labels to add. Before Prometheus' labels are known Thanos adds none; Skiff's gRPC
    /// server does not listen until then, so this is only a guard.
    var external: LabelSet { state.externalLabels() ?? LabelSet() }

    /// One call to Prometheus on behalf of an RPC: cancelled when the client cancels the RPC, and
    /// a failure mapped to its gRPC code by the StoreAPI's one table (`RPCErrors.from`, Thanos'
    /// `get2xxResultWithGRPCErrors`: 400 InvalidArgument, 404 NotFound, 503 Unavailable, anything
    /// else Internal).
    func call<T: Sendable>(
        _ context: ServerContext,
        _ body: @escaping @Sendable (PrometheusClient, Duration) async throws(PrometheusAPIError) -> T
    ) async throws -> T {
        let (client, timeout) = (self.client, self.timeout)
        return try await RPCCancellation.cancellingWork(when: context) {
            do throws(PrometheusAPIError) {
                return try await body(client, timeout)
            } catch {
                throw RPCErrors.from(error)
            }
        }
    }

    /// Thanos returns a plain Go error (`errors.New`) here, which grpc-go sends as Unknown.
    static func plainGoError(_ message: String) -> RPCError { RPCError(code: .unknown, message: message) }
}
