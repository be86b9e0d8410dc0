import GRPCCore
import PrometheusClient
import SkiffCore
import StoreAPI
import StoreProto

/// `thanos.Rules/Rules` over Prometheus' `/api/v1/rules` (Thanos `pkg/rules/prometheus.go`):
/// the type is forwarded (`alert`, `record`); matchers, names, groups, files and the partial
/// response strategy are not (the Querier filters). One message per rule group.
public struct RulesService: Thanos_Rules.SimpleServiceProtocol {
    let upstream: PrometheusUpstream

    public init(upstream: PrometheusUpstream) { self.upstream = upstream }

    public func rules(
        request: Thanos_RulesRequest, response: RPCWriter<Thanos_RulesResponse>, context: ServerContext
    ) async throws {
        // Go's `strings.ToLower(r.Type.String())`; an unknown number is its digits, which
        // Prometheus refuses (400, InvalidArgument).
        let type: String? =
            switch request.type {
            case .all: nil
            case .alert: "alert"
            case .record: "record"
            case .UNRECOGNIZED(let number): "\(number)"
            }
        let groups = try await upstream.call(context) { client, timeout async throws(PrometheusAPIError) in
            try await client.rules(type: type, timeout: timeout)
        }
        let external = upstream.external
        for group in groups {
            try await response.write(.with { $0.group = ThanosMessages.group(group, external: external) })
        }
    }
}
