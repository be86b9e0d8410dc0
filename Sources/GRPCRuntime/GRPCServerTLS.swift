import FileIO
import GRPCNIOTransportHTTP2
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

/// TLS for the gRPC server, from Thanos' `--grpc-server-tls-cert`, `--grpc-server-tls-key` and
/// `--grpc-server-tls-client-ca` (pkg/tls `NewServerConfig`):
///
/// - cert and key both empty: plaintext (and a client CA alone is an error);
/// - only one of cert and key: an error;
/// - cert and key: TLS;
/// - plus a client CA: mutual TLS. Clients must present a certificate that chains to that CA
///   (Go's `RequireAndVerifyClientCert`; no host name check, as in Go).
///
/// The files are read and checked when this value is made, so a bad flag fails at startup with
/// the file's name rather than at the first handshake. Thanos re-reads changed cert and key files
/// while running; Skiff reads them once.
public struct GRPCServerTLS: Sendable {
    public let certificatePath: String
    public let keyPath: String
    /// Set for mutual TLS.
    public let clientCAPath: String?

    let certificateChainPEM: [UInt8]
    let privateKeyPEM: [UInt8]
    let clientCAPEM: [UInt8]?

    /// nil when the flags ask for plaintext. Empty strings mean "flag not given", as in Thanos.
    public static func fromFlags(
        certificate: String, key: String, clientCA: String
    ) throws(GRPCServerTLSError) -> GRPCServerTLS? {
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
                certificatePath: certificate, keyPath: key, clientCAPath: clientCA.isEmpty ? nil : clientCA)
        }
    }

    /// Reads and checks PEM files: a certificate chain (leaf first), its private key, and
    /// optionally the CA bundle that client certificates must chain to.
    public init(certificatePath: String, keyPath: String, clientCAPath: String? = nil) throws(GRPCServerTLSError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath

        certificateChainPEM = try Self.read(certificatePath, what: "server certificate")
        privateKeyPEM = try Self.read(keyPath, what: "server key")
        clientCAPEM = try clientCAPath.map { path throws(GRPCServerTLSError) in try Self.read(path, what: "client CA") }

        let chain = try Self.certificates(in: certificateChainPEM, path: certificatePath, what: "server certificate")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: privateKeyPEM, format: .pem)
        } catch {
            throw GRPCServerTLSError(description: "server key \(keyPath): not a PEM private key (\(error))")
        }
        if let clientCAPEM, let clientCAPath {
            _ = try Self.certificates(in: clientCAPEM, path: clientCAPath, what: "client CA")
        }
        // Building a context is what notices a key that does not belong to the certificate.
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch {
            throw GRPCServerTLSError(
                description: "server key \(keyPath) does not fit certificate \(certificatePath) (\(error))")
        }
    }

    /// The transport's TLS settings. The transport fixes the minimum version at TLS 1.2 and offers
    /// no way to raise it, so `GRPCServerService` closes TLS 1.2 connections after their handshake
    /// (see `MinimumTLSVersionHandler`).
    var transportSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        .tls(
            certificateChain: [.bytes(certificateChainPEM, format: .pem)],
            privateKey: .bytes(privateKeyPEM, format: .pem)
        ) { tls in
            guard let clientCAPEM else { return }
            // Any verification mode other than "none" makes the server demand a certificate.
            tls.clientCertificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates([.bytes(clientCAPEM, format: .pem)])
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
