import ObjectStorage
import ObjstoreConfig
import S3
import SkiffCore

extension S3TestServer {
    /// The objstore YAML for `bucket` on this server (default: the server's own bucket).
    /// `endpoint` replaces the server's own (to go through a `FaultProxy`).
    public func objstoreYAML(bucket name: String? = nil, endpoint via: String? = nil, extraConfig: [String] = []) -> String {
        var lines = [
            "type: S3", "config:", "  bucket: \(name ?? bucket)", "  endpoint: \(via ?? endpoint)", "  region: \(region)",
            "  access_key: \(accessKey)", "  secret_key: \(secretKey)",
        ]
        if let caFile {
            lines += ["  insecure: false", "  http_config:", "    tls_config:", "      ca_file: \(caFile)"]
        } else {
            lines.append("  insecure: true")
        }
        lines += extraConfig.map { "  " + $0 }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Skiff's S3 bucket for `bucket` on this server, closed after `body` however it ends.
    public func withSkiffBucket<T>(
        bucket name: String? = nil, extraConfig: [String] = [], _ body: (any Bucket) async throws -> T
    ) async throws -> T {
        let config = try BucketConfig.parse(yaml: objstoreYAML(bucket: name, extraConfig: extraConfig), environment: [:])
        return try await withBucket(try config.makeBucket(), body)
    }
}
