import ConfigYAML
import HTTPClientConfig
import ObjectStorage
import SkiffCore

/// The `type: S3` section of Thanos' objstore YAML, as Skiff understands it.
///
/// Every key Thanos documents is known here: keys Skiff implements are parsed and validated; keys
/// whose feature Skiff does not implement yet (server-side encryption, STS, signature V2, ...) are
/// rejected with "not supported yet" rather than silently ignored, because ignoring them would
/// upload data differently from what the operator asked for. A few pure tuning knobs of Go's HTTP
/// transport have no counterpart in Skiff's client; they are accepted (so a Thanos config works
/// unchanged) and documented in the README as having no effect.
public struct S3Config: Equatable, Sendable {
    /// How the bucket name goes into the URL.
    public enum Addressing: String, Equatable, Sendable {
        /// Virtual-host style for AWS and Aliyun endpoints, path style elsewhere (minio-go's rule).
        case auto
        /// `https://bucket.endpoint/key`
        case virtualHost = "virtual-host"
        /// `https://endpoint/bucket/key`
        case path
    }

    public enum ListObjectsVersion: String, Equatable, Sendable {
        case v1, v2
    }

    public var bucket: String
    /// `host` or `host:port`, no scheme (Thanos' form).
    public var endpoint: String
    /// The signing region; "us-east-1" when the config leaves it empty, as minio-go does.
    public var region: String
    public var accessKey: String
    var secretKey: String
    var sessionToken: String?
    /// Plain HTTP instead of HTTPS.
    public var insecure = false
    public var addressing = Addressing.auto
    public var listObjectsVersion = ListObjectsVersion.v2
    /// Files of at least this size go up as multipart uploads of parts this big (Thanos: 64 MiB).
    public var partSize: Int64 = 64 * 1024 * 1024
    public var disableMultipart = false
    /// Request-level retries before an operation fails (minio-go's default is 10).
    public var maxRetries = 10
    /// `x-amz-meta-*` headers put on every uploaded object.
    public var userMetadata: [String: String] = [:]
    /// `http_config`'s transport keys, with Thanos objstore's defaults (response headers within 2m).
    public var transport = HTTPTransport.objstoreDefaults
    /// `http_config.tls_config` (and the older `http_config.insecure_skip_verify`).
    public var tls = TLSConfig()

    /// Whether requests carry a session token (the token itself is never exposed).
    public var hasSessionToken: Bool { sessionToken != nil }

    /// The credentials' secret parts, for the signer only.
    var secrets: (secretKey: String, sessionToken: String?) { (secretKey, sessionToken) }

    /// S3's minimum part size: every part but the last must be at least 5 MiB.
    public static let minimumPartSize: Int64 = 5 * 1024 * 1024
    /// S3's maximum number of parts in one multipart upload.
    public static let maximumParts = 10_000
}

extension S3Config {
    /// A config built from an S3-compatible vendor's own section (Aliyun OSS, Tencent COS) by
    /// ObjstoreConfig, with S3's defaults for everything else.
    package init(compatibleBucket bucket: String, endpoint: String, region: String, accessKey: String, secretKey: String) {
        self.init(
            bucket: bucket, endpoint: endpoint, region: region, accessKey: accessKey, secretKey: secretKey, sessionToken: nil)
    }
}

extension S3Config {
    package static let keys = [
        "bucket", "endpoint", "region", "access_key", "secret_key", "session_token", "insecure",
        "put_user_metadata", "http_config", "list_objects_version", "bucket_lookup_type", "part_size",
        "disable_multipart", "max_retries", "send_content_md5", "disable_dualstack",
        // Known to Thanos, rejected below unless left at their off/empty value.
        "aws_sdk_auth", "signature_version2", "sse_config", "sts_endpoint", "trace",
    ]
    /// objstore's `HTTPConfig`: the shared transport keys, TLS, and the older top-level switch.
    static let httpKeys = HTTPTransport.keys + ["insecure_skip_verify", "tls_config"]

    /// Parses the `config:` mapping of a `type: S3` bucket config. Credentials missing from the file
    /// come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
    /// `config` is that mapping, read with `keys` allowed.
    package static func parse(_ config: StrictMapping, environment: [String: String]) throws(SkiffError) -> S3Config {
        func fail(_ message: String) -> SkiffError { config.fail(message) }

        for key in ["aws_sdk_auth", "signature_version2"] where try config.bool(key) == true {
            throw fail(
                "config.\(key) is not supported yet; remove it and use access_key/secret_key or the AWS_* environment variables")
        }
        for key in ["sse_config", "sts_endpoint"] where config.isSet(key) {
            throw fail("config.\(key) is not supported yet; remove it to ship without it")
        }
        if try config.mapping("trace", allowed: ["enable"]).bool("enable") == true {
            throw fail("config.trace.enable is not supported yet; remove it")
        }

        guard let bucket = try config.string("bucket"), !bucket.isEmpty else {
            throw fail("S3 needs config.bucket, the bucket to ship blocks to")
        }
        guard let endpoint = try config.string("endpoint"), !endpoint.isEmpty else {
            throw fail("S3 needs config.endpoint, e.g. s3.eu-west-1.amazonaws.com or minio.local:9000 (no scheme)")
        }
        if endpoint.contains("://") {
            throw fail("config.endpoint must be host or host:port without a scheme; set insecure: true for plain HTTP")
        }
        if endpoint.contains("/") { throw fail("config.endpoint must be host or host:port, without a path") }

        let fileKey = try config.string("access_key") ?? ""
        let fileSecret = try config.string("secret_key") ?? ""
        if fileKey.isEmpty != fileSecret.isEmpty {
            throw fail(
                "set both config.access_key and config.secret_key, or neither (then AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are used)"
            )
        }
        let accessKey = fileKey.isEmpty ? environment["AWS_ACCESS_KEY_ID"] ?? "" : fileKey
        let secretKey = fileKey.isEmpty ? environment["AWS_SECRET_ACCESS_KEY"] ?? "" : fileSecret
        guard !accessKey.isEmpty, !secretKey.isEmpty else {
            throw fail(
                "no S3 credentials: set config.access_key and config.secret_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (anonymous access and instance roles are not supported yet)"
            )
        }
        let fileToken = try config.string("session_token") ?? ""
        let token = fileKey.isEmpty && fileToken.isEmpty ? environment["AWS_SESSION_TOKEN"] ?? "" : fileToken

        let region = try config.string("region") ?? ""
        var result = S3Config(
            bucket: bucket, endpoint: endpoint, region: region.isEmpty ? "us-east-1" : region, accessKey: accessKey,
            secretKey: secretKey, sessionToken: token.isEmpty ? nil : token)
        result.insecure = try config.bool("insecure") ?? false

        if let lookup = try config.string("bucket_lookup_type"), !lookup.isEmpty {
            guard let addressing = Addressing(rawValue: lookup) else {
                throw fail("config.bucket_lookup_type must be auto, virtual-host or path")
            }
            result.addressing = addressing
        }
        if let version = try config.string("list_objects_version"), !version.isEmpty {
            guard let parsed = ListObjectsVersion(rawValue: version) else {
                throw fail("config.list_objects_version must be v1 or v2")
            }
            result.listObjectsVersion = parsed
        }
        if let partSize = try config.integer("part_size"), partSize != 0 {
            guard partSize >= S3Config.minimumPartSize, partSize <= 5 * 1024 * 1024 * 1024 else {
                throw fail("config.part_size must be between 5 MiB (5242880) and 5 GiB; S3 rejects other part sizes")
            }
            result.partSize = partSize
        }
        result.disableMultipart = try config.bool("disable_multipart") ?? false
        if let retries = try config.integer("max_retries") {
            guard (0...100).contains(retries) else { throw fail("config.max_retries must be between 0 and 100") }
            result.maxRetries = Int(retries)
        }
        _ = try config.bool("send_content_md5")  // Skiff always sends the stronger x-amz-content-sha256.
        _ = try config.bool("disable_dualstack")  // Skiff never uses dual-stack endpoints.
        result.userMetadata = try config.stringMap("put_user_metadata")

        let http = try config.mapping("http_config", allowed: httpKeys)
        try result.transport.read(http)
        result.tls = try TLSConfig.parse(http.mapping("tls_config", allowed: TLSConfig.keys))
        // objstore's older switch, kept by Thanos beside tls_config's: either one turns checks off.
        if try http.bool("insecure_skip_verify") == true { result.tls.insecureSkipVerify = true }
        return result
    }
}

extension S3Config: CustomStringConvertible {
    /// For logs: where Skiff ships, never the credentials.
    public var description: String {
        "s3://\(bucket) at \(insecure ? "http" : "https")://\(endpoint) (region \(region), access key \(accessKey))"
    }
}
