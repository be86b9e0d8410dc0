import NIOCore
import SkiffCore

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

    /// Parses `--grpc-address` as Thanos does (`ListenAddress.split`).
    public init(parsing text: String) throws(ListenAddressError) {
        let (host, port) = try ListenAddress.split(text, server: "gRPC", defaultPort: 10901)
        self.init(host: host, port: port)
    }

    /// "host:port", with IPv6 hosts bracketed so the result parses back to the same address.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The socket address to bind. IP literals are used as they are; a host name is resolved here,
    /// to its first address. (`getaddrinfo` blocks, but this runs once, at startup.)
    func socketAddress() throws -> NIOCore.SocketAddress {
        let resolved: NIOCore.SocketAddress
        do {
            if let literal = try? NIOCore.SocketAddress(ipAddress: host, port: port) {
                resolved = literal
            } else {
                resolved = try NIOCore.SocketAddress.makeAddressResolvingHost(host, port: port)
            }
        } catch {
            throw ListenAddressError(server: "gRPC", address: description, reason: "cannot resolve host \"\(host)\": \(error)")
        }
        guard resolved.ipAddress != nil else {
            throw ListenAddressError(server: "gRPC", address: description, reason: "host \"\(host)\" is not an IP address")
        }
        return resolved
    }
}
