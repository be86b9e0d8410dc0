import ConfigYAML
import HTTPClientConfig
import SkiffCore

/// The `type: GCS` section of Thanos' objstore YAML (objstore's `providers/gcs` `Config`), read
/// with yaml.v2's strict rules: every key Thanos documents is accepted, nothing else.
///
/// ```yaml
/// type: GCS
/// config:
///   bucket: my-bucket
///   service_account: |-      # the JSON key; empty: GOOGLE_APPLICATION_CREDENTIALS, then gcloud's file
///     {"type": "service_account", ...}
///   chunk_size_bytes: 16777216
///   max_retries: 0           # total attempts when > 0 (Thanos: storage.WithMaxAttempts)
/// ```
public struct GCSConfig: Equatable, Sendable {
    public var bucket: String
    /// The service account (or authorized user) JSON from the file; never logged, never echoed.
    var serviceAccount: String
    /// Objects of at least this size go up as resumable uploads sent in chunks this big; smaller
    /// ones in one request. Go's client default (16 MiB); a multiple of 256 KiB, as GCS requires.
    public var chunkSize: Int64 = GCSConfig.defaultChunkSize
    /// Attempts per request (the first included): `max_retries` when above 0, as Thanos passes it
    /// to `storage.WithMaxAttempts`; otherwise 10.
    public var maxAttempts = GCSConfig.defaultAttempts
    /// `http_config`'s transport keys, with Thanos objstore's defaults.
    public var transport = HTTPTransport.objstoreDefaults
    /// `http_config.tls_config` (and the older `http_config.insecure_skip_verify`).
    public var tls = TLSConfig()
    /// `STORAGE_EMULATOR_HOST` as an origin (`http://host:port`): requests go there, unauthenticated,
    /// as Google's clients do. nil for Google's endpoint.
    public var emulatorOrigin: String?
    /// `GOOGLE_APPLICATION_CREDENTIALS`: the credentials file used when `service_account` is empty.
    var credentialsFile: String?
    /// gcloud's application default credentials file, used when neither of those is set.
    var gcloudCredentialsFile: String?

    /// Whether the config carries its own service account JSON (the JSON itself is never exposed).
    public var hasServiceAccount: Bool { !serviceAccount.isEmpty }

    public static let defaultChunkSize: Int64 = 16 << 20
    public static let defaultAttempts = 10
    /// GCS takes resumable chunks in multiples of this (all but the last).
    public static let chunkGranularity: Int64 = 256 << 10

    /// A config for `bucket` with defaults, for tests and callers building one by hand.
    public init(bucket: String, serviceAccount: String = "", emulatorOrigin: String? = nil) {
        self.bucket = bucket
        self.serviceAccount = serviceAccount
        self.emulatorOrigin = emulatorOrigin
    }
}

extension GCSConfig {
    package static let keys = [
        "bucket", "service_account", "use_grpc", "grpc_conn_pool_size", "http_config", "chunk_size_bytes", "max_retries",
    ]
    /// objstore's `HTTPConfig`: the shared transport keys, TLS, and the older top-level switch.
    static let httpKeys = HTTPTransport.keys + ["insecure_skip_verify", "tls_config"]

    /// Parses the `config:` mapping of a `type: GCS` bucket config (read with `keys` allowed).
    /// `STORAGE_EMULATOR_HOST`, `GOOGLE_APPLICATION_CREDENTIALS` and `HOME` come from `environment`.
    package static func parse(_ config: StrictMapping, environment: [String: String]) throws(SkiffError) -> GCSConfig {
        func fail(_ message: String) -> SkiffError { config.fail(message) }

        guard let bucket = try config.string("bucket"), !bucket.isEmpty else {
            throw fail("GCS needs config.bucket, the bucket to ship blocks to")
        }
        if bucket.contains("/") { throw fail("config.bucket must be a bucket name, without \"/\"") }
        if try config.bool("use_grpc") == true {
            throw fail("config.use_grpc is not supported: Skiff speaks GCS' JSON API over HTTP; remove use_grpc")
        }
        if let pool = try config.integer("grpc_conn_pool_size"), pool < 0 {
            throw fail("config.grpc_conn_pool_size must be 0 or more")
        }
        var result = GCSConfig(bucket: bucket, serviceAccount: try config.string("service_account") ?? "")
        if let chunk = try config.integer("chunk_size_bytes"), chunk != 0 {
            guard chunk > 0, chunk <= 5 << 30 else {
                throw fail("config.chunk_size_bytes must be between 1 and 5 GiB (0: the default 16 MiB)")
            }
            // Go's client rounds up to a multiple of 256 KiB (googleapi.MinUploadChunkSize); so do we.
            result.chunkSize = (chunk + chunkGranularity - 1) / chunkGranularity * chunkGranularity
        }
        if let retries = try config.integer("max_retries"), retries != 0 {
            guard (1...100).contains(retries) else {
                throw fail("config.max_retries must be between 1 (no retries) and 100, or 0 for the default")
            }
            result.maxAttempts = Int(retries)
        }
        let http = try config.mapping("http_config", allowed: httpKeys)
        try result.transport.read(http)
        result.tls = try TLSConfig.parse(http.mapping("tls_config", allowed: TLSConfig.keys))
        if try http.bool("insecure_skip_verify") == true { result.tls.insecureSkipVerify = true }

        if let host = environment["STORAGE_EMULATOR_HOST"], !host.isEmpty {
            result.emulatorOrigin = try emulatorOrigin(host)
        }
        if let file = environment["GOOGLE_APPLICATION_CREDENTIALS"], !file.isEmpty { result.credentialsFile = file }
        if let home = environment["HOME"], !home.isEmpty {
            result.gcloudCredentialsFile = home + "/.config/gcloud/application_default_credentials.json"
        }
        return result
    }

    /// `STORAGE_EMULATOR_HOST` as Google's clients read it: `host:port`, or a URL with a scheme
    /// (`http://host:port`); without one, plain HTTP.
    static func emulatorOrigin(_ value: String) throws(SkiffError) -> String {
        var origin = value.hasSuffix("/") ? String(value.dropLast()) : value
        if !origin.contains("://") { origin = "http://" + origin }
        guard origin.hasPrefix("http://") || origin.hasPrefix("https://") else {
            throw SkiffError(
                .invalidArgument, "STORAGE_EMULATOR_HOST must be host:port or an http(s):// URL; fix or unset it")
        }
        let rest = origin.dropFirst(origin.hasPrefix("http://") ? 7 : 8)
        guard !rest.isEmpty, !rest.contains("/") else {
            throw SkiffError(
                .invalidArgument, "STORAGE_EMULATOR_HOST must be host:port or an http(s):// URL without a path; fix or unset it")
        }
        return origin
    }
}

extension GCSConfig: CustomStringConvertible {
    /// For logs: where Skiff ships, never the credentials.
    public var description: String {
        "gs://\(bucket)" + (emulatorOrigin.map { " at emulator \($0)" } ?? "")
    }
}
