import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRuntime
import NIOCore
import NIOPosix
import NIOSSL
import TestSupport
import Testing

@Suite("gRPC over TLS and mutual TLS", .needs(.openssl))
struct TLSTests {
    @Test("a client that trusts the CA gets an answer; a plaintext client does not")
    func serverTLS() async throws {
        let pki = try await TestPKI.shared()
        let tls = try GRPCServerTLS(certificatePath: pki.serverCertificate, keyPath: pki.serverKey)
        try await RunningGRPCServer.with(tls: tls) { server async throws in
            #expect(try await checkHealth(port: server.port, security: trusting(pki)) == .notServing)
            await #expect(throws: RPCError.self) { try await checkHealth(port: server.port) }
        }
    }

    @Test("with a client CA, only clients holding a certificate from that CA get in")
    func mutualTLS() async throws {
        let pki = try await TestPKI.shared()
        let tls = try GRPCServerTLS(
            certificatePath: pki.serverCertificate, keyPath: pki.serverKey, clientCAPath: pki.caCertificate)
        try await RunningGRPCServer.with(tls: tls) { server async throws in
            let noCertificate = await #expect(throws: RPCError.self) {
                try await checkHealth(port: server.port, security: trusting(pki))
            }
            #expect(noCertificate?.code == .unavailable)

            let withCertificate = trusting(pki, certificate: pki.clientCertificate, key: pki.clientKey)
            #expect(try await checkHealth(port: server.port, security: withCertificate) == .notServing)

            let rogue = trusting(pki, certificate: pki.rogueClientCertificate, key: pki.rogueClientKey)
            await #expect(throws: RPCError.self) { try await checkHealth(port: server.port, security: rogue) }
        }
    }

    @Test("TLS 1.2 connections are closed after the handshake; TLS 1.3 ones are served")
    func minimumVersion() async throws {
        let pki = try await TestPKI.shared()
        let tls = try GRPCServerTLS(certificatePath: pki.serverCertificate, keyPath: pki.serverKey)
        try await RunningGRPCServer.with(tls: tls) { server async throws in
            // The same bytes both times: the HTTP/2 preface and an empty SETTINGS frame, which a
            // serving gRPC server answers with a SETTINGS frame of its own.
            let answer13 = try await rawTLSExchange(port: server.port, pki: pki, version: .tlsv13)
            #expect(answer13.count >= 9 && answer13[3] == 0x04)
            let answer12 = try await rawTLSExchange(port: server.port, pki: pki, version: .tlsv12)
            #expect(answer12.isEmpty)
        }
    }

    private func trusting(
        _ pki: TestPKI, certificate: String? = nil, key: String? = nil
    ) -> HTTP2ClientTransport.Posix.TransportSecurity {
        .tls(
            .defaults {
                $0.trustRoots = .certificates([.file(path: pki.caCertificate, format: .pem)])
                if let certificate, let key {
                    $0.certificateChain = [.file(path: certificate, format: .pem)]
                    $0.privateKey = .file(path: key, format: .pem)
                }
            })
    }

    /// Connects with TLS pinned to `version`, sends an HTTP/2 client preface and returns what came
    /// back before the server closed or sent its first bytes; empty when it closed without a word.
    private func rawTLSExchange(port: Int, pki: TestPKI, version: TLSVersion) async throws -> [UInt8] {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = version
        configuration.maximumTLSVersion = version
        configuration.trustRoots = .file(pki.caCertificate)
        configuration.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await withTimeout(.seconds(10), "raw TLS exchange") {
            try await channel.executeThenClose { inbound, outbound in
                var hello = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                hello.writeBytes([0, 0, 0, 0x04, 0, 0, 0, 0, 0])  // SETTINGS, no payload, stream 0
                try? await outbound.write(hello)  // may fail if the server has already closed
                do {
                    for try await buffer in inbound { return Array(buffer.readableBytesView) }
                } catch {
                    // An unclean TLS close counts as "closed without a word".
                }
                return []
            }
        }
    }
}
