import Foundation

/// Certificates made with the `openssl` CLI for the TLS tests, once per test run:
/// a CA with a server certificate (127.0.0.1 and localhost) and a client certificate, plus a
/// second, untrusted CA with its own client certificate.
public struct TestPKI: Sendable {
    public let directory: String

    public var caCertificate: String { directory + "/ca.pem" }
    public var serverCertificate: String { directory + "/server.pem" }
    public var serverKey: String { directory + "/server.key" }
    public var clientCertificate: String { directory + "/client.pem" }
    public var clientKey: String { directory + "/client.key" }
    public var rogueClientCertificate: String { directory + "/rogue-client.pem" }
    public var rogueClientKey: String { directory + "/rogue-client.key" }

    /// Made on first use (openssl runs off the cooperative pool); later callers wait for it.
    public static func shared() async throws -> TestPKI { try await made.value() }

    private static let made = MadeOnce { try await TestPKI.generate() }

    struct OpenSSLFailed: Error, CustomStringConvertible {
        let arguments: [String]
        let output: String
        var description: String { "openssl \(arguments.joined(separator: " ")) failed: \(output)" }
    }

    private static func generate() async throws -> TestPKI {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-grpc-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = TestPKI(directory: directory.path)
        try await pki.makeCA("ca", name: "Skiff test CA")
        try await pki.makeLeaf(
            "server", signedBy: "ca", name: "localhost",
            extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        try await pki.makeLeaf("client", signedBy: "ca", name: "skiff test client", extensions: "extendedKeyUsage=clientAuth\n")
        try await pki.makeCA("rogue-ca", name: "Untrusted test CA")
        try await pki.makeLeaf(
            "rogue-client", signedBy: "rogue-ca", name: "rogue client", extensions: "extendedKeyUsage=clientAuth\n")
        return pki
    }

    /// EC P-256 keys: much faster to make than RSA, and every TLS stack here speaks them.
    private static let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    private func makeCA(_ base: String, name: String) async throws {
        try await openssl(
            ["req", "-x509"] + Self.newKey + [
                "-keyout", "\(base).key", "-out", "\(base).pem", "-days", "2", "-subj", "/CN=\(name)",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
    }

    private func makeLeaf(_ base: String, signedBy ca: String, name: String, extensions: String) async throws {
        try Data(extensions.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(base).ext"))
        try await openssl(["req"] + Self.newKey + ["-keyout", "\(base).key", "-out", "\(base).csr", "-subj", "/CN=\(name)"])
        try await openssl([
            "x509", "-req", "-in", "\(base).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial",
            "-out", "\(base).pem", "-days", "2", "-extfile", "\(base).ext",
        ])
    }

    private func openssl(_ arguments: [String]) async throws {
        let result = try await ExternalProgram.openssl.run(arguments, currentDirectory: directory)
        guard result.succeeded else { throw OpenSSLFailed(arguments: arguments, output: result.stderr + result.stdout) }
    }
}
