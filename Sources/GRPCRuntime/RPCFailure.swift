import GRPCCore

/// Why an RPC failed, by cause. `rpcError` is the one table from cause to gRPC status, used by
/// every service, with the codes Thanos' sidecar answers with:
///
/// | cause | code | as in Thanos |
/// |---|---|---|
/// | `badRequest` | InvalidArgument | request checks (`status.Error(codes.InvalidArgument, ...)`) |
/// | `prometheusAPI` 400 / 404 / 503 | InvalidArgument / NotFound / Unavailable | `get2xxResultWithGRPCErrors` |
/// | `prometheusAPI` otherwise (422, 500, no answer, bad JSON) | Internal | same |
/// | `remoteRead` | Unknown | a plain Go error out of the remote-read client |
/// | `notReady` | Unavailable | Info before the external labels are known |
/// | `unknownService` | NotFound | grpc-go's health server |
/// | `cancelled` | Cancelled | the client's context |
/// | `invariant` | Internal | a broken promise of Prometheus' (or a bug of ours) |
public enum RPCFailure: Error, Equatable, Sendable {
    case badRequest(String)
    /// A Prometheus HTTP API call failed; `status` is the HTTP status when there was an answer.
    case prometheusAPI(status: Int?, String)
    case remoteRead(String)
    case notReady(String)
    case unknownService(String)
    case cancelled
    case invariant(String)

    public var rpcError: RPCError {
        switch self {
        case .badRequest(let message): RPCError(code: .invalidArgument, message: message)
        case .prometheusAPI(let status, let message):
            switch status {
            case 400: RPCError(code: .invalidArgument, message: message)
            case 404: RPCError(code: .notFound, message: message)
            case 503: RPCError(code: .unavailable, message: message)
            default: RPCError(code: .internalError, message: message)
            }
        case .remoteRead(let message): RPCError(code: .unknown, message: message)
        case .notReady(let message): RPCError(code: .unavailable, message: message)
        case .unknownService(let service): RPCError(code: .notFound, message: "unknown service \"\(service)\"")
        case .cancelled: RPCError(code: .cancelled, message: "the client cancelled the call")
        case .invariant(let message): RPCError(code: .internalError, message: message)
        }
    }
}
