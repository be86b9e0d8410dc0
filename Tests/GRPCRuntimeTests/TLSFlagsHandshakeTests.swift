import GRPCRuntime
import NIOSSL
import TestSupport
import Testing

/// Real handshakes against a started server for each of `--grpc-server-tls-min-version`,
/// `--grpc-server-tls-ciphers` and `--grpc-server-tls-curves`: a NIOSSL client pinned to one
/// version, suite or group, and `openssl s_client` as a second, independent TLS stack.
@Suite("--grpc-server-tls-min-version, -ciphers and -curves in real handshakes", .needs(.openssl))
struct TLSFlagsHandshakeTests {
    @Test("min 1.2 serves TLS 1.2 and 1.3 clients and refuses TLS 1.1")
    func minimum12() async throws {
        let pki = try await TestPKI.shared()
        try await withServer(pki, minVersion: "1.2") { port async throws in
            #expect(try await TLSProbe.served(port: port, pki: pki, TLSProbe.only(.tlsv12)))
            #expect(try await TLSProbe.served(port: port, pki: pki, TLSProbe.only(.tlsv13)))
            #expect(try await !TLSProbe.served(port: port, pki: pki, TLSProbe.only(.tlsv11)))
            #expect(try await openssl(port, pki, ["-tls1_2"]))
        }
    }

    @Test("min 1.0 and 1.1 are served for real: BoringSSL still negotiates them")
    func legacyVersions() async throws {
        let pki = try await TestPKI.shared()
        try await withServer(pki, minVersion: "1.0") { port async throws in
            #expect(try await TLSProbe.served(port: port, pki: pki, TLSProbe.only(.tlsv1)))
            #expect(try await TLSProbe.served(port: port, pki: pki, TLSProbe.only(.tlsv11)))
        }
        try await withServer(pki, minVersion: "1.1") { port async throws in
            #expect(try await !TLSProbe.served(port: port, pki: pki, TLSProbe.only(.tlsv1)))
            #expect(try await TLSProbe.served(port: port, pki: pki, TLSProbe.only(.tlsv11)))
        }
    }

    @Test("a TLS 1.2 client offering only a suite off the list is refused; one on it is served")
    func cipherSuites() async throws {
        let pki = try await TestPKI.shared()
        // One occurrence holding two names, as prometheus-operator writes it.
        let ciphers = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"]
        try await withServer(pki, minVersion: "1.2", ciphers: ciphers) { port async throws in
            #expect(try await TLSProbe.served(port: port, pki: pki, suite(.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)))
            #expect(
                try await TLSProbe.served(port: port, pki: pki, suite(.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)))
            #expect(try await !TLSProbe.served(port: port, pki: pki, suite(.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)))
            // The list is for TLS 1.2 and older only; TLS 1.3 keeps its own suites, as in Go.
            #expect(try await TLSProbe.served(port: port, pki: pki, TLSProbe.only(.tlsv13)))
            #expect(try await openssl(port, pki, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]))
            #expect(try await !openssl(port, pki, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"]))
        }
    }

    @Test("naming only TLS 1.3 suites leaves TLS 1.2 clients nothing to agree on, as in Go")
    func onlyTLS13Suites() async throws {
        let pki = try await TestPKI.shared()
        try await withServer(pki, minVersion: "1.2", ciphers: ["TLS_AES_128_GCM_SHA256"]) { port async throws in
            #expect(try await !TLSProbe.served(port: port, pki: pki, TLSProbe.only(.tlsv12)))
            #expect(try await TLSProbe.served(port: port, pki: pki, TLSProbe.only(.tlsv13)))
        }
    }

    @Test("only the listed groups are used for key exchange, in TLS 1.3 and 1.2")
    func curves() async throws {
        let pki = try await TestPKI.shared()
        try await withServer(pki, minVersion: "1.2", curves: ["CurveP384", "X25519"]) { port async throws in
            #expect(try await TLSProbe.served(port: port, pki: pki, group([.secp384r1], .tlsv13)))
            #expect(try await !TLSProbe.served(port: port, pki: pki, group([.secp256r1], .tlsv13)))
            // In TLS 1.2 BoringSSL also wants the client to list the curve of the server's ECDSA
            // key (P-256 here), so this client offers P-256 too; the key exchange can only be X25519.
            #expect(try await TLSProbe.served(port: port, pki: pki, group([.x25519, .secp256r1], .tlsv12)))
            #expect(try await !TLSProbe.served(port: port, pki: pki, group([.secp256r1], .tlsv12)))
            #expect(try await openssl(port, pki, ["-groups", "P-384"]))
            #expect(try await !openssl(port, pki, ["-groups", "P-256"]))
        }
    }

    @Test("X25519MLKEM768, Go's post-quantum hybrid, is offered when named")
    func postQuantum() async throws {
        let pki = try await TestPKI.shared()
        try await withServer(pki, curves: ["X25519MLKEM768"]) { port async throws in
            #expect(try await TLSProbe.served(port: port, pki: pki, group([.x25519_MLKEM768], .tlsv13)))
            #expect(try await !TLSProbe.served(port: port, pki: pki, group([.x25519], .tlsv13)))
        }
    }

    private func withServer(
        _ pki: TestPKI, minVersion: String = "1.3", ciphers: [String] = [], curves: [String] = [],
        _ body: (Int) async throws -> Void
    ) async throws {
        let tls = try #require(
            try GRPCServerTLS.fromFlags(
                certificate: pki.serverCertificate, key: pki.serverKey, clientCA: "", minVersion: minVersion,
                ciphers: ciphers, curves: curves))
        try await RunningGRPCServer.with(tls: tls) { server async throws in try await body(server.port) }
    }

    /// A TLS 1.2 client offering only `cipher`.
    private func suite(_ cipher: NIOTLSCipher) -> (inout TLSConfiguration) -> Void {
        { configuration in
            TLSProbe.only(.tlsv12)(&configuration)
            configuration.cipherSuiteValues = [cipher]
        }
    }

    /// A client of `version` offering only the key exchange groups `curves`.
    private func group(_ curves: [NIOTLSCurve], _ version: TLSVersion) -> (inout TLSConfiguration) -> Void {
        { configuration in
            TLSProbe.only(version)(&configuration)
            configuration.curves = curves
        }
    }

    /// Whether `openssl s_client` with `options` completes a verified handshake with the server.
    private func openssl(_ port: Int, _ pki: TestPKI, _ options: [String]) async throws -> Bool {
        let result = try await ExternalProgram.openssl.run(
            [
                "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-CAfile", pki.caCertificate,
                "-verify_return_error", "-alpn", "h2", "-brief",
            ] + options)
        return result.succeeded
    }
}
