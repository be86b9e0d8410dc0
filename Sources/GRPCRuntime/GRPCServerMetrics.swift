import CoreMetrics
import Dispatch
import GRPCCore

/// go-grpc-prometheus' server metrics, which Thanos' dashboards chart for every component:
/// `grpc_server_started_total`, `grpc_server_handled_total` (by `grpc_code`, named as grpc-go
/// names codes) and `grpc_server_handling_seconds`, each by `grpc_service`, `grpc_method` and
/// `grpc_type` (unary, server_stream, ...). A streaming call counts as handled when its last
/// message is written, not when the handler returns its response head.
public struct GRPCServerMetrics: ServerInterceptor {
    public init() {}

    public static let handlingMetric = "grpc_server_handling_seconds"
    /// Thanos' buckets for `grpc_server_handling_seconds` (pkg/server/grpc); register them with
    /// the metrics backend, as swift-metrics carries none.
    public static let handlingBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(10), .milliseconds(100), .milliseconds(300), .milliseconds(600), .seconds(1),
        .seconds(3), .seconds(6), .seconds(9), .seconds(20), .seconds(30), .seconds(60), .seconds(90), .seconds(120),
    ]

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let dimensions = Self.dimensions(context.descriptor)
        Counter(label: "grpc_server_started_total", dimensions: dimensions).increment()
        let started = DispatchTime.now().uptimeNanoseconds
        let finish: @Sendable (RPCError.Code?) -> Void = { code in
            Counter(label: "grpc_server_handled_total", dimensions: dimensions + [("grpc_code", Self.name(code))]).increment()
            Timer(label: Self.handlingMetric, dimensions: dimensions)
                .recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
        }
        return try await observingCompletion(request: request, context: context, next: next, finish: finish)
    }

    static func dimensions(_ method: MethodDescriptor) -> [(String, String)] {
        let type: String
        switch method.type {
        case .serverStreaming: type = "server_stream"
        case .clientStreaming: type = "client_stream"
        case .bidirectionalStreaming: type = "bidi_stream"
        case .unary, nil: type = "unary"
        }
        return [("grpc_service", method.service.fullyQualifiedService), ("grpc_method", method.method), ("grpc_type", type)]
    }

    static func code(of error: any Error) -> RPCError.Code {
        if let error = error as? RPCError { return error.code }
        if error is CancellationError { return .cancelled }
        return .unknown
    }

    /// grpc-go's names for status codes (nil: OK).
    static func name(_ code: RPCError.Code?) -> String {
        guard let code else { return "OK" }
        switch code {
        case .cancelled: return "Canceled"
        case .unknown: return "Unknown"
        case .invalidArgument: return "InvalidArgument"
        case .deadlineExceeded: return "DeadlineExceeded"
        case .notFound: return "NotFound"
        case .alreadyExists: return "AlreadyExists"
        case .permissionDenied: return "PermissionDenied"
        case .resourceExhausted: return "ResourceExhausted"
        case .failedPrecondition: return "FailedPrecondition"
        case .aborted: return "Aborted"
        case .outOfRange: return "OutOfRange"
        case .unimplemented: return "Unimplemented"
        case .internalError: return "Internal"
        case .unavailable: return "Unavailable"
        case .dataLoss: return "DataLoss"
        case .unauthenticated: return "Unauthenticated"
        default: return "\(code)"
        }
    }
}
