import Foundation
import GRPCRuntime
import Logging
import PrometheusAPIs
import PrometheusClient
import QueryAPI
import RequestLogging
import StoreAPI
import StoreLogic

/// The sidecar's gRPC server: Thanos' Store and Info services over Prometheus, plus health. It
/// starts listening only once Prometheus' external labels are known (as Thanos does since
/// v0.36), without holding up the HTTP server or the shipper, which run as their own services.
enum StoreAPIServer {
    static func make(
        address: GRPCListenAddress, tls: GRPCServerTLS?, gracePeriod: Duration, client: PrometheusClient,
        state: SidecarState, minTimeFlagMillis: Int64, limits: SeriesLimits, requestLog: RequestLogPolicy?,
        maxConnectionAge: Duration?, prometheusTimeout: Duration, logger: Logger
    ) -> GRPCServerService {
        let storeState = StoreState(
            externalLabels: { state.labels },
            // Thanos: max(--min-time, Prometheus' lowest timestamp); MinInt64 for an empty TSDB.
            minTimeMillis: { max(minTimeFlagMillis, state.lowestTimestampMillis ?? minTimeFlagMillis) })
        let forceSamples = ProcessInfo.processInfo.environment["SKIFF_REMOTE_READ_RESPONSE"] == "samples"
        let health = HealthService()
        let upstream = PrometheusUpstream(client: client, state: storeState)
        return GRPCServerService(
            address: address, tls: tls,
            services: [
                PrometheusStore(
                    client: client, state: storeState, logger: logger, forceSamples: forceSamples, limits: limits),
                InfoService(state: storeState),
                RulesService(upstream: upstream), TargetsService(upstream: upstream), MetadataService(upstream: upstream),
                ExemplarsService(upstream: upstream), StatusService(upstream: upstream, timeout: prometheusTimeout),
                QueryGRPCService(service: queryService(client: client, state: state, grpcAddress: address)),
            ],
            interceptors: [GRPCServerMetrics()] + (requestLog.map { [GRPCRequestLogger(policy: $0, logger: logger)] } ?? []),
            health: health, gracePeriod: gracePeriod, maxConnectionAge: maxConnectionAge, logger: logger,
            waitUntilReady: {
                if state.labels == nil {
                    logger.info("gRPC server waits for Prometheus' external labels before listening")
                }
                _ = try await state.labelsKnown()
                health.setServing(true)
            })
    }

    /// The query API's core over this Prometheus, for the gRPC `thanos.Query` service and the
    /// HTTP `/api/v1/query(_range)` routes; `storeMatch[]`'s `__address__` is the gRPC address.
    static func queryService(client: PrometheusClient, state: SidecarState, grpcAddress: GRPCListenAddress) -> QueryService {
        QueryService(
            client: client, externalLabels: { state.labels },
            configuration: QueryAPIConfiguration(storeAddress: grpcAddress.description))
    }
}
