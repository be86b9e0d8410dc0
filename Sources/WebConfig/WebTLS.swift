import ConfigYAML
import NIOSSL
import SkiffCore

/// `tls_server_config` of exporter-toolkit's web config, as a NIOSSL server configuration.
public struct WebTLS: Sendable {
    public let configuration: TLSConfiguration

    static let keys = [
        "cert_file", "key_file", "cert", "key", "client_auth_type", "client_ca_file", "client_ca", "min_version",
        "max_version", "cipher_suites", "curve_preferences", "prefer_server_cipher_suites", "client_allowed_sans",
    ]

    static let versions: [String: TLSVersion] = [
        "TLS10": .tlsv1, "TLS11": .tlsv11, "TLS12": .tlsv12, "TLS13": .tlsv13,
    ]

    /// nil when no certificate is configured: exporter-toolkit then serves plain HTTP.
    static func parse(_ mapping: StrictMapping, directory: String) throws(SkiffError) -> WebTLS? {
        let certFile = try mapping.string("cert_file") ?? ""
        let keyFile = try mapping.string("key_file") ?? ""
        let certText = try mapping.string("cert") ?? ""
        let keyText = try mapping.string("key") ?? ""
        guard !(certFile.isEmpty && certText.isEmpty) else {
            if !keyFile.isEmpty || !keyText.isEmpty { throw mapping.fail("tls_server_config has a key but no certificate") }
            return nil
        }
        if !certFile.isEmpty && !certText.isEmpty { throw mapping.fail("tls_server_config: set cert or cert_file, not both") }
        if !keyFile.isEmpty && !keyText.isEmpty { throw mapping.fail("tls_server_config: set key or key_file, not both") }
        for unsupported in ["cipher_suites", "curve_preferences", "client_allowed_sans"] where mapping.isSet(unsupported) {
            throw mapping.fail(
                "tls_server_config.\(unsupported) is not supported by Skiff yet; remove it to use the TLS library's defaults")
        }

        // exporter-toolkit's client auth rules, checked before any file is read.
        let clientAuth = try mapping.string("client_auth_type") ?? ""
        let caFile = try mapping.string("client_ca_file") ?? ""
        let caText = try mapping.string("client_ca") ?? ""
        let hasCA = !caFile.isEmpty || !caText.isEmpty
        switch clientAuth {
        case "", "NoClientCert":
            if hasCA { throw mapping.fail("Client CA's have been configured without a Client Auth Policy") }
        case "RequireAndVerifyClientCert":
            guard hasCA else { throw mapping.fail("client_auth_type RequireAndVerifyClientCert needs client_ca_file") }
        case "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven":
            throw mapping.fail(
                "client_auth_type \(clientAuth) is not supported by Skiff: use RequireAndVerifyClientCert or NoClientCert")
        default:
            throw mapping.fail("Invalid ClientAuth: \(clientAuth)")
        }

        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain =
                certText.isEmpty
                ? try NIOSSLCertificate.fromPEMFile(resolve(certFile, directory))
                : try NIOSSLCertificate.fromPEMBytes(Array(certText.utf8))
            key =
                keyText.isEmpty
                ? try NIOSSLPrivateKey(file: resolve(keyFile, directory), format: .pem)
                : try NIOSSLPrivateKey(bytes: Array(keyText.utf8), format: .pem)
        } catch {
            throw mapping.fail(
                "tls_server_config: cannot load the certificate or key (\(error)); check the paths and that they are PEM")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = try version(mapping, "min_version") ?? .tlsv12
        if let maximum = try version(mapping, "max_version") { configuration.maximumTLSVersion = maximum }

        if hasCA {
            do {
                let roots =
                    caText.isEmpty
                    ? try NIOSSLCertificate.fromPEMFile(resolve(caFile, directory))
                    : try NIOSSLCertificate.fromPEMBytes(Array(caText.utf8))
                configuration.trustRoots = .certificates(roots)
            } catch {
                throw mapping.fail("tls_server_config: cannot load the client CA (\(error)); check the path and that it is PEM")
            }
            // Client certificates must chain to the CA; no host name check, as in Go.
            configuration.certificateVerification = .noHostnameVerification
        }
        return WebTLS(configuration: configuration)
    }

    private static func version(_ mapping: StrictMapping, _ key: String) throws(SkiffError) -> TLSVersion? {
        guard let text = try mapping.string(key) else { return nil }
        guard let version = versions[text] else {
            throw mapping.fail("tls_server_config.\(key): unknown TLS version \(text); use TLS10, TLS11, TLS12 or TLS13")
        }
        return version
    }

    private static func resolve(_ path: String, _ directory: String) -> String {
        path.hasPrefix("/") ? path : directory + "/" + path
    }
}
