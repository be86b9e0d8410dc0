import Foundation
import ObjectStorage
import ObjstoreConfig
import SkiffCore
import Testing

@testable import ObjectStorage
@testable import S3

/// The S3 client's pure parts: addressing, error classification, backoff, dates and XML.
@Suite struct S3ClientUnitTests {
    func config(
        endpoint: String, bucket: String = "thanos", addressing: S3Config.Addressing = .auto, insecure: Bool = false
    )
        throws -> S3Config
    {
        let yaml = """
            type: S3
            config: {bucket: "\(bucket)", endpoint: "\(endpoint)", access_key: a, secret_key: s, insecure: \(insecure), bucket_lookup_type: \(addressing.rawValue)}
            """
        guard case .s3(let s3) = try BucketConfig.parse(yaml: yaml, environment: [:]).provider else {
            throw SkiffError(.invalidArgument, "not S3")
        }
        return s3
    }

    @Test func autoAddressingFollowsMinioGo() throws {
        #expect(S3Client.usesVirtualHost(try config(endpoint: "s3.eu-west-1.amazonaws.com")))
        #expect(S3Client.usesVirtualHost(try config(endpoint: "oss-cn-hangzhou.aliyuncs.com")))
        #expect(!S3Client.usesVirtualHost(try config(endpoint: "127.0.0.1:9000")))
        #expect(!S3Client.usesVirtualHost(try config(endpoint: "minio.internal:9000")))
        // Dotted bucket names break the TLS wildcard certificate in virtual-host style.
        #expect(!S3Client.usesVirtualHost(try config(endpoint: "s3.amazonaws.com", bucket: "my.bucket")))
        #expect(S3Client.usesVirtualHost(try config(endpoint: "minio.internal", addressing: .virtualHost)))
        #expect(!S3Client.usesVirtualHost(try config(endpoint: "s3.amazonaws.com", addressing: .path)))
    }

    @Test func errorsAreClassifiedForRetryAndForTheOperator() {
        func error(_ status: Int, _ code: String, region: String? = nil) -> S3ServiceError {
            let regionXML = region.map { "<Region>\($0)</Region>" } ?? ""
            let xml = "<Error><Code>\(code)</Code><Message>m</Message><RequestId>r1</RequestId>\(regionXML)</Error>"
            return S3ServiceError(status: status, body: Array(xml.utf8), headers: nil)
        }
        for (status, code) in [
            (503, "SlowDown"), (500, "InternalError"), (400, "RequestTimeout"), (429, "TooManyRequests"),
            (400, "XAmzContentSHA256Mismatch"), (400, "BadDigest"),
        ] {
            #expect(error(status, code).isRetryable, "\(code)")
            #expect(!error(status, code).isConfigurationError, "\(code)")
        }
        for code in ["SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "NoSuchBucket"] {
            let e = error(code == "NoSuchBucket" ? 404 : 403, code)
            #expect(!e.isRetryable, "\(code)")
            #expect(e.isConfigurationError, "\(code)")
            #expect(e.summary.contains(code) && e.summary.contains("request id r1"))
        }
        #expect(error(400, "AuthorizationHeaderMalformed", region: "eu-west-1").summary.contains("set config.region: eu-west-1"))
        // An HTML page from a proxy still gives a usable error.
        let html = S3ServiceError(status: 502, body: Array("<html>bad gateway</html>".utf8), headers: "x1")
        #expect(html.code == "HTTP502" && html.isRetryable && html.requestID == "x1")
    }

    /// Request retries use the shipper's jittered exponential `Backoff`, scaled down.
    @Test func requestBackoffIsExponentialJitteredAndCapped() {
        let backoff = RequestRetries.backoff
        #expect(backoff.delayMillis(attempt: 1, jitter: 0.999) < 200)
        #expect(backoff.delayMillis(attempt: 3, jitter: 0.999) >= 790)
        #expect(backoff.delayMillis(attempt: 3, jitter: 0) == 400)
        #expect(backoff.delayMillis(attempt: 40, jitter: 0.999) <= 10_000)
    }

    @Test func httpDatesAndXML() throws {
        #expect(S3Bucket.parseHTTPDate("Wed, 21 Oct 2015 07:28:00 GMT") == 1_445_412_480_000)
        #expect(S3Bucket.parseHTTPDate("yesterday") == nil)
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated>
            <Contents><Key>a&amp;b &lt;c&gt;</Key><ETag>&quot;abc&quot;</ETag></Contents>
            <CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes></ListBucketResult>
            """
        let root = try #require(S3XMLNode.parse(Array(xml.utf8)))
        #expect(root.name == "ListBucketResult")
        #expect(root.all("Contents").first?.value("Key") == "a&b <c>")
        #expect(root.all("Contents").first?.value("ETag") == "\"abc\"")
        #expect(root.all("CommonPrefixes").compactMap { $0.value("Prefix") } == ["d/"])
        #expect(S3XMLNode.parse(Array("not xml <".utf8)) == nil)
        #expect(xmlEscaped("a&b<\"'>") == "a&amp;b&lt;&quot;&apos;&gt;")
    }
}
