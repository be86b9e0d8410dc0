import Foundation
import ObjstoreConfig
import SkiffCore
import TestSupport
import Testing

@testable import S3

/// Aliyun OSS and Tencent COS sections (Thanos' keys, unchanged) mapped onto the S3 client.
@Suite struct S3CompatibleVendorConfigTests {
    private func s3(_ yaml: String) throws -> S3Config {
        let config = try BucketConfig.parse(yaml: yaml, environment: [:])
        guard case .s3(let s3) = config.provider else { throw SkiffError(.invalidArgument, "not S3: \(config)") }
        return s3
    }

    @Test(arguments: [
        ("oss-cn-hangzhou.aliyuncs.com", "s3.oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou", false),
        ("https://oss-cn-hangzhou.aliyuncs.com", "s3.oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou", false),
        ("http://oss-cn-beijing-internal.aliyuncs.com", "s3.oss-cn-beijing-internal.aliyuncs.com", "cn-beijing", true),
        ("https://s3.oss-eu-central-1.aliyuncs.com/", "s3.oss-eu-central-1.aliyuncs.com", "eu-central-1", false),
    ])
    func ossEndpoints(_ endpoint: String, _ mapped: String, _ region: String, _ insecure: Bool) throws {
        let config = try s3(
            "type: ALIYUNOSS\nconfig:\n  endpoint: \(endpoint)\n  bucket: blocks\n  access_key_id: id\n  access_key_secret: s\n")
        #expect(config.endpoint == mapped)
        #expect(config.region == region)
        #expect(config.bucket == "blocks")
        #expect(config.insecure == insecure)
        #expect(config.addressing == .virtualHost)
        #expect(config.accessKey == "id")
    }

    @Test func cosEndpoints() throws {
        let keys = "  secret_id: id\n  secret_key: s\n"
        let derived = try s3("type: COS\nconfig:\n  bucket: blocks\n  app_id: \"1250000000\"\n  region: ap-beijing\n" + keys)
        #expect(derived.bucket == "blocks-1250000000")
        #expect(derived.endpoint == "cos.ap-beijing.myqcloud.com")
        #expect(derived.region == "ap-beijing")
        #expect(derived.addressing == .virtualHost)
        #expect(!derived.insecure)
        let url = try s3(
            "type: COS\nconfig:\n  endpoint: https://blocks-1250000000.cos.ap-guangzhou.myqcloud.com\n  max_retries: 3\n" + keys)
        #expect(url.bucket == "blocks-1250000000")
        #expect(url.endpoint == "cos.ap-guangzhou.myqcloud.com")
        #expect(url.region == "ap-guangzhou")
        #expect(url.maxRetries == 3)
        let gateway = try s3(
            "type: COS\nconfig:\n  endpoint: http://127.0.0.1:9000\n  bucket: blocks\n  app_id: \"125\"\n"
                + "  http_config:\n    response_header_timeout: 5s\n" + keys)
        #expect(gateway.bucket == "blocks-125")
        #expect(gateway.endpoint == "127.0.0.1:9000")
        #expect(gateway.addressing == .path)
        #expect(gateway.insecure)
        #expect(gateway.transport.responseHeaderTimeoutMillis == 5_000)
    }

    @Test(arguments: [
        (
            "type: ALIYUNOSS\nconfig:\n  bucket: b\n  access_key_id: i\n  access_key_secret: s\n",
            "ALIYUNOSS needs config.endpoint"
        ),
        ("type: ALIYUNOSS\nconfig:\n  endpoint: e\n  bucket: b\n  access_key_id: i\n", "access_key_secret"),
        ("type: ALIYUNOSS\nconfig:\n  endpoint: e\n  bucket: b\n  region: x\n", "unknown key \"config.region\""),
        ("type: COS\nconfig:\n  bucket: b\n  secret_id: i\n  secret_key: s\n", "config.app_id and config.region"),
        ("type: COS\nconfig:\n  bucket: b\n  app_id: \"1\"\n  region: r\n", "secret_id"),
        ("type: COS\nconfig:\n  endpoint: ftp://x\n  secret_id: i\n  secret_key: s\n", "config.endpoint must be"),
        (
            "type: SWIFT\nconfig: {}\n",
            "bucket type SWIFT is not supported by Skiff; supported: FILESYSTEM, S3, GCS, ALIYUNOSS, COS"
        ),
        ("type: bos\nconfig: {}\n", "bucket type BOS is not supported by Skiff"),
        ("type: OCI\nconfig: {}\n", "bucket type OCI is not supported by Skiff"),
        ("type: OBS\nconfig: {}\n", "bucket type OBS is not supported by Skiff"),
        ("type: GCS\nconfig:\n  bucket: b\n  use_grpc: true\n", "config.use_grpc is not supported"),
        ("type: GCS\nconfig:\n  bucket: b\n  no_auth: true\n", "unknown key \"config.no_auth\""),
        ("type: GCS\nconfig: {}\n", "GCS needs config.bucket"),
        ("type: GCS\nconfig:\n  bucket: b\n  chunk_size_bytes: -1\n", "config.chunk_size_bytes must be"),
    ])
    func rejected(_ yaml: String, _ message: String) {
        let error = #expect(throws: SkiffError.self) { try BucketConfig.parse(yaml: yaml, environment: [:]) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(message) == true, "got: \(String(describing: error?.message))")
    }

    /// Every key of Thanos' GCS config is accepted; the chunk size is rounded up to 256 KiB as Go's client does.
    @Test func gcsKeys() throws {
        let yaml = """
            type: GCS
            config:
              bucket: blocks
              service_account: ""
              use_grpc: false
              grpc_conn_pool_size: 4
              chunk_size_bytes: 1000000
              max_retries: 3
              http_config:
                idle_conn_timeout: 1m
                insecure_skip_verify: true
            prefix: tenant
            """
        let config = try BucketConfig.parse(yaml: yaml, environment: ["STORAGE_EMULATOR_HOST": "localhost:1"])
        #expect(config.prefix == "tenant")
        guard case .gcs(let gcs) = config.provider else {
            Issue.record("not GCS")
            return
        }
        #expect(gcs.bucket == "blocks")
        #expect(gcs.chunkSize == 4 * 262_144)
        #expect(gcs.maxAttempts == 3)
        #expect(gcs.tls.insecureSkipVerify)
        #expect(!gcs.hasServiceAccount)
    }
}

/// OSS and COS configs pointed at a local S3 server (juicefs: MinIO's code, which checks SigV4)
/// pass the whole conformance suite through the S3 client.
@Suite(.serialized, .needs(.juicefs, .boto3)) struct S3CompatibleVendorConformanceTests {
    @Test func ossAndCOSThroughTheS3Client() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let oss = { (bucket: String) in
                "type: ALIYUNOSS\nconfig:\n  endpoint: http://\(server.endpoint)\n  bucket: \(bucket)\n"
                    + "  access_key_id: \(server.accessKey)\n  access_key_secret: \(server.secretKey)\n"
            }
            let cos = { (bucket: String) in
                "type: COS\nconfig:\n  endpoint: http://\(server.endpoint)\n  bucket: \(bucket)\n  app_id: \"1250000000\"\n"
                    + "  secret_id: \(server.accessKey)\n  secret_key: \(server.secretKey)\n"
            }
            for (i, check) in BucketConformance.checks.enumerated() {
                for (vendor, yaml) in [("oss", oss), ("cos", cos)] {
                    let name = "\(vendor)-\(i)"
                    try await server.makeBucket(vendor == "cos" ? "\(name)-1250000000" : name)
                    let bucket = try BucketConfig.parse(yaml: yaml(name), environment: [:]).makeBucket()
                    do {
                        try await check.run(on: bucket)
                        await bucket.shutdown()
                    } catch {
                        await bucket.shutdown()
                        throw error
                    }
                }
            }
        }
    }
}
