/// Why a listen-address flag (`--http-address`, `--grpc-address`) was rejected; `description` is
/// the message shown to the user.
public struct ListenAddressError: Error, Equatable, CustomStringConvertible {
    /// Which server: "HTTP" or "gRPC".
    public let server: String
    public let address: String
    public let reason: String

    public init(server: String, address: String, reason: String) {
        self.server = server
        self.address = address
        self.reason = reason
    }

    public var description: String { "invalid \(server) address \"\(address)\": \(reason)" }
}

/// "host:port" as Thanos reads its listen flags (Go's `net.SplitHostPort`), so values that work
/// for Thanos work here.
public enum ListenAddress {
    /// - An IPv6 host is bracketed: "[::1]:9" gives ("::1", 9).
    /// - An empty host means all interfaces: ":10902" gives ("0.0.0.0", 10902). (Go listens on "::"
    ///   dual-stack; the IPv4 wildcard also works where IPv6 is disabled.)
    /// - The port must be decimal in 0...65535 (0 asks the kernel for a free port). Go also accepts
    ///   service names such as "http"; Skiff does not.
    /// - Reasons use Go's wording ("missing port in address", ...) so they read familiarly; an
    ///   empty bracketed host and whitespace in the host, which Go would only fail on at bind time,
    ///   are refused here.
    public static func split(
        _ text: String, server: String, defaultPort: Int
    ) throws(ListenAddressError) -> (host: String, port: Int) {
        func fail(_ reason: String) -> ListenAddressError { ListenAddressError(server: server, address: text, reason: reason) }

        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("missing ']' in address") }
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw fail(rest.hasPrefix("]") ? "unexpected ']' in address" : "missing port in address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = rest.dropFirst()
            if host.isEmpty { throw fail("empty IPv6 host in brackets") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw fail("missing port in address") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw fail("too many colons in address (bracket IPv6 hosts: \"[::1]:\(defaultPort)\")") }
        }
        if host.contains("[") { throw fail("unexpected '[' in address") }
        if host.contains("]") { throw fail("unexpected ']' in address") }
        if host.contains(where: \.isWhitespace) { throw fail("whitespace in host") }

        guard !portText.isEmpty else { throw fail("missing port in address") }
        guard portText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            portText.count <= 5, let port = Int(portText), port <= 65535
        else { throw fail("invalid port \"\(portText)\" (want 0-65535)") }

        return (host.isEmpty ? "0.0.0.0" : String(host), port)
    }
}
