import SkiffCore

extension SidecarHTTPServer {
    /// Parses `--http-address` as Thanos does (`ListenAddress.split`).
    public static func parseAddress(_ text: String) throws(ListenAddressError) -> (host: String, port: Int) {
        try ListenAddress.split(text, server: "HTTP", defaultPort: 10902)
    }
}
