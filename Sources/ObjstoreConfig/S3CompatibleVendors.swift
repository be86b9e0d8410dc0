import ConfigYAML
import HTTPClientConfig
import S3
import SkiffCore

/// Aliyun OSS (`type: ALIYUNOSS`) and Tencent COS (`type: COS`) with Thanos' keys, served through
/// each vendor's S3-compatible API by the S3 client. The endpoint each maps to is in the README.
enum S3CompatibleVendors {
    static let ossKeys = ["endpoint", "bucket", "access_key_id", "access_key_secret"]
    static let cosKeys = [
        "bucket", "region", "app_id", "endpoint", "secret_key", "secret_id", "max_retries", "http_config",
    ]

    /// `type: ALIYUNOSS`. `endpoint` is OSS' (`oss-cn-hangzhou.aliyuncs.com`, with or without a
    /// scheme, `-internal` too): it maps to OSS' S3 endpoint `s3.oss-<region>.aliyuncs.com` with
    /// the bucket in the host name and `<region>` as the signing region. Any other host (a gateway,
    /// a test server) is used as it is, path style for IP addresses.
    static func oss(_ config: StrictMapping) throws(SkiffError) -> S3Config {
        func fail(_ message: String) -> SkiffError { config.fail(message) }
        guard let endpoint = try config.string("endpoint"), !endpoint.isEmpty else {
            throw fail("ALIYUNOSS needs config.endpoint, e.g. oss-cn-hangzhou.aliyuncs.com")
        }
        guard let bucket = try config.string("bucket"), !bucket.isEmpty else {
            throw fail("ALIYUNOSS needs config.bucket, the bucket to ship blocks to")
        }
        let id = try config.string("access_key_id") ?? ""
        let secret = try config.string("access_key_secret") ?? ""
        guard !id.isEmpty, !secret.isEmpty else {
            throw fail("ALIYUNOSS needs config.access_key_id and config.access_key_secret")
        }
        let (insecure, host) = try split(endpoint, key: "endpoint", config: config)
        var s3: S3Config
        let labels = host.split(separator: ".", maxSplits: 1).map(String.init)
        if labels.count == 2, labels[1] == "aliyuncs.com", labels[0].hasPrefix("oss-") {
            // oss-cn-hangzhou[-internal] -> region cn-hangzhou, endpoint s3.oss-cn-hangzhou[-internal].aliyuncs.com
            let name = String(labels[0].dropFirst("oss-".count))
            let region = name.hasSuffix("-internal") ? String(name.dropLast("-internal".count)) : name
            s3 = S3Config(
                compatibleBucket: bucket, endpoint: "s3.oss-\(name).aliyuncs.com", region: region, accessKey: id,
                secretKey: secret)
            s3.addressing = .virtualHost
        } else if host.hasPrefix("s3.oss-") && host.hasSuffix(".aliyuncs.com") {
            let name = host.dropFirst("s3.oss-".count).prefix { $0 != "." }
            let region = name.hasSuffix("-internal") ? String(name.dropLast("-internal".count)) : String(name)
            s3 = S3Config(compatibleBucket: bucket, endpoint: host, region: region, accessKey: id, secretKey: secret)
            s3.addressing = .virtualHost
        } else {
            s3 = S3Config(compatibleBucket: bucket, endpoint: host, region: "us-east-1", accessKey: id, secretKey: secret)
        }
        s3.insecure = insecure
        return s3
    }

    /// `type: COS`. Without `endpoint`: `https://cos.<region>.myqcloud.com` with the bucket
    /// `<bucket>-<app_id>` in the host name and `<region>` as the signing region. With `endpoint`
    /// (COS' bucket URL, `https://<bucket>-<app_id>.cos.<region>.myqcloud.com`): that host. Any other
    /// endpoint host (a gateway, a test server) is used path style with the bucket `<bucket>-<app_id>`
    /// (`<bucket>` without app_id).
    static func cos(_ config: StrictMapping) throws(SkiffError) -> S3Config {
        func fail(_ message: String) -> SkiffError { config.fail(message) }
        let bucket = try config.string("bucket") ?? ""
        let region = try config.string("region") ?? ""
        let appID = try config.string("app_id") ?? ""
        let endpoint = try config.string("endpoint") ?? ""
        let id = try config.string("secret_id") ?? ""
        let secret = try config.string("secret_key") ?? ""
        guard !id.isEmpty, !secret.isEmpty else { throw fail("COS needs config.secret_id and config.secret_key") }
        var s3: S3Config
        if endpoint.isEmpty {
            guard !bucket.isEmpty, !appID.isEmpty, !region.isEmpty else {
                throw fail("COS needs config.bucket, config.app_id and config.region (or config.endpoint, the bucket's URL)")
            }
            s3 = S3Config(
                compatibleBucket: "\(bucket)-\(appID)", endpoint: "cos.\(region).myqcloud.com", region: region, accessKey: id,
                secretKey: secret)
            s3.addressing = .virtualHost
        } else {
            let (insecure, host) = try split(endpoint, key: "endpoint", config: config)
            let parts = host.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 2, parts[1].hasPrefix("cos."), parts[1].hasSuffix(".myqcloud.com") {
                let hostRegion = String(parts[1].dropFirst("cos.".count).dropLast(".myqcloud.com".count))
                s3 = S3Config(
                    compatibleBucket: parts[0], endpoint: parts[1], region: region.isEmpty ? hostRegion : region,
                    accessKey: id, secretKey: secret)
                s3.addressing = .virtualHost
            } else {
                guard !bucket.isEmpty else { throw fail("COS with this config.endpoint needs config.bucket") }
                s3 = S3Config(
                    compatibleBucket: appID.isEmpty ? bucket : "\(bucket)-\(appID)", endpoint: host,
                    region: region.isEmpty ? "us-east-1" : region, accessKey: id, secretKey: secret)
                s3.addressing = .path
            }
            s3.insecure = insecure
        }
        if let retries = try config.integer("max_retries"), retries != 0 {
            guard (1...100).contains(retries) else { throw fail("config.max_retries must be between 0 and 100") }
            s3.maxRetries = Int(retries)
        }
        let http = try config.mapping("http_config", allowed: HTTPTransport.keys + ["insecure_skip_verify", "tls_config"])
        try s3.transport.read(http)
        s3.tls = try TLSConfig.parse(http.mapping("tls_config", allowed: TLSConfig.keys))
        if try http.bool("insecure_skip_verify") == true { s3.tls.insecureSkipVerify = true }
        return s3
    }

    /// An endpoint written as a URL or a bare host: (plain HTTP?, `host[:port]`). A bare host is HTTPS.
    private static func split(_ endpoint: String, key: String, config: StrictMapping) throws(SkiffError) -> (Bool, String) {
        var rest = Substring(endpoint)
        var insecure = false
        if rest.hasPrefix("http://") {
            insecure = true
            rest = rest.dropFirst("http://".count)
        } else if rest.hasPrefix("https://") {
            rest = rest.dropFirst("https://".count)
        } else if rest.contains("://") {
            throw config.fail("config.\(key) must be a host, or an http:// or https:// URL")
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/") else {
            throw config.fail("config.\(key) must be a host or a URL without a path")
        }
        return (insecure, String(rest))
    }
}
