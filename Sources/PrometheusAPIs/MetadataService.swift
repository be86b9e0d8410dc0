import GRPCCore
import PrometheusClient
import StoreProto

/// `thanos.Metadata/MetricMetadata` over Prometheus' `/api/v1/metadata` (Thanos
/// `pkg/metadata/prometheus.go`): `metric` when set, `limit` when >= 0 (the Querier's default
/// -1 sends none; 0 is forwarded and Prometheus answers nothing). No external labels are
/// involved. The whole map comes in one message.
public struct MetadataService: Thanos_Metadata.SimpleServiceProtocol {
    let upstream: PrometheusUpstream

    public init(upstream: PrometheusUpstream) { self.upstream = upstream }

    public func metricMetadata(
        request: Thanos_MetricMetadataRequest, response: RPCWriter<Thanos_MetricMetadataResponse>,
        context: ServerContext
    ) async throws {
        let metadata = try await upstream.call(context) { client, timeout async throws(PrometheusAPIError) in
            try await client.metricMetadata(metric: request.metric, limit: Int(request.limit), timeout: timeout)
        }
        try await response.write(.with { $0.metadata = ThanosMessages.metadata(metadata) })
    }
}
