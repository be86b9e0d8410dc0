import GRPCCore

/// Runs `next` and calls `finish` once the call is over: with nil when it succeeded, else with
/// the status code it failed with. A streaming call is over when its last message is written,
/// not when the handler returns its response head. The interceptors that measure or log whole
/// calls share this.
func observingCompletion<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>, context: ServerContext,
    next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>,
    finish: @escaping @Sendable (RPCError.Code?) -> Void
) async throws -> StreamingServerResponse<Output> {
    var response: StreamingServerResponse<Output>
    do {
        response = try await next(request, context)
    } catch {
        finish(GRPCServerMetrics.code(of: error))
        throw error
    }
    switch response.accepted {
    case .failure(let error):
        finish(error.code)
    case .success(var contents):
        let producer = contents.producer
        contents.producer = { writer in
            do {
                let trailers = try await producer(writer)
                finish(nil)
                return trailers
            } catch {
                finish(GRPCServerMetrics.code(of: error))
                throw error
            }
        }
        response.accepted = .success(contents)
    }
    return response
}
