import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The upstream for the proxy tests: an HTTP/1.1 keep-alive server built on NIOHTTP1, so it parses requests
/// independently of the proxy. It answers every request with the body it received, except `GET /bytes/N`, which
/// gets N pattern bytes; `X-Request-Index` numbers the requests on each connection, so a test can tell whether
/// its requests shared one upstream connection.
final class EchoUpstream: Sendable {
    let port: Int
    private let listener: any Channel

    private init(port: Int, listener: any Channel) {
        self.port = port
        self.listener = listener
    }

    static func start() async throws -> EchoUpstream {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return EchoUpstream(port: listener.localAddress!.port!, listener: listener)
    }

    /// Stops listening; connections end when the proxy closes its side.
    func stop() {
        listener.close(promise: nil)
    }
}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var requestsOnConnection = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body.clear()
        case .body(var bytes):
            body.writeBuffer(&bytes)
        case .end:
            guard let head else { return }
            var reply = body
            if head.method == .GET, head.uri.hasPrefix("/bytes/"), let count = Int(head.uri.dropFirst(7)) {
                reply = ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) })
            }
            let headers: HTTPHeaders = [
                "Content-Length": "\(reply.readableBytes)", "X-Request-Index": "\(requestsOnConnection)",
            ]
            requestsOnConnection += 1
            let responseHead = HTTPResponseHead(version: head.version, status: .ok, headers: headers)
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(reply))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

/// An HTTP/1.1 client over exactly one blocking TCP socket, so a test decides which requests share a connection
/// and sees resets and early closes exactly as they happen. Every receive times out, so no test can hang on it,
/// and every send and receive runs off the cooperative pool (`offThePool`), so none holds one of its threads.
final class RawHTTPConnection: Sendable {
    enum Failure: Error, Equatable {
        case reset
        case timedOut
        /// The connection ended before the response was complete.
        case closedEarly
        case system(String, Int32)
    }

    struct Response: Sendable {
        var status: Int
        /// Header names lowercased.
        var headers: [String: String]
        var body: [UInt8]
    }

    private let socketFD: Int32
    /// Bytes received but not yet consumed by a response; held for the whole of each exchange.
    private let received = Mutex<[UInt8]>([])
    private let closed = Mutex(false)

    init(port: Int, receiveTimeoutSeconds: Int = 3) throws {
        #if canImport(Glibc)
        // Close-on-exec: a server a parallel test starts meanwhile must not inherit the socket (and
        // keep the connection open after this side closes it).
        socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        socketFD = socket(AF_INET, SOCK_STREAM, 0)
        var one: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        guard socketFD >= 0 else { throw Failure.system("socket", errno) }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var noDelay: Int32 = 1  // so one-byte-at-a-time sends really arrive as separate segments
        setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = Failure.system("connect", errno)
            Glibc.close(socketFD)
            throw error
        }
    }

    deinit {
        close()
    }

    /// Closes the socket now (a deinit may come late: a thread that ran an exchange can still hold
    /// a reference). Safe to call more than once.
    func close() {
        closed.withLock { closed in
            if !closed { _ = Glibc.close(socketFD) }
            closed = true
        }
    }

    /// The bytes of a request; with `chunkSize` the body goes out with `Transfer-Encoding: chunked`.
    static func requestBytes(_ method: String, _ path: String, body: [UInt8]? = nil, chunkSize: Int? = nil) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        guard let body else { return Array((head + "\r\n").utf8) }
        guard let chunkSize else { return Array((head + "Content-Length: \(body.count)\r\n\r\n").utf8) + body }
        head += "Transfer-Encoding: chunked\r\n\r\n"
        var bytes = Array(head.utf8)
        for start in stride(from: 0, to: body.count, by: chunkSize) {
            let chunk = body[start..<min(start + chunkSize, body.count)]
            bytes += Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + [13, 10]
        }
        return bytes + Array("0\r\n\r\n".utf8)
    }

    func request(
        _ method: String, _ path: String, body: [UInt8]? = nil, chunkSize: Int? = nil, oneByteAtATime: Bool = false
    ) async throws -> Response {
        let bytes = Self.requestBytes(method, path, body: body, chunkSize: chunkSize)
        return try await offThePool { [self] in
            try received.withLock { buffer in
                if oneByteAtATime {
                    for byte in bytes { try sendNow([byte]) }
                } else {
                    try sendNow(bytes)
                }
                return try readResponseNow(&buffer)
            }
        }
    }

    func send(_ bytes: [UInt8]) async throws {
        try await offThePool { [self] in try sendNow(bytes) }
    }

    /// Reads one response whose body length is given by Content-Length (the echo upstream and S3 errors send one).
    func readResponse() async throws -> Response {
        try await offThePool { [self] in try received.withLock { try readResponseNow(&$0) } }
    }

    /// Everything not yet consumed, up to the peer's orderly close.
    func readUntilClosed() async throws -> [UInt8] {
        try await readUntilClosedTimed().bytes
    }

    /// `readUntilClosed`, and how long the socket took to close, timed on the reading thread (not
    /// including the wait for a pool thread afterwards, which measures the load, not the peer).
    func readUntilClosedTimed() async throws -> (bytes: [UInt8], waited: Duration) {
        try await offThePool { [self] in
            try received.withLock { buffer in
                let started = ContinuousClock.now
                while try receiveMore(&buffer) {}
                defer { buffer = [] }
                return (buffer, ContinuousClock.now - started)
            }
        }
    }

    private func sendNow(_ bytes: [UInt8]) throws {
        #if canImport(Glibc)
        let flags = Int32(MSG_NOSIGNAL)  // a reset peer must fail the send, not kill the test process with SIGPIPE
        #else
        let flags: Int32 = 0
        #endif
        var sent = 0
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes { Glibc.send(socketFD, $0.baseAddress, $0.count, flags) }
            guard result > 0 else { throw Self.failure("send") }
            sent += result
        }
    }

    private func readResponseNow(_ received: inout [UInt8]) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            headEnd = received.firstRange(of: separator)?.upperBound
            if headEnd == nil, try !receiveMore(&received) { throw Failure.closedEarly }
        }
        let headText = String(decoding: received[..<headEnd!], as: UTF8.self)
        let lines = headText.split(separator: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        let bodyLength = Int(headers["content-length"] ?? "0") ?? 0
        while received.count < headEnd! + bodyLength {
            if try !receiveMore(&received) { throw Failure.closedEarly }
        }
        let body = Array(received[headEnd!..<(headEnd! + bodyLength)])
        received.removeFirst(headEnd! + bodyLength)
        return Response(status: status, headers: headers, body: body)
    }

    /// Appends what the socket has to `received`; false once the peer has closed its side.
    private func receiveMore(_ received: inout [UInt8]) throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw Self.failure("recv") }
        received += chunk[..<count]
        return count > 0
    }

    private static func failure(_ call: String) -> Failure {
        switch errno {
        case ECONNRESET, EPIPE: return .reset
        case EAGAIN, EWOULDBLOCK: return .timedOut
        default: return .system(call, errno)
        }
    }
}
