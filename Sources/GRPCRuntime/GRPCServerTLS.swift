import FileIO
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the gRPC TLS flags were rejected; `description` names the flag or file at fault.
public struct GRPCServerTLSError: Error, Equatable, CustomStringConvertible {
    public let description: String
}

/// TLS for the gRPC server, from Thanos' `--grpc-server-tls-*` flags (pkg/tls `NewServerConfig`):
///
/// - cert and key both empty: plaintext (and a client CA alone is an error);
/// - only one of cert and key: an error;
/// - cert and key: TLS;
/// - plus a client CA: mutual TLS. Clients must present a certificate that chains to that CA
///   (Go's `RequireAndVerifyClientCert`; no host name check, as in Go);
/// - `--grpc-server-tls-min-version` (default 1.3), `--grpc-server-tls-ciphers` and
///   `--grpc-server-tls-curves` shape the handshake, with Go's defaults when not given.
///
/// The files are read and checked, and the TLS context built, when this value is made, so a bad
/// flag fails at startup with the file's or flag's name rather than at the first handshake. Thanos
/// re-reads changed cert and key files while running; Skiff reads them once.
public struct GRPCServerTLS: Sendable {
    public let certificatePath: String
    public let keyPath: String
    /// Set for mutual TLS.
    public let clientCAPath: String?
    public let minimumVersion: GRPCServerTLSVersion
    /// The suites offered for TLS 1.0 to 1.2, in order. As in Go, TLS 1.3's suites cannot be
    /// chosen (BoringSSL always offers its three); when the flag named only those, this is empty
    /// and TLS 1.2 and older cannot be negotiated at all, which is what Go does with such a list.
    public let cipherSuites: [NIOTLSCipher]
    /// The key exchange groups offered, in order of preference (TLS 1.2 and 1.3 alike); never empty
    /// (an empty list given to `init` means Go's default).
    public let curves: [NIOTLSCurve]

    /// Go's defaults, used when `--grpc-server-tls-ciphers` / `--grpc-server-tls-curves` are not given.
    public static let goDefaultCipherSuites = GoCipherSuite.defaultSuites
    public static let goDefaultCurves = GoCurve.defaultGroups

    /// What every connection's `NIOSSLServerHandler` is made from.
    let sslContext: NIOSSLContext

    /// nil when the flags ask for plaintext. Empty strings and lists mean "flag not given", as in
    /// Thanos; `ciphers` and `curves` hold one string per occurrence of the flag, each of which may
    /// also list several names joined by commas (see `splitFlagValues`).
    ///
    /// `minVersion` is checked even without TLS, because Thanos' flag parser (a kingpin enum)
    /// rejects a bad value before anything else runs. Cipher and curve names are only read when TLS
    /// is on, as in Thanos, which ignores them otherwise: a drop-in must not refuse to start where
    /// Thanos starts.
    public static func fromFlags(
        certificate: String, key: String, clientCA: String, minVersion: String = GRPCServerTLSVersion.thanosDefault.rawValue,
        ciphers: [String] = [], curves: [String] = []
    ) throws(GRPCServerTLSError) -> GRPCServerTLS? {
        let version = try GRPCServerTLSVersion(flag: minVersion)
        switch (certificate.isEmpty, key.isEmpty) {
        case (true, true):
            guard clientCA.isEmpty else {
                throw GRPCServerTLSError(
                    description: "--grpc-server-tls-client-ca needs --grpc-server-tls-cert and --grpc-server-tls-key too")
            }
            return nil
        case (false, true):
            throw GRPCServerTLSError(
                description: "--grpc-server-tls-cert is set but --grpc-server-tls-key is not; TLS needs both")
        case (true, false):
            throw GRPCServerTLSError(
                description: "--grpc-server-tls-key is set but --grpc-server-tls-cert is not; TLS needs both")
        case (false, false):
            return try GRPCServerTLS(
                certificatePath: certificate, keyPath: key, clientCAPath: clientCA.isEmpty ? nil : clientCA,
                minimumVersion: version,
                cipherSuites: ciphers.isEmpty ? goDefaultCipherSuites : try GoCipherSuite.parse(ciphers),
                curves: curves.isEmpty ? goDefaultCurves : try GoCurve.parse(curves))
        }
    }

    /// Reads and checks PEM files: a certificate chain (leaf first), its private key, and
    /// optionally the CA bundle that client certificates must chain to.
    public init(
        certificatePath: String, keyPath: String, clientCAPath: String? = nil,
        minimumVersion: GRPCServerTLSVersion = .thanosDefault,
        cipherSuites: [NIOTLSCipher] = GRPCServerTLS.goDefaultCipherSuites,
        curves: [NIOTLSCurve] = GRPCServerTLS.goDefaultCurves
    ) throws(GRPCServerTLSError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
        self.minimumVersion = minimumVersion
        self.cipherSuites = cipherSuites.filter { !GoCipherSuite.tls13.contains($0.rawValue) }
        self.curves = curves.isEmpty ? Self.goDefaultCurves : curves
        // NIOSSL traps on a suite BoringSSL does not know, so only Go's are let through.
        for suite in cipherSuites where !GoCipherSuite.all.contains(where: { $0.id == suite.rawValue }) {
            throw GRPCServerTLSError(
                description: "--grpc-server-tls-ciphers: cipher suite 0x\(String(suite.rawValue, radix: 16)) is not one of Go's")
        }

        let chainPEM = try Self.read(certificatePath, what: "server certificate")
        let keyPEM = try Self.read(keyPath, what: "server key")
        let clientCAPEM = try clientCAPath.map { path throws(GRPCServerTLSError) in try Self.read(path, what: "client CA") }

        let chain = try Self.certificates(in: chainPEM, path: certificatePath, what: "server certificate")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyPEM, format: .pem)
        } catch {
            throw GRPCServerTLSError(description: "server key \(keyPath): not a PEM private key (\(error))")
        }
        var clientCAs: [NIOSSLCertificate]?
        if let clientCAPEM, let clientCAPath {
            clientCAs = try Self.certificates(in: clientCAPEM, path: clientCAPath, what: "client CA")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        // Building a context is what notices a key that does not belong to the certificate; the
        // other settings are added after this, so that this message is about the key alone.
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw GRPCServerTLSError(
                description: "server key \(keyPath) does not fit certificate \(certificatePath) (\(error))")
        }
        Self.apply(
            minimumVersion: minimumVersion, cipherSuites: self.cipherSuites, curves: self.curves, clientCAs: clientCAs,
            to: &configuration)
        do {
            sslContext = try NIOSSLContext(configuration: configuration)
        } catch {
            throw GRPCServerTLSError(
                description: "--grpc-server-tls-min-version/-ciphers/-curves: BoringSSL refused the settings (\(error))")
        }
    }

    /// The handshake settings, as the gRPC transport would make them (ALPN "grpc-exp" and "h2")
    /// plus what the flags ask for.
    private static func apply(
        minimumVersion: GRPCServerTLSVersion, cipherSuites: [NIOTLSCipher], curves: [NIOTLSCurve],
        clientCAs: [NIOSSLCertificate]?, to configuration: inout TLSConfiguration
    ) {
        configuration.applicationProtocols = ["grpc-exp", "h2"]
        if cipherSuites.isEmpty {
            // Only TLS 1.3 suites were named: like Go, accept no older version. (BoringSSL refuses
            // an empty TLS 1.2 suite list, so the version is what enforces this.)
            configuration.minimumTLSVersion = .tlsv13
        } else {
            configuration.minimumTLSVersion = minimumVersion.nioSSL
            configuration.cipherSuiteValues = cipherSuites
        }
        configuration.curves = curves
        if let clientCAs {
            // Any verification mode other than "none" makes the server demand a certificate.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(clientCAs)
        }
    }

    /// A whole PEM file (a few KiB; more than 16 MiB is refused rather than read into memory).
    private static func read(_ path: String, what: String) throws(GRPCServerTLSError) -> [UInt8] {
        do throws(Errno) { return try Posix.readAll(path) } catch {
            throw GRPCServerTLSError(description: "\(what) \(path): cannot read: \(error.reason)")
        }
    }

    private static func certificates(
        in pem: [UInt8], path: String, what: String
    ) throws(GRPCServerTLSError) -> [NIOSSLCertificate] {
        let found: [NIOSSLCertificate]
        do {
            found = try NIOSSLCertificate.fromPEMBytes(pem)
        } catch {
            throw GRPCServerTLSError(description: "\(what) \(path): not a PEM certificate (\(error))")
        }
        guard !found.isEmpty else {
            throw GRPCServerTLSError(description: "\(what) \(path): no PEM certificate in the file")
        }
        return found
    }
}
