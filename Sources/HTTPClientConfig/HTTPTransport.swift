import AsyncHTTPClient
import ConfigYAML
import NIOCore
import NIOSSL
import SkiffCore

/// Go `http.Transport` tuning as Thanos configures it: `transport_config` in
/// `--prometheus.http-client` (clientconfig `TransportConfig`) and S3's `http_config` (objstore
/// `HTTPConfig`) share these keys. Only those with a counterpart in AsyncHTTPClient take effect;
/// the others are checked for type and accepted, so Thanos configs keep working.
public struct HTTPTransport: Sendable, Equatable {
    /// Idle keep-alive connections are closed after this (Thanos default 90s for both).
    public var idleConnectionTimeoutMillis: Int64 = 90_000
    /// No response head within this fails the request; 0 means no limit of its own (Go's meaning).
    public var responseHeaderTimeoutMillis: Int64
    /// Bounds connecting (TCP and TLS) (Thanos default 10s for both). 0 keeps the default:
    /// Go reads 0 as "no limit", which AsyncHTTPClient has no way to say.
    public var tlsHandshakeTimeoutMillis: Int64 = 10_000
    /// Connections per host; 0 means no limit in Go, and the client's own default pool size here.
    public var maxConnectionsPerHost = 0

    /// Thanos' clientconfig defaults for `--prometheus.http-client`: no response header timeout.
    public static let prometheusDefaults = HTTPTransport(responseHeaderTimeoutMillis: 0)
    /// Thanos' objstore `DefaultHTTPConfig` for S3: response headers within 2m.
    public static let objstoreDefaults = HTTPTransport(responseHeaderTimeoutMillis: 120_000)

    public init(responseHeaderTimeoutMillis: Int64) {
        self.responseHeaderTimeoutMillis = responseHeaderTimeoutMillis
    }

    package static let keys = [
        "idle_conn_timeout", "response_header_timeout", "tls_handshake_timeout", "max_conns_per_host",
        // Go transport tuning without a counterpart in AsyncHTTPClient: accepted, no effect.
        "max_idle_conns", "max_idle_conns_per_host", "expect_continue_timeout", "disable_compression",
    ]

    /// Reads the transport keys of `mapping` (which may hold others too) over these defaults.
    package mutating func read(_ mapping: StrictMapping) throws(SkiffError) {
        if let value = try mapping.duration("idle_conn_timeout") { idleConnectionTimeoutMillis = value }
        if let value = try mapping.duration("response_header_timeout") { responseHeaderTimeoutMillis = value }
        if let value = try mapping.duration("tls_handshake_timeout"), value > 0 { tlsHandshakeTimeoutMillis = value }
        if let value = try mapping.integer("max_conns_per_host") {
            guard value >= 0, value <= Int64(Int32.max) else {
                throw mapping.fail("\(mapping.name("max_conns_per_host")) must be 0 (no limit) or more")
            }
            maxConnectionsPerHost = Int(value)
        }
        _ = try mapping.integer("max_idle_conns")
        _ = try mapping.integer("max_idle_conns_per_host")
        _ = try mapping.duration("expect_continue_timeout")
        _ = try mapping.bool("disable_compression")
    }

    /// AsyncHTTPClient's configuration for these settings: no redirects, no decompression,
    /// `defaultConnectionsPerHost` when `max_conns_per_host` is 0.
    package func clientConfiguration(tls: TLSConfiguration?, defaultConnectionsPerHost: Int) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .milliseconds(tlsHandshakeTimeoutMillis),
                read: responseHeaderTimeoutMillis > 0 ? .milliseconds(responseHeaderTimeoutMillis) : nil),
            connectionPool: .init(
                // Go's 0 is "never closed for idleness"; AsyncHTTPClient's 0 would close at once.
                idleTimeout: idleConnectionTimeoutMillis > 0 ? .milliseconds(idleConnectionTimeoutMillis) : .hours(24 * 365),
                concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnectionsPerHost > 0
                    ? maxConnectionsPerHost : defaultConnectionsPerHost),
            decompression: .disabled)
        // A refused connection fails its attempt at once, as a Go dial does. Left on,
        // AsyncHTTPClient reconnects in a loop until the connect timeout (10 s of silence per
        // attempt) under callers that already retry with their own backoff (S3's max_retries,
        // the Prometheus heartbeat).
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }
}

extension HTTPTransport {
    /// What an AsyncHTTPClient failure means, in the words of the config key that bounds it: one
    /// text for every object store's client.
    public static func describe(_ error: HTTPClientError) -> String {
        switch error {
        case .readTimeout: return "no response within http_config.response_header_timeout"
        case .connectTimeout: return "connect timed out"
        case .deadlineExceeded: return "request deadline exceeded"
        case .remoteConnectionClosed: return "the server closed the connection"
        default: return "\(error)"
        }
    }
}
