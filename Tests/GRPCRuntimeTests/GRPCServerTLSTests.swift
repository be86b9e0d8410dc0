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
