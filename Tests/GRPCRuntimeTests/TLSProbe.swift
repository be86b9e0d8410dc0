import NIOCore
import NIOPosix
import NIOSSL
import TestSupport

/// A TLS client with exactly the versions, suites and groups a test gives it, speaking just enough
/// HTTP/2 to tell whether the gRPC server behind the handshake serves it.
enum TLSProbe {
    /// Connects, sends the HTTP/2 client preface and an empty SETTINGS frame, and returns what came
    /// back before the server closed or sent its first bytes: a serving gRPC server answers with a
    /// SETTINGS frame; a refused handshake (or a closed connection) gives an empty answer.
    static func exchange(
        port: Int, pki: TestPKI, _ configure: (inout TLSConfiguration) -> Void
    ) async throws -> [UInt8] {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(pki.caCertificate)
        configuration.applicationProtocols = ["h2"]
        configure(&configuration)
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await withTimeout(.seconds(10), "TLS exchange") {
            try await channel.executeThenClose { inbound, outbound in
                var hello = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                hello.writeBytes([0, 0, 0, 0x04, 0, 0, 0, 0, 0])  // SETTINGS, no payload, stream 0
                try? await outbound.write(hello)  // fails when the handshake was refused
                do {
                    for try await buffer in inbound { return Array(buffer.readableBytesView) }
                } catch {
                    // A handshake alert or an unclean close: not served.
                }
                return []
            }
        }
    }

    /// Whether the server completed the handshake and answered with HTTP/2 SETTINGS.
    static func served(port: Int, pki: TestPKI, _ configure: (inout TLSConfiguration) -> Void) async throws -> Bool {
        let answer = try await exchange(port: port, pki: pki, configure)
        return answer.count >= 9 && answer[3] == 0x04
    }

    /// A client that speaks only `version`.
    static func only(_ version: TLSVersion) -> (inout TLSConfiguration) -> Void {
        { configuration in
            configuration.minimumTLSVersion = version
            configuration.maximumTLSVersion = version
        }
    }
}
