import Foundation
import ObjstoreConfig
import SkiffCore
import TestSupport
import Testing

@testable import ObjectStorage
@testable import S3

/// The S3 bucket against real S3 servers on loopback: moto (AWS' API as boto models it) and
/// juicefs gateway (MinIO's S3 code, which verifies signatures and payload hashes).
@Suite(.serialized, .needs(.motoServer, .juicefs, .boto3, .openssl)) struct S3BucketTests {
    /// Every conformance check, each on a fresh bucket of one server per kind.
    @Test(arguments: S3ServerKind.allCases)
    func conformance(_ kind: S3ServerKind) async throws {
        try await S3TestServer.withServer(kind) { server in
            for (i, check) in BucketConformance.checks.enumerated() {
                let name = "conformance-\(i)"
                try await server.makeBucket(name)
                try await server.withSkiffBucket(bucket: name) { bucket in
                    try await check.run(on: bucket)
                }
            }
        }
    }
}

/// HTTPS: a server whose certificate is not trusted is a configuration error, reported at once
/// (a retry cannot make a certificate verify), with what to change.
@Suite(.needs(.motoServer, .juicefs, .boto3, .openssl)) struct S3TLSTests {
    @Test func untrustedCertificateFailsFastWithAHint() async throws {
        try await S3TestServer.withServer(.motoTLS) { server in
            let yaml =
                server.objstoreYAML().replacingOccurrences(of: "      ca_file: \(server.caFile!)\n", with: "")
                .replacingOccurrences(of: "    tls_config:\n", with: "").replacingOccurrences(of: "  http_config:\n", with: "")
                + "  http_config:\n    tls_handshake_timeout: 2s\n"
            let bucket = try BucketConfig.parse(yaml: yaml, environment: [:]).makeBucket()
            let started = ContinuousClock.now
            let error = await #expect(throws: SkiffError.self) { _ = try await bucket.attributes(key: "a/meta.json") }
            await bucket.shutdown()
            #expect(error?.code == .invalidArgument)
            #expect(error?.transient == false)
            #expect(error?.message.contains("TLS handshake failed") == true, "\(String(describing: error))")
            #expect(error?.message.contains("tls_config.ca_file") == true)
            // One attempt: the HTTP client keeps reconnecting until the connect timeout
            // (tls_handshake_timeout, 2 s here) and then reports the TLS error; ten retries would take 20 s and more.
            #expect(ContinuousClock.now - started < .seconds(15))
        }
    }

    /// A refusal carries what the server said as fields, not only as text: the object key, the
    /// HTTP status, S3's error code and the request id an operator quotes to their provider.
    @Test func refusalsCarryStructuredContext() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let yaml = server.objstoreYAML().replacingOccurrences(
                of: "secret_key: \(server.secretKey)", with: "secret_key: not-the-secret")
            let bucket = try BucketConfig.parse(yaml: yaml, environment: [:]).makeBucket()
            let error = await #expect(throws: SkiffError.self) { _ = try await bucket.attributes(key: "a/meta.json") }
            let access = await #expect(throws: SkiffError.self) { try await bucket.checkAccess() }
            await bucket.shutdown()
            #expect(error?.context.key == "a/meta.json")
            #expect(error?.context.httpStatus == 403)
            #expect(error?.context.storeCode == "SignatureDoesNotMatch", "\(String(describing: error))")
            #expect(error?.context.requestID?.isEmpty == false)
            #expect(access?.message.contains("cannot be used") == true)
            #expect(access?.context.storeCode == "SignatureDoesNotMatch")
        }
    }
}

/// Listings that span many pages, with both ListObjects versions, on both servers.
@Suite(.serialized, .needs(.motoServer, .juicefs, .boto3)) struct S3ListingTests {
    @Test(arguments: [S3ServerKind.moto, .juicefs])
    func pagedListingsAreCompleteAndSorted(_ kind: S3ServerKind) async throws {
        try await S3TestServer.withServer(kind) { server in
            var keys: [String] = []
            for i in 0..<45 { keys.append("01BLOCK\(i % 4)/chunks/\(String(format: "%06d", i))") }
            keys += ["01BLOCK1/index", "01BLOCK1/meta.json", "top"]
            for key in keys { try await server.putObject(key, bytes: [1]) }
            let sorted = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for version in ["v1", "v2"] {
                let yaml = server.objstoreYAML(extraConfig: ["list_objects_version: \(version)"])
                guard case .s3(let config) = try BucketConfig.parse(yaml: yaml, environment: [:]).provider else {
                    Issue.record("not an S3 config")
                    return
                }
                let bucket = try S3Bucket(config: config, listPageSize: 4)
                let all = try await bucket.list(prefix: "", recursive: true)
                let top = try await bucket.list(prefix: "", recursive: false)
                let one = try await bucket.list(prefix: "01BLOCK1/chunks/", recursive: false)
                await bucket.shutdown()
                #expect(all == sorted, "\(version)")
                #expect(top == ["01BLOCK0/", "01BLOCK1/", "01BLOCK2/", "01BLOCK3/", "top"], "\(version)")
                #expect(one == sorted.filter { $0.hasPrefix("01BLOCK1/chunks/") }, "\(version)")
            }
        }
    }
}
