import GRPCCore
import PrometheusClient
import SkiffCore
import StoreAPI
import StoreProto

/// `thanos.Exemplars/Exemplars` over Prometheus' `/api/v1/query_exemplars` (Thanos
/// `pkg/exemplars/prometheus.go`): the query and time range as given (the Querier has already
/// rewritten the query for this store), one message per series, the series labels extended.
public struct ExemplarsService: Thanos_Exemplars.SimpleServiceProtocol {
    let upstream: PrometheusUpstream

    public init(upstream: PrometheusUpstream) { self.upstream = upstream }

    public func exemplars(
        request: Thanos_ExemplarsRequest, response: RPCWriter<Thanos_ExemplarsResponse>, context: ServerContext
    ) async throws {
        let series = try await upstream.call(context) { client, timeout async throws(PrometheusAPIError) in
            try await client.exemplars(
                query: request.query, startMillis: request.start, endMillis: request.end, timeout: timeout)
        }
        let external = upstream.external
        for one in series {
            try await response.write(.with { $0.data = ThanosMessages.exemplars(one, external: external) })
        }
    }
}
