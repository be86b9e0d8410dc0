import Foundation
import ObjectStorage
import SkiffCore
import TestSupport
import Testing

/// The S3 bucket against real S3 servers on loopback: moto (AWS' API as boto models it) and
/// juicefs gateway (MinIO's S3 code, which verifies signatures and payload hashes).
@Suite(.serialized) struct S3BucketTests {
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
@Suite struct S3TLSTests {
    @Test func untrustedCertificateFailsFastWithAHint() async throws {
        try await S3TestServer.withServer(.motoTLS) { server in
            let yaml = server.objstoreYAML().replacingOccurrences(of: "      ca_file: \(server.caFile!)\n", with: "")
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
}
