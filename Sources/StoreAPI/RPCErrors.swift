import GRPCCore
import GRPCRuntime
import PrometheusClient

/// Prometheus API failures and the sidecar's own states, through `RPCFailure`'s one table.
public enum RPCErrors {
    public static func from(_ error: PrometheusAPIError) -> RPCError {
        let status: Int? =
            switch error.kind {
            case .status(let code), .failed(let code): code
            case .transport, .decoding: nil
            }
        return RPCFailure.prometheusAPI(status: status, error.message).rpcError
    }

    static let notReady = RPCFailure.notReady("Not ready: Prometheus' external labels are not known yet").rpcError
}
