import Foundation
import SkiffCore
import TestSupport
import Testing

@testable import PrometheusClient

/// `--prometheus.http-client` parsing: Thanos' keys, strictness, and secrets never echoed.
struct PrometheusHTTPClientConfigTests {
    @Test func blankYAMLGivesDefaults() throws {
        #expect(try PrometheusHTTPClientConfig.parse(yaml: "") == PrometheusHTTPClientConfig())
        #expect(try PrometheusHTTPClientConfig.parse(yaml: "  \n\n") == PrometheusHTTPClientConfig())
        #expect(try PrometheusHTTPClientConfig.parse(yaml: "basic_auth:\ntls_config: {}\n") == PrometheusHTTPClientConfig())
    }

    @Test func readsEveryThanosKey() throws {
        let config = try PrometheusHTTPClientConfig.parse(
            yaml: """
                basic_auth:
                  username: admin
                  password_file: /etc/prom/pass
                proxy_url: ""
                tls_config:
                  ca_file: /ca.pem
                  cert_file: /cert.pem
                  key_file: /key.pem
                  server_name: prom.local
                  insecure_skip_verify: true
                transport_config:
                  max_idle_conns: 100
                  max_idle_conns_per_host: 2
                  idle_conn_timeout: 30000000000
                  response_header_timeout: 5s
                  expect_continue_timeout: 10000000000
                  max_conns_per_host: 4
                  disable_compression: false
                  tls_handshake_timeout: 2000000000
                """)
        #expect(config.basicAuth.username == "admin")
        #expect(config.basicAuth.passwordFile == "/etc/prom/pass")
        #expect(config.tls.caFile == "/ca.pem" && config.tls.keyFile == "/key.pem" && config.tls.serverName == "prom.local")
        #expect(config.tls.insecureSkipVerify)
        #expect(config.transport.idleConnectionTimeoutMillis == 30_000)
        #expect(config.transport.responseHeaderTimeoutMillis == 5_000)
        #expect(config.transport.tlsHandshakeTimeoutMillis == 2_000)
        #expect(config.transport.maxConnectionsPerHost == 4)
    }

    @Test func unknownKeysAreNamed() {
        expectError(
            "bearer_tokn: abc", contains: #"--prometheus.http-client: unknown key "bearer_tokn"; allowed here: basic_auth,"#)
        expectError(
            "basic_auth:\n  user: a\n",
            contains: #"unknown key "basic_auth.user"; allowed here: username, password, password_file"#)
        expectError("tls_config:\n  insecure: true\n", contains: #"unknown key "tls_config.insecure""#)
        expectError("transport_config:\n  dial_timeout: 1\n", contains: #"unknown key "transport_config.dial_timeout""#)
    }

    @Test func secretsAreNeverEchoed() {
        let secret = "s3cr3t-value"
        for yaml in [
            "basic_auth:\n  username: a\n  password: \(secret)\n  passwrd: \(secret)\n",
            "bearer_token: [\(secret)]\n",
            "basic_auth:\n  password: \(secret)\n  password_file: /x\n",
            "bearer_token: \(secret)\nbearer_token_file: /x\n",
            "bearer_token: \"\(secret)\n",  // unterminated quote: a YAML syntax error on the secret's line
            "bearer_token: \(secret)\nbasic_auth:\n  username: u\n",
        ] {
            do {
                _ = try PrometheusHTTPClientConfig.parse(yaml: yaml)
                Issue.record("accepted \(yaml)")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(!error.message.contains(secret), "\(error.message)")
            }
        }
    }

    @Test func proxyURLIsNotSupportedYet() {
        expectError("proxy_url: http://proxy:3128", contains: "proxy_url is not supported yet")
    }

    @Test func badValuesNameTheirPath() {
        expectError(
            "tls_config:\n  insecure_skip_verify: maybe\n",
            contains: "--prometheus.http-client: tls_config.insecure_skip_verify must be true or false")
        expectError(
            "transport_config:\n  idle_conn_timeout: soon\n",
            contains: "transport_config.idle_conn_timeout must be a duration such as 500ms, 90s or 2m, or integer nanoseconds")
        expectError(
            "tls_config:\n  cert_file: /c.pem\n",
            contains: "--prometheus.http-client: tls_config needs both cert_file and key_file, or neither")
        expectError(
            "- a\n- b\n", contains: "--prometheus.http-client: the document must be a YAML mapping with keys: basic_auth,")
    }

    /// yaml.v2's booleans (y, yes, on, ... in three cases) and both duration forms, as S3's http_config.
    @Test func goBooleansAndDurationStrings() throws {
        let config = try PrometheusHTTPClientConfig.parse(
            yaml:
                "tls_config:\n  insecure_skip_verify: Y\ntransport_config:\n  idle_conn_timeout: 1m30s\n  disable_compression: NO\n"
        )
        #expect(config.tls.insecureSkipVerify)
        #expect(config.transport.idleConnectionTimeoutMillis == 90_000)
        #expect(config.transport.responseHeaderTimeoutMillis == 0, "Thanos' clientconfig default: no limit")
        expectError(
            "tls_config:\n  insecure_skip_verify: 'true'\n", contains: "tls_config.insecure_skip_verify must be true or false")
        expectError(
            "transport_config:\n  idle_conn_timeout: -1\n", contains: "transport_config.idle_conn_timeout must not be negative")
    }

    @Test func missingPasswordFileFailsAtInitNamingThePath() throws {
        let config = try PrometheusHTTPClientConfig.parse(
            yaml: "basic_auth:\n  username: u\n  password_file: /nonexistent/pass\n")
        #expect {
            _ = try PrometheusClient(url: "http://127.0.0.1:9090", config: config)
        } throws: { error in
            let error = error as! SkiffError
            return error.code == .invalidArgument && error.message.contains("/nonexistent/pass")
                && error.message.contains("basic_auth.password_file")
        }
    }

    @Test func credentialFilesAreTrimmed() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try "tok3n\n".write(toFile: dir.sub("token"), atomically: true, encoding: .utf8)
        var config = PrometheusHTTPClientConfig()
        config.bearerTokenFile = dir.sub("token")
        #expect(try PrometheusClient.authorization(config) == "Bearer tok3n")
        config = PrometheusHTTPClientConfig()
        config.basicAuth.username = "user"
        config.basicAuth.password = "pass"
        #expect(try PrometheusClient.authorization(config) == "Basic dXNlcjpwYXNz")
    }

    @Test func urlsAreValidatedAndNormalized() throws {
        #expect(try PrometheusClient.normalize("http://localhost:9090/").0 == "http://localhost:9090")
        #expect(try PrometheusClient.normalize("https://h:1/prom//").0 == "https://h:1/prom")
        #expect(try PrometheusClient.normalize("http://[::1]:9090").0 == "http://[::1]:9090")
        for bad in ["localhost:9090", "ftp://h", "http://", "not a url", "http://h:9090/?x=1"] {
            #expect(throws: SkiffError.self) { _ = try PrometheusClient.normalize(bad) }
        }
        do {
            _ = try PrometheusClient.normalize("http://user:hunter2@h:9090")
            Issue.record("accepted credentials in the URL")
        } catch {
            #expect(!error.message.contains("hunter2"))
        }
        var config = PrometheusHTTPClientConfig()
        config.tls.serverName = "other.host"
        #expect(throws: SkiffError.self) { _ = try PrometheusClient(url: "https://prom.host", config: config) }
    }

    private func expectError(_ yaml: String, contains text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try PrometheusHTTPClientConfig.parse(yaml: yaml)
            Issue.record("accepted \(yaml)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .invalidArgument, sourceLocation: sourceLocation)
            #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
        }
    }
}
