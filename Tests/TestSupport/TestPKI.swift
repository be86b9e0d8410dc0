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

    /// Made on first use. Generation blocks a thread for a few hundred milliseconds, once.
    public static func shared() throws -> TestPKI { try made.get() }

    private static let made = Result { try TestPKI.generate() }

    struct OpenSSLFailed: Error, CustomStringConvertible {
        let arguments: [String]
        let output: String
        var description: String { "openssl \(arguments.joined(separator: " ")) failed: \(output)" }
    }

    private static func generate() throws -> TestPKI {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-grpc-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = TestPKI(directory: directory.path)
        try pki.makeCA("ca", name: "Skiff test CA")
        try pki.makeLeaf("server", signedBy: "ca", name: "localhost",
            extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        try pki.makeLeaf("client", signedBy: "ca", name: "skiff test client", extensions: "extendedKeyUsage=clientAuth\n")
        try pki.makeCA("rogue-ca", name: "Untrusted test CA")
        try pki.makeLeaf("rogue-client", signedBy: "rogue-ca", name: "rogue client", extensions: "extendedKeyUsage=clientAuth\n")
        return pki
    }

    /// EC P-256 keys: much faster to make than RSA, and every TLS stack here speaks them.
    private static let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    private func makeCA(_ base: String, name: String) throws {
        try openssl(
            ["req", "-x509"] + Self.newKey + [
                "-keyout", "\(base).key", "-out", "\(base).pem", "-days", "2", "-subj", "/CN=\(name)",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
    }

    private func makeLeaf(_ base: String, signedBy ca: String, name: String, extensions: String) throws {
        try Data(extensions.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(base).ext"))
        try openssl(["req"] + Self.newKey + ["-keyout", "\(base).key", "-out", "\(base).csr", "-subj", "/CN=\(name)"])
        try openssl([
            "x509", "-req", "-in", "\(base).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial",
            "-out", "\(base).pem", "-days", "2", "-extfile", "\(base).ext",
        ])
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = Pipe()  // a few lines at most, far below the pipe's buffer
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw OpenSSLFailed(arguments: arguments, output: text)
        }
    }
}
