import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Closes a TLS connection whose handshake settled on a version below TLS 1.3.
///
/// Thanos' gRPC server requires TLS 1.3. grpc-swift-nio-transport 2.9.2 hard-codes a TLS 1.2 minimum
/// in the `NIOSSLContext` it builds and exposes no setting for it, so the check happens one step
/// later: this handler sits right behind the `NIOSSLHandler` and, when the handshake completes,
/// either steps out of the pipeline (TLS 1.3) or closes the connection before any request is read.
/// An old client sees its connection closed instead of a protocol_version alert.
final class MinimumTLSVersionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    /// Adds the handler behind the channel's TLS handler; for the transport's per-connection hook.
    static func install(on channel: any Channel, logger: Logger) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let operations = channel.pipeline.syncOperations
            let tls = try operations.handler(type: NIOSSLHandler.self)
            try operations.addHandler(MinimumTLSVersionHandler(logger: logger), position: .after(tls))
        }
    }

    /// Drops the data. Decrypted bytes only exist once the handshake is done, and an accepted
    /// connection has removed this handler by then, so they belong to a connection being closed.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .handshakeCompleted? = event as? TLSUserEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let version = try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self).tlsVersion
        if version == .tlsv13 {
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } else {
            logger.warning(
                "closing gRPC connection: TLS 1.3 is required",
                metadata: [
                    "peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")",
                    "negotiated": "\(version.map { "\($0)" } ?? "unknown")",
                ])
            context.close(promise: nil)
        }
    }
}
