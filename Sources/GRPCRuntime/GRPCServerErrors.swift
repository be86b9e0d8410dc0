/// The gRPC server failed, for instance because its port was taken; `description` names the address.
public struct GRPCServerFailure: Error, CustomStringConvertible {
    public let address: GRPCListenAddress
    public let underlying: any Error

    public var description: String { "gRPC server on \(address): \(underlying)" }
}

/// `GRPCServerService.boundAddress()` was asked about a server that stopped without listening.
public struct GRPCServerNotListeningError: Error, CustomStringConvertible {
    public var description: String { "the gRPC server stopped without listening" }
}
