import GRPCCore
import PrometheusClient
import SkiffCore
import StoreAPI
import StoreProto

/// `thanos.Targets/Targets` over Prometheus' `/api/v1/targets` (Thanos `pkg/targets/prometheus.go`):
/// the state is forwarded (`active`, `dropped`), and everything comes in exactly one message.
public struct TargetsService: Thanos_Targets.SimpleServiceProtocol {
    let upstream: PrometheusUpstream

    public init(upstream: PrometheusUpstream) { self.upstream = upstream }

    public func targets(
        request: Thanos_TargetsRequest, response: RPCWriter<Thanos_TargetsResponse>, context: ServerContext
    ) async throws {
        // Go's `strings.ToLower(r.State.String())`: an unknown number is sent as its digits.
        let wanted: String? =
            switch request.state {
            case .any: nil
            case .active: "active"
            case .dropped: "dropped"
            case .UNRECOGNIZED(let number): "\(number)"
            }
        let targets = try await upstream.call(context) { client, timeout async throws(PrometheusAPIError) in
            try await client.targets(state: wanted, timeout: timeout)
        }
        let external = upstream.external
        try await response.write(.with { $0.targets = ThanosMessages.targets(targets, external: external) })
    }
}
