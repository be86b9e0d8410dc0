import GRPCNIOTransportHTTP2
import NIOCore
import NIOPosix
import NIOSSL

/// Binds the gRPC server's socket and puts Skiff's own TLS handler in front of each connection.
///
/// grpc-swift-nio-transport's Posix transport builds its `NIOSSLContext` itself, with TLS 1.2 as
/// the fixed minimum and BoringSSL's default suites and groups, and offers no setting for any of
/// them. Its `Custom` transport takes a listener instead, and this is that listener: the same
/// bootstrap as the Posix one (SO_REUSEADDR, the transport's listener and connection
/// configurators), with the context made by `GRPCServerTLS` from Thanos' flags. So the minimum
/// version, suites and groups are enforced by BoringSSL during the handshake, as Go enforces them.
struct GRPCListener: HTTP2ServerTransport.ListenerFactory {
    let address: NIOCore.SocketAddress
    let tls: GRPCServerTLS?

    var eventLoopGroup: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    func makeListeningChannel(
        listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
        connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
    ) async throws -> NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never> {
        let sslContext = tls?.sslContext
        return try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in listenerConfigurator.configure(channel: channel) }
            .bind(to: address) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                }.flatMap {
                    // ALPN is not required, as in the Posix transport's default.
                    connectionConfigurator.configure(
                        channel: channel, tls: sslContext == nil ? .none : .configured(requireALPN: false))
                }
            }
    }
}
