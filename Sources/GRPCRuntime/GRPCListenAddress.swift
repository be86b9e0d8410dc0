import GRPCNIOTransportHTTP2
import NIOCore

/// Why a `--grpc-address` value was rejected; `description` is the message shown to the user.
public struct GRPCListenAddressError: Error, Equatable, CustomStringConvertible {
    public let address: String
    public let reason: String

    public var description: String { "invalid gRPC address \"\(address)\": \(reason)" }
}

/// Where the gRPC server listens, from Thanos' `--grpc-address` (default "0.0.0.0:10901").
public struct GRPCListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IP literal (IPv6 without brackets) or a host name, resolved when the server starts.
    public let host: String
    /// 0 asks the kernel for a free port; `GRPCServerService.boundAddress()` tells which.
    public let port: Int

    public static let thanosDefault = GRPCListenAddress(host: "0.0.0.0", port: 10901)

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses "host:port" as Go's `net.SplitHostPort` does, so that values that work for Thanos work here.
    ///
    /// - An IPv6 host is bracketed: "[::1]:10901".
    /// - An empty host means all interfaces: ":10901" listens on 0.0.0.0, as `--http-address` does.
    ///   (Go would listen on "::" dual-stack; the IPv4 wildcard also works where IPv6 is disabled.)
    /// - The port is decimal, 0...65535. Go also accepts service names ("grpc"); Skiff does not.
    public init(parsing text: String) throws(GRPCListenAddressError) {
        func fail(_ reason: String) -> GRPCListenAddressError { GRPCListenAddressError(address: text, reason: reason) }

        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("missing ']' in address") }
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw fail("missing port after ']'") }
            host = text[text.index(after: text.startIndex)..<close]
            portText = rest.dropFirst()
            if host.isEmpty { throw fail("empty IPv6 host in brackets") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw fail("missing port in address") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw fail("too many colons in address (bracket IPv6 hosts: \"[::1]:10901\")") }
        }
        if host.contains("[") || host.contains("]") { throw fail("unexpected bracket in host") }
        if host.contains(where: \.isWhitespace) { throw fail("whitespace in host") }

        guard !portText.isEmpty else { throw fail("missing port in address") }
        guard portText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            portText.count <= 5, let port = Int(portText), port <= 65535
        else { throw fail("invalid port \"\(portText)\" (want 0-65535)") }

        self.init(host: host.isEmpty ? "0.0.0.0" : String(host), port: port)
    }

    /// "host:port", with IPv6 hosts bracketed so the result parses back to the same address.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The transport's address. IP literals are used as they are; a host name is resolved here,
    /// because the transport binds only to literals. (`getaddrinfo` blocks, but this runs once, at startup.)
    func socketAddress() throws -> GRPCNIOTransportHTTP2.SocketAddress {
        let resolved: NIOCore.SocketAddress
        do {
            if let literal = try? NIOCore.SocketAddress(ipAddress: host, port: port) {
                resolved = literal
            } else {
                resolved = try NIOCore.SocketAddress.makeAddressResolvingHost(host, port: port)
            }
        } catch {
            throw GRPCListenAddressError(address: description, reason: "cannot resolve host \"\(host)\": \(error)")
        }
        guard let ip = resolved.ipAddress else {
            throw GRPCListenAddressError(address: description, reason: "host \"\(host)\" is not an IP address")
        }
        switch resolved.protocol {
        case .inet6: return .ipv6(host: ip, port: port)
        default: return .ipv4(host: ip, port: port)
        }
    }
}
