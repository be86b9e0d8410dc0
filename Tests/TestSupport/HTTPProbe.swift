import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Raw HTTP exchanges with servers on loopback, and free ports for them: the one helper the
/// sidecar's endpoints, Prometheus and the S3 test servers are probed with. NIO sockets, so a probe
/// never blocks a thread of the cooperative pool (see `offThePool`); no URLSession, so no proxy
/// settings, caches or connection pools get in the way.
public enum HTTPProbe {
    public struct Response: Sendable {
        public let status: Int
        public let headers: [(name: String, value: String)]
        public let body: String

        /// The first header called `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// Not an HTTP response (no status line, or no end of the head), or no free port.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The response to `method path`, or nil when nothing answers within `timeout`. HTTP/1.1 with
    /// `Connection: close`: Hummingbird (the sidecar's server) keeps an HTTP/1.0 connection open
    /// after answering, so a probe reading to the end would wait for its own timeout.
    public static func get(
        port: Int, path: String, method: String = "GET", host: String = "127.0.0.1", timeout: Duration = .seconds(2)
    ) async -> Response? {
        let request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        return try? parse(await exchange(host: host, port: port, send: request, timeout: timeout))
    }

    /// Polls until `condition` holds for the response (bounded); returns the last response.
    public static func waitFor(
        port: Int, path: String, within limit: Duration, _ condition: (Response?) -> Bool
    ) async throws -> Response? {
        let deadline = ContinuousClock.now + limit
        var last = await get(port: port, path: path)
        while !condition(last) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            last = await get(port: port, path: path)
        }
        return last
    }

    /// Connects, writes `send` as it is, and reads until the server closes (or `timeout` passes).
    public static func exchange(
        host: String = "127.0.0.1", port: Int, send: String, timeout: Duration = .seconds(5)
    ) async throws -> [UInt8] {
        try await withTimeout(timeout, "HTTP exchange with \(host) port \(port)") {
            try await connect(host: host, port: port).executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: send))
                var received: [UInt8] = []
                for try await buffer in inbound { received += buffer.readableBytesView }
                return received
            }
        }
    }

    /// A NIO client channel to `host` (a literal address: no name lookup) and `port`.
    public static func connect(host: String = "127.0.0.1", port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(2))
            .connect(to: try SocketAddress(ipAddress: host, port: port)) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` (readiness of a TLS server,
    /// which a plain-HTTP probe cannot ask).
    public static func accepts(port: Int) async -> Bool {
        do {
            try await connect(port: port).executeThenClose { _, _ in }
            return true
        } catch {
            return false
        }
    }

    /// Splits a response into status, headers and body.
    public static func parse(_ bytes: [UInt8]) throws(Failure) -> Response {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no end of head in \(text.prefix(200))") }
        var lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines.removeFirst().split(separator: " ")
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/"), let status = Int(statusParts[1]) else {
            throw Failure(description: "no status line in \(text.prefix(200))")
        }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    /// `count` distinct loopback ports that were free a moment ago, for servers that must be told
    /// a port (Prometheus, moto, juicefs). They come from below Linux's ephemeral range
    /// (32768-60999) and from a counter, never from `bind(:0)`: a port the kernel handed out as
    /// free was also free for the next outgoing connection to take before the server bound it
    /// ("juicefs: Specified port is already in use", once in ten full runs). The sockets are
    /// close-on-exec, so a child started meanwhile by a parallel test does not inherit them.
    public static func freePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { _ = close($0) } }
        return try (0..<count).map { _ in
            for _ in 0..<candidatePorts.count {
                let port = nextCandidate.withLock { next in
                    defer { next = (next + 1) % candidatePorts.count }
                    return candidatePorts.lowerBound + next
                }
                // Taken (by another test process, or anything else on the machine): try the next.
                guard let (fd, _) = try? boundLoopbackSocket(port: port, listening: false) else { continue }
                sockets.append(fd)
                return port
            }
            throw Failure(description: "no free loopback port in \(candidatePorts)")
        }
    }

    static let candidatePorts = 20_000..<32_000
    /// Where this process starts in `candidatePorts`: apart from other test processes' starts.
    private static let nextCandidate = Mutex(Int(getpid()) &* 7_919 % candidatePorts.count)

    /// A close-on-exec TCP socket bound to 127.0.0.1 on a free port, listening if asked.
    static func boundLoopbackSocket(port: Int = 0, listening: Bool) throws -> (fd: Int32, port: Int) {
        #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && (!listening || listen(fd, 1) == 0) && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            let error = Failure(description: "bind 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
            _ = close(fd)
            throw error
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// One free loopback port (see `freePorts`).
    public static func freePort() throws -> Int { try freePorts(1)[0] }
}

/// A loopback port with a listener on it, so that a server asked to bind it finds it taken.
public struct HeldPort: Sendable {
    private let fd: Int32
    public let port: Int

    public init() throws { (fd, port) = try HTTPProbe.boundLoopbackSocket(listening: true) }

    public func release() { _ = close(fd) }
}
