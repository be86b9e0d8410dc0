import ConfigYAML
import NIOSSL
import SkiffCore

/// Thanos' `tls_config` (Prometheus common config's `TLSConfig`), the same for
/// `--prometheus.http-client` and S3's `http_config.tls_config`: PEM files and whether to verify.
public struct TLSConfig: Sendable, Equatable {
    /// CA certificates to trust instead of the system's; "" for the system trust store.
    public var caFile = ""
    /// Client certificate and key, for mutual TLS; both or neither.
    public var certFile = ""
    public var keyFile = ""
    /// Accepted only when it equals the host being connected to: AsyncHTTPClient cannot send a
    /// different SNI name, so `checkServerName` refuses any other.
    public var serverName = ""
    public var insecureSkipVerify = false

    public init() {}

    package static let keys = ["ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"]

    /// Reads a `tls_config` mapping (read with `keys` allowed); checks that the cert and key come together.
    package static func parse(_ mapping: StrictMapping) throws(SkiffError) -> TLSConfig {
        var tls = TLSConfig()
        tls.caFile = try mapping.string("ca_file") ?? ""
        tls.certFile = try mapping.string("cert_file") ?? ""
        tls.keyFile = try mapping.string("key_file") ?? ""
        tls.serverName = try mapping.string("server_name") ?? ""
        tls.insecureSkipVerify = try mapping.bool("insecure_skip_verify") ?? false
        try tls.validate(source: mapping.source, key: String(mapping.path.dropLast()))
        return tls
    }

    /// Checks that the cert and key come together. `source` and `key` name the flag or file and
    /// the `tls_config` path in the message.
    package func validate(source: String, key: String) throws(SkiffError) {
        if certFile.isEmpty != keyFile.isEmpty {
            throw SkiffError(
                .invalidArgument, "\(source): \(key) needs both cert_file and key_file, or neither", transient: false)
        }
    }

    /// Refuses a `server_name` other than `host`, which the HTTP client cannot honour.
    /// `source` and `key` name the flag or file and the key's path in the message.
    package func checkServerName(host: String, source: String, key: String) throws(SkiffError) {
        guard !serverName.isEmpty, serverName != host else { return }
        throw SkiffError(
            .invalidArgument,
            "\(source): \(key) different from the host it connects to (\(host)) is not supported yet; remove it or connect to \(serverName) instead",
            transient: false)
    }

    /// The client's NIOSSL configuration, loading the PEM files now so a bad path fails at start.
    /// `source` and `key` name the flag or file and the key's path in the message.
    package func clientConfiguration(source: String, key: String) throws(SkiffError) -> TLSConfiguration {
        var result = TLSConfiguration.makeClientConfiguration()
        do {
            if !caFile.isEmpty { result.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) }
            if !certFile.isEmpty {
                result.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
                result.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            }
        } catch {
            throw SkiffError(
                .invalidArgument,
                "\(source): \(key): cannot load the CA, certificate or key file (\(error)); check the paths and that they are PEM",
                transient: false)
        }
        if insecureSkipVerify { result.certificateVerification = .none }
        return result
    }
}
