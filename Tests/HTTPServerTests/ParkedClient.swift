#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A client that sends a request and then never reads: a slow scraper. With a tiny receive buffer
/// the server's response write stalls, so the request stays in flight for as long as this lives.
///
/// Plain POSIX calls on purpose: NIO clients read eagerly, which would drain the response. Only
/// `connect` and `send` block, and both finish at once on loopback.
final class ParkedClient {
    struct SocketError: Error {
        let call: String
        let errno: Int32
    }

    private var fd: Int32

    init(port: Int, request: String) throws {
        #if canImport(Glibc)
        // Close-on-exec: a server a parallel test starts meanwhile must not inherit the socket (and
        // keep the connection open after this side closes it).
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw SocketError(call: "socket", errno: errno) }
        var small: Int32 = 4096  // must be set before connect to shrink the advertised window
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // On these failures deinit closes the socket: it runs when a class init throws this late.
        guard connected == 0 else { throw SocketError(call: "connect", errno: errno) }
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw SocketError(call: "send", errno: errno) }
    }

    /// Whether the response has begun to arrive; peeks, so nothing is drained.
    var hasReceivedData: Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) > 0
    }

    /// Starts reading at last: drains the socket until the server closes it, without blocking a
    /// thread (non-blocking reads, short sleeps while nothing is there). Returns every byte.
    /// With `slowly`, reads at most 4 KiB per millisecond, a scraper slower than the server's
    /// writes, so the server's socket stays full to the end of the response.
    func drain(slowly: Bool = false) async throws -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: slowly ? 4096 : 65536)
        while true {
            let count = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                received += chunk.prefix(count)
                if slowly { try await Task.sleep(for: .milliseconds(1)) }
            } else if count == 0 {
                return received
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                try await Task.sleep(for: .milliseconds(1))
            } else {
                throw SocketError(call: "recv", errno: errno)
            }
        }
    }

    /// Closing is what finally lets the server's stalled write fail; idempotent.
    func close() {
        if fd >= 0 { _ = closeFD(fd) }
        fd = -1
    }

    deinit { close() }
}

private func closeFD(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(fd)
    #else
    Darwin.close(fd)
    #endif
}
