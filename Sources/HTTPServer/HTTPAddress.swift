/// Why a `--http-address` value was rejected; `description` is the message shown to the user.
public struct HTTPAddressError: Error, Equatable, CustomStringConvertible {
    public let address: String
    public let reason: String

    public var description: String { "invalid HTTP address \"\(address)\": \(reason)" }
}

extension SidecarHTTPServer {
    /// Parses "host:port" as Thanos' `--http-address` does (Go's `net.SplitHostPort`).
    ///
    /// - An IPv6 host is bracketed: "[::1]:9" gives ("::1", 9).
    /// - An empty host means all interfaces, as in Go: ":10902" gives ("0.0.0.0", 10902). The IPv4
    ///   wildcard is chosen over "::" because it also works where IPv6 is disabled.
    /// - The port must be decimal in 0...65535 (0 asks the kernel for a free port). Go would also
    ///   accept service names such as "http"; Skiff does not.
    /// - Error reasons reuse Go's wording ("missing port in address", ...) so they read familiarly.
    public static func parseAddress(_ text: String) throws -> (host: String, port: Int) {
        func fail(_ reason: String) -> HTTPAddressError { HTTPAddressError(address: text, reason: reason) }

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
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw fail("missing port in address") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw fail("too many colons in address (bracket IPv6 hosts: \"[::1]:10902\")") }
        }
        if host.contains("[") { throw fail("unexpected '[' in address") }
        if host.contains("]") { throw fail("unexpected ']' in address") }

        guard !portText.isEmpty else { throw fail("missing port in address") }
        guard portText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            portText.count <= 5, let port = Int(portText), port <= 65535
        else { throw fail("invalid port \"\(portText)\" (want 0-65535)") }

        return (host.isEmpty ? "0.0.0.0" : String(host), port)
    }
}
