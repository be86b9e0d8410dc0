import GRPCCore
import GRPCRuntime
import Testing

/// The one table from a failure's cause to its gRPC status: Thanos' codes, case by case.
@Suite struct RPCFailureTests {
    @Test(arguments: [
        (RPCFailure.badRequest("no matchers"), RPCError.Code.invalidArgument),
        (.prometheusAPI(status: 400, "bad query"), .invalidArgument),
        (.prometheusAPI(status: 404, "no such endpoint"), .notFound),
        (.prometheusAPI(status: 503, "shutting down"), .unavailable),
        (.prometheusAPI(status: 422, "execution"), .internalError),
        (.prometheusAPI(status: 500, "boom"), .internalError),
        (.prometheusAPI(status: nil, "connection refused"), .internalError),
        (.remoteRead("frame 3: bad checksum"), .unknown),
        (.notReady("Not ready"), .unavailable),
        (.unknownService("thanos.Nope"), .notFound),
        (.cancelled, .cancelled),
        (.invariant("series out of order"), .internalError),
    ])
    func eachCauseHasThanosCode(failure: RPCFailure, code: RPCError.Code) {
        #expect(failure.rpcError.code == code)
    }

    @Test func messagesAreKept() {
        #expect(
            RPCFailure.badRequest("label name parameter cannot be empty").rpcError.message
                == "label name parameter cannot be empty")
        #expect(RPCFailure.unknownService("x").rpcError.message == "unknown service \"x\"")
    }
}
