import GRPCCore
import SkiffCore
import StoreLogic
import StoreProto

/// `thanos.info.Info`: how a current Thanos Querier discovers the sidecar and what it serves.
/// Only the Store API is advertised (rules, targets, metadata and exemplars are not served).
public struct InfoService: Thanos_Info_Info.SimpleServiceProtocol {
    let state: StoreState

    public init(state: StoreState) { self.state = state }

    public func info(request: Thanos_Info_InfoRequest, context: ServerContext) async throws -> Thanos_Info_InfoResponse {
        guard let external = state.externalLabels() else { throw RPCErrors.notReady }
        let labels = ProtoConversions.thanosLabels(external)
        var response = Thanos_Info_InfoResponse()
        response.componentType = "sidecar"
        var store = Thanos_Info_StoreInfo()
        store.minTime = state.minTimeMillis()
        store.maxTime = Int64.max
        store.supportsWithoutReplicaLabels = true
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
        return response
    }
}
