/// A failure the proxy injects into one request/response exchange, to prove a client survives it.
/// Faults that break the exchange also close the client connection afterwards, as a broken server or network
/// would; the client's pool must open a new one. Other connections and later requests are untouched.
public enum Fault: Sendable, Equatable {
    /// Answers with this status and an S3-style XML error body without forwarding the request, then closes
    /// the connection once the request body has been read (or after a second, if the client stops sending).
    /// Models S3 refusing a request: `.status(503, code: "SlowDown")`, `.status(500)`.
    case status(Int, code: String = "InternalError")
    /// Forwards the first N bytes of the request (head and body as on the wire), then resets the client
    /// connection (RST via SO_LINGER 0) and closes the upstream one. When the request is N bytes or shorter it is
    /// forwarded whole and the reset comes before any response: the server may have acted on a request the
    /// client saw fail.
    case resetAfterRequestBytes(Int)
    /// Reads and discards the request (the server never sees it) and answers nothing for this long, then closes
    /// the connection: the client's own timeout should fire first.
    case stall(seconds: Double)
    /// Forwards the request, relays the first N bytes of what the server sends back from then on (status line and
    /// headers included), then closes both connections: the client gets a short response.
    case truncateResponse(afterBytes: Int)
    /// Forwards the request, relays the first N bytes of the response, then relays nothing more and stops
    /// reading from the server (which then blocks on a full socket), keeping both connections open until the
    /// client gives up and closes its side: a server stuck mid-response.
    case stallResponse(afterBytes: Int)
    /// Forwards the request with the payload byte at this offset inverted (XOR 0xFF), so the server receives
    /// a body whose checksum or payload hash no longer matches. Offsets count payload bytes, so for a chunked body
    /// the chunk framing is skipped; an offset past the end changes nothing. The connection stays usable.
    case corruptRequestBody(atOffset: Int)
}

/// Which requests a queued fault may hit; the first queued fault whose filter matches a request is used.
public enum RequestFilter: Sendable, Equatable {
    case any
    /// The HTTP method, compared case-insensitively: `.method("PUT")`.
    case method(String)
    /// A substring of the request target (path and query as sent): `.pathContains("uploadId=")`.
    case pathContains(String)
    case methodAndPathContains(String, String)

    /// Whether a request with this method and target is one the filter selects.
    public func matches(method: String, pathAndQuery: String) -> Bool {
        switch self {
        case .any:
            return true
        case .method(let wanted):
            return method.uppercased() == wanted.uppercased()
        case .pathContains(let fragment):
            return pathAndQuery.contains(fragment)
        case .methodAndPathContains(let wanted, let fragment):
            return method.uppercased() == wanted.uppercased() && pathAndQuery.contains(fragment)
        }
    }
}

extension FaultProxy {
    /// One request as the proxy saw it, in arrival order.
    public struct SeenRequest: Sendable, Equatable {
        public let method: String
        /// The request target as sent: path plus query, e.g. `/bucket/key?partNumber=2&uploadId=x`.
        public let pathAndQuery: String
        /// The fault this request drew from the queue, if any.
        public let fault: Fault?
        /// Payload bytes of this request that reached the server (see `Stats.requestBodyBytesForwarded`).
        public internal(set) var bodyBytesForwarded: Int64
        /// Whether the client has closed the connection this request came on.
        public internal(set) var connectionClosedByClient = false
    }

    /// What went through the proxy since it started or since the last `resetCounters()`.
    public struct Stats: Sendable, Equatable {
        /// Client connections accepted: with keep-alive working, a run of sequential requests needs only one.
        public internal(set) var connectionsAccepted = 0
        /// Client connections the client closed (those the proxy closed itself are not counted).
        public internal(set) var connectionsClosedByClient = 0
        /// Request payload bytes that reached the server. Counts what follows each request head: the declared
        /// Content-Length bytes, or for a chunked body the chunk data without its framing. Bodies of requests that
        /// a `.status` or `.stall` fault swallowed are not counted; a reset counts only what got through.
        public internal(set) var requestBodyBytesForwarded: Int64 = 0
        /// Queued faults that hit a request (each use of a fault queued with `count: 3` counts once).
        public internal(set) var faultsApplied = 0
        /// Fault uses still queued and waiting for a matching request.
        public internal(set) var faultsPending = 0
        /// Every request seen, in arrival order.
        public internal(set) var seen: [SeenRequest] = []

        /// The number of requests seen, faulted or not.
        public var requests: Int { seen.count }

        /// Requests with this method (any when nil) whose target starts with `pathPrefix`.
        public func requestsSeen(method: String? = nil, pathPrefix: String = "") -> [SeenRequest] {
            seen.filter { request in
                (method.map { request.method.uppercased() == $0.uppercased() } ?? true)
                    && request.pathAndQuery.hasPrefix(pathPrefix)
            }
        }

        /// Payload bytes forwarded for the requests that `requestsSeen(method:pathPrefix:)` selects.
        public func bodyBytesForwarded(method: String? = nil, pathPrefix: String = "") -> Int64 {
            requestsSeen(method: method, pathPrefix: pathPrefix).reduce(0) { $0 + $1.bodyBytesForwarded }
        }
    }
}
