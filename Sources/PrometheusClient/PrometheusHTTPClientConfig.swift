import ConfigYAML
import HTTPClientConfig
import SkiffCore

/// Thanos' `--prometheus.http-client` YAML (pkg/clientconfig `HTTPClientConfig`), read strictly:
/// an unknown key is an error naming it, as Go's `UnmarshalStrict` does, so a typo such as
/// `bearer_tokn` fails at start instead of silently sending no credentials. Error messages never
/// contain a password or a token. Empty or blank YAML gives the defaults (no auth, system trust).
public struct PrometheusHTTPClientConfig: Sendable, Equatable {
    /// `basic_auth`: the password comes inline or from `password_file` (read by the client at init).
    public struct BasicAuth: Sendable, Equatable {
        public var username: String = ""
        public var password: String = ""
        public var passwordFile: String = ""
        public init() {}
        var isSet: Bool { !username.isEmpty || !password.isEmpty || !passwordFile.isEmpty }
    }

    public var basicAuth = BasicAuth()
    public var bearerToken = ""
    public var bearerTokenFile = ""
    /// `tls_config`: PEM files; `server_name` only when it equals the URL's host (see `TLSConfig`).
    public var tls = TLSConfig()
    /// `transport_config`, with Thanos' clientconfig defaults (no response header timeout).
    public var transport = HTTPTransport.prometheusDefaults

    public init() {}

    static let source = "--prometheus.http-client"
    static let keys = ["basic_auth", "bearer_token", "bearer_token_file", "proxy_url", "tls_config", "transport_config"]
    static let basicAuthKeys = ["username", "password", "password_file"]

    /// Parses the YAML text of `--prometheus.http-client` (or the file it names).
    public static func parse(yaml: String) throws(SkiffError) -> PrometheusHTTPClientConfig {
        var config = PrometheusHTTPClientConfig()
        guard !yaml.allSatisfy(\.isWhitespace) else { return config }
        let top = try StrictMapping(StrictMapping.document(yaml, source: source), source: source, allowed: keys)

        if let proxy = try top.string("proxy_url"), !proxy.isEmpty {
            throw top.fail("proxy_url is not supported yet; remove it and let Skiff reach Prometheus directly")
        }
        config.bearerToken = try top.string("bearer_token") ?? ""
        config.bearerTokenFile = try top.string("bearer_token_file") ?? ""

        let auth = try top.mapping("basic_auth", allowed: basicAuthKeys)
        config.basicAuth.username = try auth.string("username") ?? ""
        config.basicAuth.password = try auth.string("password") ?? ""
        config.basicAuth.passwordFile = try auth.string("password_file") ?? ""

        config.tls = try TLSConfig.parse(top.mapping("tls_config", allowed: TLSConfig.keys))
        try config.transport.read(top.mapping("transport_config", allowed: HTTPTransport.keys))

        try config.validate()
        return config
    }

    /// Prometheus common config's `Validate`, which Thanos calls: one credential source only.
    func validate() throws(SkiffError) {
        if !basicAuth.password.isEmpty && !basicAuth.passwordFile.isEmpty {
            throw Self.fail("at most one of basic_auth password & password_file must be configured")
        }
        if !bearerToken.isEmpty && !bearerTokenFile.isEmpty {
            throw Self.fail("at most one of bearer_token & bearer_token_file must be configured")
        }
        if basicAuth.isSet && (!bearerToken.isEmpty || !bearerTokenFile.isEmpty) {
            throw Self.fail("at most one of basic_auth, bearer_token & bearer_token_file must be configured")
        }
        try tls.validate(source: Self.source, key: "tls_config")
    }

    static func fail(_ message: String) -> SkiffError {
        SkiffError(.invalidArgument, "\(source): \(message)", transient: false)
    }
}
