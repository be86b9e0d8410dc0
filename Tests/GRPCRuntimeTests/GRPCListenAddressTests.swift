import GRPCRuntime
import SkiffCore
import Testing

@Suite("--grpc-address parsing")
struct GRPCListenAddressTests {
    @Test(
        "Thanos-style addresses",
        arguments: [
            ("0.0.0.0:10901", "0.0.0.0", 10901),
            ("127.0.0.1:0", "127.0.0.1", 0),
            ("[::1]:10901", "::1", 10901),
            ("[::]:10901", "::", 10901),
            (":10901", "0.0.0.0", 10901),
            ("localhost:65535", "localhost", 65535),
        ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try GRPCListenAddress(parsing: text)
        #expect(address == GRPCListenAddress(host: host, port: port))
    }

    @Test("the default is Thanos' default")
    func thanosDefault() throws {
        #expect(try GRPCListenAddress(parsing: "0.0.0.0:10901") == .thanosDefault)
    }

    @Test("description round-trips, bracketing IPv6")
    func description() throws {
        for text in ["0.0.0.0:10901", "[::1]:10901", "localhost:1"] {
            #expect(try GRPCListenAddress(parsing: text).description == text)
        }
    }

    @Test(
        "bad input is rejected with a reason",
        arguments: [
            ("", "missing port in address"),
            ("10901", "missing port in address"),
            ("127.0.0.1", "missing port in address"),
            ("127.0.0.1:", "missing port in address"),
            ("::1:10901", "too many colons"),
            ("[::1]10901", "missing port in address"),
            ("[::1", "missing ']'"),
            ("[]:1", "empty IPv6 host"),
            ("a]:1", "unexpected ']' in address"),
            ("127.0.0.1:65536", "invalid port \"65536\""),
            ("127.0.0.1:-1", "invalid port \"-1\""),
            ("127.0.0.1:grpc", "invalid port \"grpc\""),
            ("127.0.0.1:0x10", "invalid port"),
            ("127.0.0.1:000010901", "invalid port"),
            ("my host:1", "whitespace in host"),
        ])
    func rejects(text: String, reason: String) {
        #expect {
            try GRPCListenAddress(parsing: text)
        } throws: { error in
            let error = error as? ListenAddressError
            return error?.address == text && error?.reason.contains(reason) == true
                && error?.description.hasPrefix("invalid gRPC address \"\(text)\": ") == true
        }
    }
}
