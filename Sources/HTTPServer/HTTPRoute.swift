/// An extra endpoint served beside the probes and /metrics (the query API), behind the same
/// `--http.config` auth, headers and request logging. Kept free of Hummingbird's types so the
/// target that serves it need not know the HTTP server.
public struct HTTPRoute: Sendable {
    public struct Request: Sendable {
        public let method: String
        public let path: String
        /// The raw (still percent-encoded) query string, without "?".
        public let query: String
        public let contentType: String?
        /// The request body (for a form POST), at most `HTTPRoute.bodyLimit` bytes.
        public let body: [UInt8]

        public init(method: String, path: String, query: String, contentType: String? = nil, body: [UInt8] = []) {
            self.method = method
            self.path = path
            self.query = query
            self.contentType = contentType
            self.body = body
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// The exact paths served.
    public let paths: Set<String>
    /// Path prefixes served too (the status page's `/blocks/<ULID>`).
    public let pathPrefixes: [String]
    public let handle: @Sendable (Request) async -> Response

    public init(
        paths: Set<String>, pathPrefixes: [String] = [], handle: @escaping @Sendable (Request) async -> Response
    ) {
        self.paths = paths
        self.pathPrefixes = pathPrefixes
        self.handle = handle
    }

    public func serves(_ path: String) -> Bool {
        paths.contains(path) || pathPrefixes.contains { path.hasPrefix($0) }
    }

    /// The largest request body read (Go's `ParseForm` reads at most 10 MB).
    public static let bodyLimit = 10 << 20
}
