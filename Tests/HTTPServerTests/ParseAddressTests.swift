import HTTPServer
import SkiffCore
import Testing

@Suite("--http-address parsing")
struct ParseAddressTests {
    @Test(
        "valid addresses",
        arguments: [
            ("0.0.0.0:10902", "0.0.0.0", 10902),
            (":10902", "0.0.0.0", 10902),  // empty host: all interfaces, as in Go
            ("127.0.0.1:0", "127.0.0.1", 0),
            ("localhost:65535", "localhost", 65535),
            ("[::1]:9", "::1", 9),
            ("[::]:10902", "::", 10902),
            ("[fe80::1%eth0]:80", "fe80::1%eth0", 80),
        ])
    func valid(text: String, host: String, port: Int) throws {
        let parsed = try SidecarHTTPServer.parseAddress(text)
        #expect(parsed.host == host)
        #expect(parsed.port == port)
    }

    @Test(
        "invalid addresses name the problem",
        arguments: [
            ("", "missing port in address"),
            ("localhost", "missing port in address"),
            ("0.0.0.0:", "missing port in address"),
            ("[::1]", "missing port in address"),
            ("::1:9", "too many colons in address"),
            ("[::1:9", "missing ']' in address"),
            ("[::1]]:9", "unexpected ']' in address"),
            ("a[b:9", "unexpected '[' in address"),
            ("host:http", "invalid port \"http\""),
            ("host:65536", "invalid port \"65536\""),
            ("host:-1", "invalid port \"-1\""),
            ("host:+80", "invalid port \"+80\""),
        ])
    func invalid(text: String, reason: String) {
        let error = #expect(throws: ListenAddressError.self) { try SidecarHTTPServer.parseAddress(text) }
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
        #expect(error?.description.contains("\"\(text)\"") == true)
    }
}
