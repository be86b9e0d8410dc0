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

    @Test("by default (--grpc-server-tls-min-version=1.3) a TLS 1.2 client is refused in the handshake")
    func minimumVersion() async throws {
        let pki = try await TestPKI.shared()
        let tls = try GRPCServerTLS(certificatePath: pki.serverCertificate, keyPath: pki.serverKey)
        try await RunningGRPCServer.with(tls: tls) { server async throws in
            #expect(try await TLSProbe.served(port: server.port, pki: pki, TLSProbe.only(.tlsv13)))
            #expect(try await !TLSProbe.served(port: server.port, pki: pki, TLSProbe.only(.tlsv12)))
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
}
