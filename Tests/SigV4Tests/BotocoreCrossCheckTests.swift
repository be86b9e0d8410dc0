import Foundation
import Testing

@testable import SigV4

/// A request signed by botocore 1.43's full `S3SigV4Auth.add_auth` (as a boto3 client signs),
/// with random keys and a frozen clock. The request went to botocore as
/// `AWSRequest(method, url="<scheme>://<host>" + urllib.parse.quote(path, safe="/~"), data=body,
/// params=query, headers=headers)`, with `Config(s3={"payload_signing_enabled": False})` for the
/// unsigned case, so botocore encoded and sorted everything with its own code, not ours.
struct BotocoreCase: Sendable, CustomTestStringConvertible {
    let name: String
    let accessKeyID: String
    let secret: String
    var token: String? = nil
    let region: String
    let method: String
    let host: String
    let path: String
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = []
    var body = ""
    var unsigned = false
    let date: Date
    /// botocore's X-Amz-Date, X-Amz-Content-SHA256, X-Amz-Security-Token (if any) and Authorization.
    let expected: [String]
    var testDescription: String { name }
}

@Suite struct BotocoreCrossCheck {
    static let cases: [BotocoreCase] = [
        BotocoreCase(
            name: "multipart part upload", accessKeyID: "AKIA2W0WULMGSYK4VD3O",
            secret: "vuyw/fVG1VYU3AaX5KEcscRm6BCi/ZgkbFSqcMmi", region: "eu-central-1", method: "PUT",
            host: "thanos-blocks.s3.eu-central-1.amazonaws.com", path: "/01DGF9NAD75VJJ9788C1GKCSJE/chunks/000001",
            query: [("partNumber", "3"), ("uploadId", "v//J8LYCI7gbmkOK0eO10joWyOv7DRSq2kWraw6+")],
            headers: [("Content-Type", "application/octet-stream")], body: "part three of the chunk file",
            date: utcDate(2026, 3, 11, 8, 59, 59),
            expected: [
                "20260311T085959Z", "eb366260d4d52c80cdf105e41f61f4b46bab54aecbe421a65401070231d70b84",
                "AWS4-HMAC-SHA256 Credential=AKIA2W0WULMGSYK4VD3O/20260311/eu-central-1/s3/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, "
                    + "Signature=5cc685429b2349c859eb848e642628dcd0006562a3d38b3765a4462458146c72",
            ]),
        BotocoreCase(
            name: "path-style key with spaces, session token", accessKeyID: "AKIAHSW9CC046C8U7NLC",
            secret: "5Q7z6eVUBT18MeE80vTlOYU6ega5GfwDOVUMvif7",
            token: "IQoJb3JpZ2luX2VjEx+aFgXJFELFxCuJ/YaiEpbdWPWEcAuVIUqsVentA", region: "us-east-1", method: "GET",
            host: "127.0.0.1:9000", path: "/bucket/dir/my key (1)+=&$@.txt", headers: [("Range", "bytes=100-199")],
            date: utcDate(2026, 11, 20, 0, 0, 1),
            expected: [
                "20261120T000001Z", SigV4Request.emptyPayloadHash,
                "IQoJb3JpZ2luX2VjEx+aFgXJFELFxCuJ/YaiEpbdWPWEcAuVIUqsVentA",
                "AWS4-HMAC-SHA256 Credential=AKIAHSW9CC046C8U7NLC/20261120/us-east-1/s3/aws4_request, "
                    + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
                    + "Signature=801905afb064ad87a01676d7d099457610cd2555ab666d101f886c6ab99ebe27",
            ]),
        BotocoreCase(
            name: "list objects v2 with delimiter and token", accessKeyID: "AKIA8S5DWI6JFANJSZQX",
            secret: "BIjWLCL3rUOXc7/ecni9qs10yze0kry9vDi6/MFm", region: "us-west-2", method: "GET",
            host: "mybucket.s3.us-west-2.amazonaws.com", path: "/",
            query: [
                ("list-type", "2"), ("prefix", "a b/ü~*'"), ("delimiter", "/"),
                ("continuation-token", "jR5YxE6zYbG2OH9ThFHMbB4+kFiKcV+/"), ("max-keys", "1000"),
                ("encoding-type", "url"),
            ], date: utcDate(2025, 12, 31, 23, 59, 59),
            expected: [
                "20251231T235959Z", SigV4Request.emptyPayloadHash,
                "AWS4-HMAC-SHA256 Credential=AKIA8S5DWI6JFANJSZQX/20251231/us-west-2/s3/aws4_request, "
                    + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                    + "Signature=95e062712cde6553920f7db3c743c1fec7c3a1607c66b4d26cf501cd4707d1f4",
            ]),
        BotocoreCase(
            name: "initiate multipart, unsigned payload, untidy header values", accessKeyID: "AKIAIP9BVNEH94QU4GZK",
            secret: "pdA+S1cSYk/WE9gNJ4RZKUapLUbhI0MhIpD0v9T/", region: "ap-southeast-2", method: "POST",
            host: "s3.ap-southeast-2.amazonaws.com", path: "/thanos/01DGF9NAD75VJJ9788C1GKCSJE/index",
            query: [("uploads", "")],
            headers: [("Content-Type", "  application/octet-stream "), ("x-amz-meta-Source", "skiff   sidecar\t v1")],
            unsigned: true, date: utcDate(2024, 2, 29, 12, 34, 56),
            expected: [
                "20240229T123456Z", "UNSIGNED-PAYLOAD",
                "AWS4-HMAC-SHA256 Credential=AKIAIP9BVNEH94QU4GZK/20240229/ap-southeast-2/s3/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-source, "
                    + "Signature=17ac86c02133906fa7b948fd23bb3db780f43f76ed57ae6025e0ce40cad89876",
            ]),
        BotocoreCase(
            name: "delete unicode key with version, session token", accessKeyID: "ASIAUEB1QNM0MUKKQFCE",
            secret: "iTxAm+5N7zZgQ/683nUWxmoXD8HREAzrwQgnk1i9",
            token: "FwoGZXIvYXdzqt7siZ8y67fSf9QFjn8I=NQLo7kbVceTUvGu5P+h/Zy8jTzylp/9f9wwEafr", region: "eu-west-1",
            method: "DELETE", host: "minio.internal:9443", path: "/bucket/日本語/ファイル~name é.txt",
            query: [("versionId", "3/L4kqtJl40Nr8X8gdRQBpUMLUo")], date: utcDate(2000, 3, 1),
            expected: [
                "20000301T000000Z", SigV4Request.emptyPayloadHash,
                "FwoGZXIvYXdzqt7siZ8y67fSf9QFjn8I=NQLo7kbVceTUvGu5P+h/Zy8jTzylp/9f9wwEafr",
                "AWS4-HMAC-SHA256 Credential=ASIAUEB1QNM0MUKKQFCE/20000301/eu-west-1/s3/aws4_request, "
                    + "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
                    + "Signature=50698b944d114285a1d350ebc2ac660b6ebd553923bcda4cf5f45916d4e09b69",
            ]),
    ]

    @Test(arguments: cases) func sameHeadersAsBotocore(_ testCase: BotocoreCase) {
        let signer = SigV4Signer(
            credentials: SigV4Credentials(
                accessKeyID: testCase.accessKeyID, secretAccessKey: testCase.secret, sessionToken: testCase.token),
            region: testCase.region)
        let request = SigV4Request(
            method: testCase.method, host: testCase.host, path: testCase.path, query: testCase.query,
            headers: testCase.headers,
            payloadHash: testCase.unsigned
                ? SigV4Request.unsignedPayload : SigV4Request.payloadHash(of: Array(testCase.body.utf8)))
        #expect(signer.sign(request, date: testCase.date).map(\.value) == testCase.expected)
    }
}
