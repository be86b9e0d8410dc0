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
