import Foundation
import Testing

@testable import SigV4

// Every expected value below is published by AWS, and was also recomputed with botocore 1.43
// (`botocore.auth.S3SigV4Auth` / `SigV4Auth`: canonical_request, string_to_sign and signature with
// `request.context["timestamp"]` fixed), which agreed with each one.

/// A UTC time built with Foundation's calendar, independently of the signer's own `amzDate`.
func utcDate(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = .gmt
    let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    return calendar.date(from: components) ?? .distantPast
}

/// AWS's S3 examples, "Signature Calculations for the Authorization Header: Transferring Payload
/// in a Single Chunk": these go through the public `sign`, exactly as the S3 client will call it.
@Suite struct S3DocumentationExamples {
    let signer = SigV4Signer(
        credentials: SigV4Credentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    let date = utcDate(2013, 5, 24)
    let host = "examplebucket.s3.amazonaws.com"
    let credential = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"

    func authorization(_ request: SigV4Request) -> String? {
        signer.sign(request, date: date).first { $0.name == "Authorization" }?.value
    }

    @Test func getObject() {
        let request = SigV4Request(
            method: "GET", host: host, path: "/test.txt", headers: [("Range", "bytes=0-9")],
            payloadHash: SigV4Request.emptyPayloadHash)
        #expect(
            authorization(request)
                == credential + ", SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func getObjectSteps() {
        let request = SigV4Request(
            method: "GET", host: host, path: "/test.txt", headers: [("Range", "bytes=0-9")],
            payloadHash: SigV4Request.emptyPayloadHash)
        let headers = [
            ("host", host), ("range", "bytes=0-9"), ("x-amz-content-sha256", SigV4Request.emptyPayloadHash),
            ("x-amz-date", "20130524T000000Z"),
        ]
        let canonical = signer.canonicalRequest(request, headers: headers)
        #expect(
            canonical == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        #expect(
            signer.stringToSign(canonicalRequest: canonical, amzDate: "20130524T000000Z") == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
                """)
        #expect(
            lowerHex(signer.signingKey(day: "20130524").withUnsafeBytes { Array($0) })
                == "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378")
    }

    @Test func putObject() {
        let body = Array("Welcome to Amazon S3.".utf8)
        let request = SigV4Request(
            method: "PUT", host: host, path: "/test$file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payloadHash: SigV4Request.payloadHash(of: body))
        #expect(request.payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(request.encodedPath == "/test%24file.text")
        #expect(
            authorization(request)
                == credential + ", SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func getBucketLifecycle() {
        let request = SigV4Request(
            method: "GET", host: host, path: "/", query: [("lifecycle", "")], payloadHash: SigV4Request.emptyPayloadHash
        )
        #expect(request.encodedPathAndQuery == "/?lifecycle=")
        #expect(
            authorization(request)
                == credential + ", SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func listObjects() {
        let request = SigV4Request(
            method: "GET", host: host, path: "/", query: [("prefix", "J"), ("max-keys", "2")],
            payloadHash: SigV4Request.emptyPayloadHash)
        #expect(request.encodedQuery == "max-keys=2&prefix=J")
        #expect(
            authorization(request)
                == credential + ", SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }
}

/// One request of AWS's SigV4 test suite (aws-sig-v4-test-suite): the `.req` file's headers as
/// given, and the signature from its `.authz` file.
struct SuiteVector: Sendable, CustomTestStringConvertible {
    let name: String
    var method = "GET"
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = [
        ("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"),
    ]
    var body = ""
    let signedHeaders: String
    let signature: String
    var testDescription: String { name }
}

/// The test suite signs only the headers each request lists (no `x-amz-content-sha256`, which is
/// S3's addition), so these vectors go through the internal `authorization` step, which takes the
/// exact header set.
@Suite struct AWSTestSuiteVectors {
    static let token =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
    static let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    static let base: [(name: String, value: String)] = [
        ("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"),
    ]

    static let vectors: [SuiteVector] = [
        SuiteVector(
            name: "get-vanilla", signedHeaders: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        SuiteVector(
            name: "get-vanilla-query-order-key-case", query: [("Param2", "value2"), ("Param1", "value1")],
            signedHeaders: "host;x-amz-date",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        SuiteVector(
            name: "get-vanilla-query-unreserved", query: [(unreserved, unreserved)], signedHeaders: "host;x-amz-date",
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        SuiteVector(
            name: "get-header-value-trim",
            headers: base + [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            signedHeaders: "host;my-header1;my-header2;x-amz-date",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        SuiteVector(
            name: "get-header-key-duplicate",
            headers: [
                ("Host", "example.amazonaws.com"), ("My-Header1", "value2"), ("My-Header1", "value2"),
                ("My-Header1", "value1"), ("X-Amz-Date", "20150830T123600Z"),
            ], signedHeaders: "host;my-header1;x-amz-date",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        SuiteVector(
            name: "post-vanilla", method: "POST", signedHeaders: "host;x-amz-date",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        SuiteVector(
            name: "post-x-www-form-urlencoded", method: "POST",
            headers: [("Content-Type", "application/x-www-form-urlencoded")] + base, body: "Param1=value1",
            signedHeaders: "content-type;host;x-amz-date",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
        SuiteVector(
            name: "post-sts-header-before", method: "POST", headers: base + [("X-Amz-Security-Token", token)],
            signedHeaders: "host;x-amz-date;x-amz-security-token",
            signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
    ]

    let signer = SigV4Signer(
        credentials: SigV4Credentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: token
        ),
        region: "us-east-1", service: "service")

    @Test(arguments: vectors) func authorization(_ vector: SuiteVector) {
        let request = SigV4Request(
            method: vector.method, host: "example.amazonaws.com", path: "/", query: vector.query,
            payloadHash: SigV4Request.payloadHash(of: Array(vector.body.utf8)))
        #expect(
            signer.authorization(request, headers: vector.headers, amzDate: "20150830T123600Z")
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)")
    }

    @Test func canonicalFormsOfTrimmedAndDuplicateHeaders() {
        let trimmed = signer.canonicalHeaders(
            Self.base + [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")])
        #expect(
            trimmed.block
                == "host:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n")
        let duplicate = signer.canonicalHeaders(
            [
                ("My-Header1", "value2"), ("Host", "example.amazonaws.com"), ("my-header1", "value2"),
                ("MY-HEADER1", "value1"),
            ])
        #expect(duplicate.block == "host:example.amazonaws.com\nmy-header1:value2,value2,value1\n")
        #expect(duplicate.names == "host;my-header1")
    }

    @Test func getVanillaStringToSign() {
        let request = SigV4Request(
            method: "GET", host: "example.amazonaws.com", path: "/", payloadHash: SigV4Request.emptyPayloadHash)
        let canonical = signer.canonicalRequest(request, headers: Self.base)
        #expect(
            canonical
                == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                + SigV4Request.emptyPayloadHash)
        #expect(
            signer.stringToSign(canonicalRequest: canonical, amzDate: "20150830T123600Z")
                == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
    }

    /// The derived-key example of AWS's "Calculate the signature" page (IAM, 2012-02-15).
    @Test func documentedSigningKey() {
        let iam = SigV4Signer(
            credentials: SigV4Credentials(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "iam")
        #expect(
            lowerHex(iam.signingKey(day: "20120215").withUnsafeBytes { Array($0) })
                == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }
}

@Suite struct SignedHeaderOutput {
    let request = SigV4Request(
        method: "PUT", host: "127.0.0.1:9000", path: "/bucket/key", headers: [("Content-Type", "application/json")],
        payloadHash: SigV4Request.unsignedPayload)
    let date = utcDate(2026, 3, 1, 9, 5, 7)

    @Test func addsDateContentHashAndAuthorization() {
        let signer = SigV4Signer(
            credentials: SigV4Credentials(accessKeyID: "AK", secretAccessKey: "SK"), region: "us-east-1")
        let headers = signer.sign(request, date: date)
        #expect(headers.map(\.name) == ["x-amz-date", "x-amz-content-sha256", "Authorization"])
        #expect(headers[0].value == "20260301T090507Z")
        #expect(headers[1].value == "UNSIGNED-PAYLOAD")
        #expect(headers[2].value.contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, "))
    }

    @Test func signsTheSessionToken() {
        let signer = SigV4Signer(
            credentials: SigV4Credentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "TOKEN"),
            region: "us-east-1")
        let headers = signer.sign(request, date: date)
        #expect(headers.map(\.name) == ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "Authorization"])
        #expect(headers[2].value == "TOKEN")
        #expect(
            headers[3].value.contains(
                "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "))
    }

    @Test func callerCopiesOfSignerHeadersAreIgnored() {
        let signer = SigV4Signer(
            credentials: SigV4Credentials(accessKeyID: "AK", secretAccessKey: "SK"), region: "us-east-1")
        var meddled = request
        meddled.headers += [
            ("Host", "elsewhere"), ("X-Amz-Date", "19990101T000000Z"), ("x-amz-content-sha256", "0"),
            ("Authorization", "x"), ("X-Amz-Security-Token", "stale"),
        ]
        #expect(signer.sign(meddled, date: date).map(\.value) == signer.sign(request, date: date).map(\.value))
    }

    @Test func printingNeverShowsTheSecret() {
        let signer = SigV4Signer(
            credentials: SigV4Credentials(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI", sessionToken: "FQoGZXIv"),
            region: "us-east-1")
        var dumped = ""
        dump(signer, to: &dumped)
        for text in [signer.description, String(reflecting: signer), "\(signer)", dumped] {
            #expect(text.contains("AKIDEXAMPLE"))
            #expect(!text.contains("wJalrXUtnFEMI"))
            #expect(!text.contains("FQoGZXIv"))
        }
    }
}
