import NIOCore

/// The error responses that `.status` faults send, shaped like S3's own so an S3 client parses the code,
/// message and request id exactly as it would from the real service.
enum S3ErrorResponse {
    /// Reason phrases for the statuses S3 tests usually inject; any other status gets a generic one.
    private static let reasons: [Int: String] = [
        400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 412: "Precondition Failed",
        416: "Range Not Satisfiable", 429: "Too Many Requests", 500: "Internal Server Error",
        501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
    ]

    /// The whole response: status line, headers (`Connection: close`, since the proxy closes afterwards) and,
    /// unless the request was a HEAD (whose response must not carry a body), the XML error document.
    static func bytes(status: Int, code: String, requestID: String, bodyAllowed: Bool) -> ByteBuffer {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>\(code)</Code><Message>Injected by FaultProxy</Message>\
            <RequestId>\(requestID)</RequestId></Error>
            """
        var response = ByteBuffer()
        response.writeString("HTTP/1.1 \(status) \(reasons[status] ?? "Injected Fault")\r\n")
        response.writeString("Content-Type: application/xml\r\n")
        response.writeString("Content-Length: \(xml.utf8.count)\r\n")
        response.writeString("x-amz-request-id: \(requestID)\r\n")
        response.writeString("Connection: close\r\n\r\n")
        if bodyAllowed {
            response.writeString(xml)
        }
        return response
    }
}
