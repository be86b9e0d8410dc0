import GRPCCore
import PrometheusClient

/// Prometheus API failures as gRPC statuses, by Thanos' table (`get2xxResultWithGRPCErrors`):
/// 400 InvalidArgument, 404 NotFound, 503 Unavailable, everything else (422, 500, no answer,
/// bad JSON, a 2xx "error" envelope) Internal.
enum RPCErrors {
    static func from(_ error: PrometheusAPIError) -> RPCError {
        let code: RPCError.Code
        switch error.kind {
        case .status(400), .failed(400): code = .invalidArgument
        case .status(404), .failed(404): code = .notFound
        case .status(503), .failed(503): code = .unavailable
        case .status, .failed, .transport, .decoding: code = .internalError
        }
        return RPCError(code: code, message: error.message)
    }

    static let notReady = RPCError(code: .unavailable, message: "Not ready: Prometheus' external labels are not known yet")
}
