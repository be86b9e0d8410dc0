import Dispatch
import GRPCCore
import Logging
import RequestLogging

/// `--request.logging-config` for gRPC, as Thanos logs calls through go-grpc-middleware: a
/// "started call" line (debug) when the policy asks, and a "finished call" line with the code and
/// duration, at debug or, for Unknown, Unimplemented, Internal and DataLoss, at error.
public struct GRPCRequestLogger: ServerInterceptor {
    let policy: RequestLogPolicy
    let logger: Logger

    public init(policy: RequestLogPolicy, logger: Logger) {
        self.policy = policy
        var logger = logger
        logger[metadataKey: "protocol"] = "grpc"
        logger[metadataKey: "grpc.component"] = "server"
        self.logger = logger
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let method = context.descriptor
        guard policy.logs("/\(method.service.fullyQualifiedService)/\(method.method)") else {
            return try await next(request, context)
        }
        let fields: Logger.Metadata = [
            "grpc.service": "\(method.service.fullyQualifiedService)", "grpc.method": "\(method.method)",
            "grpc.method_type": "\(GRPCServerMetrics.dimensions(method)[2].1)", "peer.address": "\(context.remotePeer)",
        ]
        if policy.logStart, policy.minimum <= .debug { logger.debug("started call", metadata: fields) }
        let started = DispatchTime.now().uptimeNanoseconds
        let (policy, logger) = (self.policy, self.logger)
        return try await observingCompletion(request: request, context: context, next: next) { code in
            let level = RequestLogPolicy.grpcLevel(code: code.map { $0.rawValue } ?? 0)
            guard level >= policy.minimum else { return }
            let millis = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
            var metadata = fields
            metadata["grpc.code"] = "\(GRPCServerMetrics.name(code))"
            metadata["grpc.time_ms"] = "\((millis * 1000).rounded() / 1000)"
            logger.log(level: level, "finished call", metadata: metadata)
        }
    }
}
