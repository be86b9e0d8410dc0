import GRPCCore

/// grpc-swift tells a handler that its client cancelled the call (a querier's timeout, a closed
/// connection) only through `ServerContext.cancellation`; the handler's task itself runs on.
/// Work run through here is cancelled then, so a remote read or an API call to Prometheus stops
/// at once instead of running to its end for nobody.
public enum RPCCancellation {
    public static func cancellingWork<Result: Sendable>(
        when context: ServerContext, _ work: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await context.cancellation.cancelled  // returns when the RPC is cancelled, throws when this task is
                throw RPCFailure.cancelled.rpcError
            }
            defer { group.cancelAll() }
            // The work's result, or the first error: a cancelled RPC's (which cancels the work) or the work's own.
            while let finished = try await group.next() {
                if let result = finished { return result }
            }
            preconditionFailure("the work child always yields a value or throws")
        }
    }
}
