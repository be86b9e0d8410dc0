import ConfigYAML
import FileIO
import Foundation
import GCS
import ObjectStorage
import S3
import SkiffCore

/// Which bucket to ship to: Thanos' objstore YAML (`--objstore.config-file`), so one file serves
/// Thanos and Skiff.
///
/// ```yaml
/// type: FILESYSTEM        # case-insensitive
/// config:
///   directory: /var/skiff/bucket
/// prefix: tenant-a        # optional: every object is stored under tenant-a/
/// ```
///
/// Parsing is strict (an unknown key is an error naming it) and error messages name keys and
/// environment variables but never echo values, since other types' configs hold credentials.
public struct BucketConfig: Equatable, Sendable {
    /// The kind of object store and its settings.
    public enum Provider: Equatable, Sendable {
        /// A local directory (an absolute path) in Thanos' FILESYSTEM layout.
        case filesystem(directory: String)
        /// Amazon S3 or any S3-compatible store; also Aliyun OSS and Tencent COS (`type: ALIYUNOSS`,
        /// `type: COS`), whose sections map to their S3-compatible endpoints.
        case s3(S3Config)
        /// Google Cloud Storage (or the emulator `STORAGE_EMULATOR_HOST` names).
        case gcs(GCSConfig)
    }

    public var provider: Provider
    /// Every object is stored under `prefix/`; "" for none. No leading or trailing "/".
    public var prefix: String

    public init(provider: Provider, prefix: String = "") {
        self.provider = provider
        self.prefix = prefix
    }

    /// Types Thanos supports that Skiff does not implement; a type moves out of here into the
    /// switch in `parse` when it is implemented.
    static let notYetSupported: Set<String> = ["AZURE", "SWIFT", "BOS", "OCI", "OBS"]
    static let supported = "FILESYSTEM, S3, GCS, ALIYUNOSS, COS"

    /// Parses objstore YAML, after replacing `$(NAME)` with environment variable `NAME` as Thanos
    /// does. Relative directories are resolved against the current directory.
    public static func parse(
        yaml: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SkiffError) -> BucketConfig {
        try parse(yaml, environment: environment, source: "bucket config")
    }

    /// Reads and parses the objstore YAML file at `path`.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SkiffError) -> BucketConfig {
        let bytes: [UInt8]
        do throws(Errno) { bytes = try Posix.readAll(path) } catch {
            if error.code == EFBIG {
                throw SkiffError(
                    .invalidArgument,
                    "read bucket config \(path): it is larger than \(Posix.smallFileLimit >> 20) MiB, which no bucket config is; "
                        + "pass --objstore.config-file the path of a Thanos objstore YAML file")
            }
            throw SkiffError(
                .invalidArgument,
                "read bucket config \(path): \(error.reason); pass --objstore.config-file the path of a Thanos objstore YAML file"
            )
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw SkiffError(.invalidArgument, "read bucket config \(path): the file is not UTF-8 text")
        }
        return try parse(text, environment: environment, source: "bucket config \(path)")
    }

    /// The bucket this config describes, created and checked for use. Call `shutdown()` on it when done.
    public func makeBucket() throws(SkiffError) -> any Bucket {
        let bucket: any Bucket
        switch provider {
        case .filesystem(let directory): bucket = try FilesystemBucket(directory: directory)
        case .s3(let config): bucket = try S3Bucket(config: config)
        case .gcs(let config): bucket = try GCSBucket(config: config)
        }
        // Instrumented below the prefix, so the metrics' `bucket` label is the bucket's own name
        // (the S3 bucket, the directory), the same series the S3 client counts its retries in.
        let instrumented = InstrumentedBucket(base: bucket)
        return prefix.isEmpty ? instrumented : try PrefixedBucket(base: instrumented, prefix: prefix)
    }

    // MARK: - Parsing

    private static func parse(
        _ yaml: String, environment: [String: String], source: String
    ) throws(SkiffError)
        -> BucketConfig
    {
        let empty = SkiffError(.invalidArgument, "\(source) is empty; set type: FILESYSTEM and config.directory")
        // Checked before YAML parsing, which rejects tabs as indentation even in a blank file.
        if yaml.allSatisfy(\.isWhitespace) { throw empty }
        let text = try substituteEnvironment(yaml, environment, source: source)
        guard let root = try StrictMapping.document(text, source: source) else { throw empty }
        let top = try StrictMapping(root, source: source, allowed: ["type", "config", "prefix"])
        guard let rawType = try top.string("type") else {
            throw SkiffError(.invalidArgument, "\(source) has no type; set type: FILESYSTEM")
        }
        let prefix = String((try top.string("prefix") ?? "").trimmingSlashes)
        if !prefix.isEmpty {
            do throws(SkiffError) { try ObjectKey.validate(prefix, op: "prefix") } catch {
                throw SkiffError(.invalidArgument, "\(source): \(error.message)")
            }
        }

        let type = rawType.uppercased()
        let provider: Provider
        switch type {
        case "FILESYSTEM":
            let config = try top.mapping("config", allowed: ["directory"])
            guard let directory = try config.string("directory"), !directory.isEmpty else {
                throw SkiffError(
                    .invalidArgument, "\(source) has no config.directory; FILESYSTEM needs the directory to ship blocks to")
            }
            provider = .filesystem(directory: absolute(directory))
        case "S3":
            provider = .s3(try S3Config.parse(top.mapping("config", allowed: S3Config.keys), environment: environment))
        case "GCS":
            provider = .gcs(try GCSConfig.parse(top.mapping("config", allowed: GCSConfig.keys), environment: environment))
        case "ALIYUNOSS":
            provider = .s3(try S3CompatibleVendors.oss(top.mapping("config", allowed: S3CompatibleVendors.ossKeys)))
        case "COS":
            provider = .s3(try S3CompatibleVendors.cos(top.mapping("config", allowed: S3CompatibleVendors.cosKeys)))
        default:
            if notYetSupported.contains(type) {
                throw SkiffError(
                    .invalidArgument,
                    "\(source): bucket type \(type) is not supported by Skiff; supported: \(supported) "
                        + "(Thanos' own sidecar serves \(type))")
            }
            throw SkiffError(.invalidArgument, "unknown bucket type \"\(rawType)\" in \(source); supported: \(supported)")
        }
        return BucketConfig(provider: provider, prefix: prefix)
    }

    /// `path` made absolute against the current directory, without "." or empty segments.
    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let segments = full.split(separator: "/").filter { $0 != "." }
        return "/" + segments.joined(separator: "/")
    }
}
