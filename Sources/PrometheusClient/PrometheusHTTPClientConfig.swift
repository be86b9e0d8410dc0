import ConfigYAML
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

    /// `tls_config`: PEM files; `server_name` is accepted only when it equals the URL's host
    /// (AsyncHTTPClient cannot send a different SNI name; the client init rejects the rest).
    public struct TLS: Sendable, Equatable {
        public var caFile: String = ""
        public var certFile: String = ""
        public var keyFile: String = ""
        public var serverName: String = ""
        public var insecureSkipVerify = false
        public init() {}
    }

    /// `transport_config`, Go `http.Transport` tuning. Only the keys with a counterpart in
    /// AsyncHTTPClient take effect; the others are accepted so Thanos configs keep working.
    public struct Transport: Sendable, Equatable {
        /// Idle keep-alive connections are closed after this (Thanos default 90s).
        public var idleConnectionTimeoutMillis: Int64 = 90_000
        /// No response head within this fails the call; 0 means only the per-call timeout applies.
        public var responseHeaderTimeoutMillis: Int64 = 0
        /// Bounds connecting (TCP and TLS) to Prometheus (Thanos default 10s).
        public var tlsHandshakeTimeoutMillis: Int64 = 10_000
        /// 0 means no limit in Go; AsyncHTTPClient then gets its default soft limit.
        public var maxConnectionsPerHost = 0
        public init() {}
    }

    public var basicAuth = BasicAuth()
    public var bearerToken = ""
    public var bearerTokenFile = ""
    public var tls = TLS()
    public var transport = Transport()

    public init() {}

    static let source = "--prometheus.http-client"
    static let keys = ["basic_auth", "bearer_token", "bearer_token_file", "proxy_url", "tls_config", "transport_config"]
    static let basicAuthKeys = ["username", "password", "password_file"]
    static let tlsKeys = ["ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"]
    static let transportKeys = [
        "max_idle_conns", "max_idle_conns_per_host", "idle_conn_timeout", "response_header_timeout",
        "expect_continue_timeout", "max_conns_per_host", "disable_compression", "tls_handshake_timeout",
    ]

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

        let tls = try top.mapping("tls_config", allowed: tlsKeys)
        config.tls.caFile = try tls.string("ca_file") ?? ""
        config.tls.certFile = try tls.string("cert_file") ?? ""
        config.tls.keyFile = try tls.string("key_file") ?? ""
        config.tls.serverName = try tls.string("server_name") ?? ""
        config.tls.insecureSkipVerify = try tls.bool("insecure_skip_verify") ?? false

        let transport = try top.mapping("transport_config", allowed: transportKeys)
        if let value = try transport.duration("idle_conn_timeout") { config.transport.idleConnectionTimeoutMillis = value }
        if let value = try transport.duration("response_header_timeout") { config.transport.responseHeaderTimeoutMillis = value }
        if let value = try transport.duration("tls_handshake_timeout"), value > 0 {
            config.transport.tlsHandshakeTimeoutMillis = value
        }
        if let value = try transport.integer("max_conns_per_host") {
            guard value >= 0, value <= Int64(Int32.max) else {
                throw transport.fail("transport_config.max_conns_per_host must be 0 (no limit) or more")
            }
            config.transport.maxConnectionsPerHost = Int(value)
        }
        // Go transport tuning without a counterpart here: checked for type, then ignored.
        _ = try transport.integer("max_idle_conns")
        _ = try transport.integer("max_idle_conns_per_host")
        _ = try transport.duration("expect_continue_timeout")
        _ = try transport.bool("disable_compression")

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
        if tls.certFile.isEmpty != tls.keyFile.isEmpty {
            throw Self.fail("tls_config needs both cert_file and key_file, or neither")
        }
    }

    static func fail(_ message: String) -> SkiffError {
        SkiffError(.invalidArgument, "\(source): \(message)", transient: false)
    }
}
