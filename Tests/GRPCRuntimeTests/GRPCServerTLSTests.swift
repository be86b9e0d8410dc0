import Foundation
import GRPCRuntime
import TestSupport
import Testing

@Suite("--grpc-server-tls-* flags", .needs(.openssl))
struct GRPCServerTLSTests {
    @Test("no cert and no key means plaintext")
    func plaintext() throws {
        #expect(try GRPCServerTLS.fromFlags(certificate: "", key: "", clientCA: "") == nil)
    }

    @Test("cert and key enable TLS; a client CA makes it mutual")
    func enabled() async throws {
        let pki = try await TestPKI.shared()
        let tls = try #require(
            try GRPCServerTLS.fromFlags(certificate: pki.serverCertificate, key: pki.serverKey, clientCA: ""))
        #expect(tls.clientCAPath == nil)
        let mutual = try #require(
            try GRPCServerTLS.fromFlags(
                certificate: pki.serverCertificate, key: pki.serverKey, clientCA: pki.caCertificate))
        #expect(mutual.clientCAPath == pki.caCertificate)
    }

    @Test("half a key pair, or a client CA alone, is an error naming the flags")
    func incomplete() async throws {
        let pki = try await TestPKI.shared()
        expectError(containing: ["--grpc-server-tls-key", "both"]) {
            _ = try GRPCServerTLS.fromFlags(certificate: pki.serverCertificate, key: "", clientCA: "")
        }
        expectError(containing: ["--grpc-server-tls-cert", "both"]) {
            _ = try GRPCServerTLS.fromFlags(certificate: "", key: pki.serverKey, clientCA: "")
        }
        expectError(containing: ["--grpc-server-tls-client-ca"]) {
            _ = try GRPCServerTLS.fromFlags(certificate: "", key: "", clientCA: pki.caCertificate)
        }
    }

    @Test("--grpc-server-tls-min-version: Thanos' enum, refused with Thanos' message even without TLS")
    func minVersion() async throws {
        let pki = try await TestPKI.shared()
        for version in GRPCServerTLSVersion.allCases {
            let tls = try #require(
                try withTLS(pki, minVersion: version.rawValue))
            #expect(tls.minimumVersion == version)
        }
        let byDefault = try #require(try withTLS(pki))
        #expect(byDefault.minimumVersion == .tls13)
        let message =
            "--grpc-server-tls-min-version: invalid TLS version: 1.4, valid values are 1.0, 1.1, 1.2, 1.3"
        for certificate in [pki.serverCertificate, ""] {
            expectError(exactly: message) {
                _ = try GRPCServerTLS.fromFlags(
                    certificate: certificate, key: certificate.isEmpty ? "" : pki.serverKey, clientCA: "",
                    minVersion: "1.4")
            }
        }
    }

    @Test("--grpc-server-tls-ciphers: Go's names, repeated or comma-joined, in order, TLS 1.3 ones ignored")
    func ciphers() async throws {
        let pki = try await TestPKI.shared()
        let tls = try #require(
            try withTLS(
                pki,
                ciphers: [
                    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256",
                    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                ]))
        #expect(tls.cipherSuites == [.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA])
        let byDefault = try #require(try withTLS(pki))
        #expect(byDefault.cipherSuites.count == 10)
        #expect(!byDefault.cipherSuites.contains(.TLS_RSA_WITH_AES_128_GCM_SHA256))

        // Thanos' message, listing tls.CipherSuites() sorted.
        let message =
            "--grpc-server-tls-ciphers: invalid cipher suite: TLS_RSA_WITH_AES_128_GCM_SHA256, valid values are "
            + "TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, "
            + "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "
            + "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "
            + "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "
            + "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "
            + "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
        expectError(exactly: message) {
            _ = try withTLS(pki, ciphers: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_GCM_SHA256"])
        }
        expectError(containing: ["--grpc-server-tls-ciphers", "invalid cipher suite: ,"]) {
            _ = try withTLS(pki, ciphers: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"])
        }
    }

    @Test("--grpc-server-tls-curves: Go's names; the NIST ML-KEM hybrids, which BoringSSL lacks, are refused")
    func curves() async throws {
        let pki = try await TestPKI.shared()
        let tls = try #require(
            try withTLS(pki, curves: ["X25519MLKEM768,CurveP521", "CurveP256", "CurveP521", "CurveP384,X25519"]))
        #expect(tls.curves == [.x25519_MLKEM768, .secp521r1, .secp256r1, .secp384r1, .x25519])

        expectError(
            exactly: "--grpc-server-tls-curves: invalid curve: P256, valid values are CurveP256, CurveP384, "
                + "CurveP521, SecP256r1MLKEM768, SecP384r1MLKEM1024, X25519, X25519MLKEM768"
        ) {
            _ = try withTLS(pki, curves: ["P256"])
        }
        for name in ["SecP256r1MLKEM768", "SecP384r1MLKEM1024"] {
            expectError(containing: ["--grpc-server-tls-curves", name, "BoringSSL", "CurveP256, CurveP384"]) {
                _ = try withTLS(pki, curves: ["X25519", name])
            }
        }
    }

    @Test("without TLS, cipher and curve names are not read, as in Thanos")
    func namesWithoutTLS() throws {
        #expect(try GRPCServerTLS.fromFlags(certificate: "", key: "", clientCA: "", ciphers: ["nope"], curves: ["nope"]) == nil)
    }

    @Test("an unreadable file is named with the reason")
    func unreadable() async throws {
        let pki = try await TestPKI.shared()
        let missing = pki.directory + "/no-such.pem"
        expectError(containing: ["server certificate", missing, "No such file or directory"]) {
            _ = try GRPCServerTLS(certificatePath: missing, keyPath: pki.serverKey)
        }
        expectError(containing: ["server key", missing]) {
            _ = try GRPCServerTLS(certificatePath: pki.serverCertificate, keyPath: missing)
        }
        expectError(containing: ["server key", pki.directory, "Is a directory"]) {
            _ = try GRPCServerTLS(certificatePath: pki.serverCertificate, keyPath: pki.directory)
        }
        expectError(containing: ["client CA", missing]) {
            _ = try GRPCServerTLS(certificatePath: pki.serverCertificate, keyPath: pki.serverKey, clientCAPath: missing)
        }
    }

    @Test("files that are not what they should be are named")
    func invalid() async throws {
        let pki = try await TestPKI.shared()
        let junk = pki.directory + "/junk-\(UUID().uuidString).pem"
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: junk))
        expectError(containing: ["server certificate", junk]) {
            _ = try GRPCServerTLS(certificatePath: junk, keyPath: pki.serverKey)
        }
        expectError(containing: ["server key", junk]) {
            _ = try GRPCServerTLS(certificatePath: pki.serverCertificate, keyPath: junk)
        }
        expectError(containing: ["client CA", junk]) {
            _ = try GRPCServerTLS(certificatePath: pki.serverCertificate, keyPath: pki.serverKey, clientCAPath: junk)
        }
        // A key from another pair: both files are named.
        expectError(containing: [pki.clientKey, pki.serverCertificate, "does not fit"]) {
            _ = try GRPCServerTLS(certificatePath: pki.serverCertificate, keyPath: pki.clientKey)
        }
    }

    /// `fromFlags` with the test server's certificate and key, so TLS is on.
    private func withTLS(
        _ pki: TestPKI, minVersion: String = "1.3", ciphers: [String] = [], curves: [String] = []
    ) throws(GRPCServerTLSError) -> GRPCServerTLS? {
        try GRPCServerTLS.fromFlags(
            certificate: pki.serverCertificate, key: pki.serverKey, clientCA: "", minVersion: minVersion, ciphers: ciphers,
            curves: curves)
    }

    private func expectError(
        exactly message: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("no error; expected \"\(message)\"", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)" == message, sourceLocation: sourceLocation)
        }
    }

    private func expectError(
        containing parts: [String], sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("no error; expected one mentioning \(parts)", sourceLocation: sourceLocation)
        } catch {
            let text = "\(error)"
            for part in parts where !text.contains(part) {
                Issue.record("error \"\(text)\" does not mention \"\(part)\"", sourceLocation: sourceLocation)
            }
        }
    }
}
