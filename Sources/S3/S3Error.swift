import ObjectStorage
import SkiffCore

/// An error answer from an S3 server: the status, S3's error code and message, and the request
/// id an operator quotes to their provider. Built from the response only, so it never holds a secret.
struct S3ServiceError: Error, Sendable {
    let status: Int
    let code: String
    let message: String
    let requestID: String?
    /// The region the server says the bucket is in (AuthorizationHeaderMalformed, redirects).
    let region: String?

    /// Parses an S3 `<Error>` document; a body that is not one (a proxy's HTML page) still gives an
    /// error with the HTTP status as its code.
    init(status: Int, body: [UInt8], headers requestID: String?) {
        let root = S3XMLNode.parse(body)
        let document = root?.name == "Error" ? root : nil
        self.status = status
        self.code = document?.value("Code") ?? "HTTP\(status)"
        self.message = document?.value("Message") ?? String(decoding: body.prefix(200), as: UTF8.self)
        self.requestID = document?.value("RequestId") ?? requestID
        self.region = document?.value("Region")
    }

    /// Codes that say "try again": throttling, server trouble, and a payload that arrived
    /// different from its signed hash (changed in flight; the local bytes are checked separately).
    static let retryableCodes: Set<String> = [
        "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling", "ThrottlingException",
        "RequestThrottled", "XAmzContentSHA256Mismatch", "BadDigest", "IncompleteBody", "OperationAborted",
    ]

    var isRetryable: Bool { status >= 500 || status == 429 || Self.retryableCodes.contains(code) }

    /// What the operator should change, for errors that no retry fixes.
    var hint: String? {
        switch code {
        case "SignatureDoesNotMatch": return "check config.secret_key (or AWS_SECRET_ACCESS_KEY) and the clock"
        case "InvalidAccessKeyId": return "check config.access_key (or AWS_ACCESS_KEY_ID)"
        case "AccessDenied":
            return "the credentials lack permission for this bucket; grant s3:PutObject, GetObject, ListBucket, DeleteObject"
        case "NoSuchBucket": return "create the bucket or fix config.bucket"
        case "InvalidBucketName": return "fix config.bucket"
        case "ExpiredToken", "InvalidToken", "TokenRefreshRequired": return "refresh config.session_token (or AWS_SESSION_TOKEN)"
        case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
            return region.map { "the bucket is in region \($0); set config.region: \($0)" }
                ?? "check config.region and config.endpoint"
        case "RequestTimeTooSkewed": return "this machine's clock is off; fix it with NTP"
        default: return nil
        }
    }

    /// Errors about configuration: the ship run stops with them instead of marking blocks failed.
    var isConfigurationError: Bool { hint != nil && code != "RequestTimeTooSkewed" }

    var summary: String {
        var text = "\(status) \(code): \(message)"
        if let requestID, !requestID.isEmpty { text += " (request id \(requestID))" }
        if let hint { text += "; \(hint)" }
        return text
    }
}
