import Foundation
import NIOHTTP1

/// An error answer from GCS: the status, the JSON API's reason and message, and the upload id
/// Google quotes in support cases. Built from the response only, so it never holds a secret.
struct GCSServiceError: Error, Sendable {
    let status: Int
    /// The first `errors[].reason` (`notFound`, `forbidden`, `rateLimitExceeded`, ...), or `HTTP<status>`.
    let reason: String
    let message: String
    let requestID: String?

    /// Parses `{"error": {"code": 403, "message": "...", "errors": [{"reason": "forbidden"}]}}`; a body
    /// that is not one (a proxy's page) still gives an error with the HTTP status as its reason.
    init(status: Int, body: [UInt8], headers: HTTPHeaders) {
        let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        let error = object?["error"] as? [String: Any]
        let first = (error?["errors"] as? [[String: Any]])?.first
        self.status = status
        self.reason = first?["reason"] as? String ?? (error?["status"] as? String) ?? "HTTP\(status)"
        let text = error?["message"] as? String ?? String(decoding: body.prefix(200), as: UTF8.self)
        self.message = text.isEmpty ? "no details" : text
        self.requestID = headers.first(name: "x-guploader-uploadid")
    }

    /// Throttling and server trouble; everything else is the same on the next try.
    var isRetryable: Bool { status >= 500 || status == 429 || status == 408 }

    /// What the operator should change, for errors no retry fixes.
    var hint: String? {
        switch status {
        case 401: return "the credentials were refused; check config.service_account or GOOGLE_APPLICATION_CREDENTIALS"
        case 403:
            return
                "the service account lacks permission on this bucket; grant it roles/storage.objectAdmin (or storage.objects.*)"
        default: return nil
        }
    }

    /// Errors about configuration: the ship run stops with them instead of marking blocks failed.
    var isConfigurationError: Bool { hint != nil }

    var summary: String {
        var text = "\(status) \(reason): \(message)"
        if let requestID, !requestID.isEmpty { text += " (upload id \(requestID))" }
        if let hint { text += "; \(hint)" }
        return text
    }
}
