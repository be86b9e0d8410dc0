import GRPCCore
import SkiffCore
import StoreLogic
import StoreProto

/// `thanos.info.Info`: how a current Thanos Querier discovers the sidecar and what it serves, as
/// Thanos' sidecar answers at HEAD: the Store API (sharding and without_replica_labels supported,
/// one TSDB info carrying the external labels), Rules, Metric Metadata, Targets, Exemplars (with
/// min and max time 0, Thanos' default) and Status. A Querier treats each non-null section as an
/// API to call.
public struct InfoService: Thanos_Info_Info.SimpleServiceProtocol {
    let state: StoreState

    public init(state: StoreState) { self.state = state }

    public func info(request: Thanos_Info_InfoRequest, context: ServerContext) async throws -> Thanos_Info_InfoResponse {
        // Thanos fails the whole call with a plain `errors.New("Not ready")`, which grpc-go sends as
        // Unknown, until its HTTP probe is ready (the external labels are known).
        guard let external = state.externalLabels() else { throw RPCError(code: .unknown, message: "Not ready") }
        let labels = ProtoConversions.thanosLabels(external)
        var response = Thanos_Info_InfoResponse()
        response.componentType = "sidecar"
        var store = Thanos_Info_StoreInfo()
        store.minTime = state.minTimeMillis()
        store.maxTime = Int64.max
        store.supportsSharding = true
        store.supportsWithoutReplicaLabels = true
        // `PrometheusStore.TSDBInfos`: none without external labels (an empty list).
        if !external.isEmpty {
            var set = Thanos_ZLabelSet()
            set.labels = labels
            response.labelSets = [set]
            var tsdb = Thanos_Info_TSDBInfo()
            tsdb.labels = set
            tsdb.minTime = store.minTime
            tsdb.maxTime = store.maxTime
            store.tsdbInfos = [tsdb]
        }
        response.store = store
        response.rules = Thanos_Info_RulesInfo()
        response.metricMetadata = Thanos_Info_MetricMetadataInfo()
        response.targets = Thanos_Info_TargetsInfo()
        response.exemplars = Thanos_Info_ExemplarsInfo()
        response.status = Thanos_Info_StatusInfo()
        return response
    }
}
