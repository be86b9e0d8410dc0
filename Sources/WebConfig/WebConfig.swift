import ConfigYAML
import FileIO
import SkiffCore
import Yams

/// Thanos' `--http.config`: the Prometheus exporter-toolkit web config, which puts TLS and basic
/// auth in front of every HTTP endpoint (`/-/healthy`, `/-/ready`, `/metrics`).
///
/// ```yaml
/// tls_server_config: {cert_file, key_file, client_auth_type, client_ca_file, min_version, ...}
/// http_server_config: {http2, headers}
/// basic_auth_users: {name: <bcrypt hash>}
/// ```
///
/// Read strictly (an unknown key is an error), with exporter-toolkit's rules: a
/// `tls_server_config` without a certificate means plain HTTP; a client CA needs a client auth
/// type that verifies; only the security headers it allows may be set.
public struct WebConfig: Sendable {
    /// nil: plain HTTP.
    public var tls: WebTLS?
    public var users: BasicAuthUsers?
    /// Added to every response (`http_server_config.headers`).
    public var headers: [(name: String, value: String)] = []

    public init(tls: WebTLS? = nil, users: BasicAuthUsers? = nil) {
        self.tls = tls
        self.users = users
    }

    /// The headers exporter-toolkit lets a config set.
    static let allowedHeaders = [
        "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "X-XSS-Protection",
        "Content-Security-Policy",
    ]

    /// Reads the file named by `--http.config`; "" is no config.
    public static func load(path: String) throws(SkiffError) -> WebConfig? {
        guard !path.isEmpty else { return nil }
        let bytes: [UInt8]
        do throws(Errno) { bytes = try Posix.readAll(path) } catch {
            throw SkiffError(.invalidArgument, "--http.config \(path): cannot read it: \(error.reason)")
        }
        return try parse(String(decoding: bytes, as: UTF8.self), source: "--http.config \(path)", directory: dirname(path))
    }

    /// `directory` resolves relative file paths, as exporter-toolkit resolves them against the
    /// config file's directory.
    public static func parse(_ yaml: String, source: String, directory: String = ".") throws(SkiffError) -> WebConfig {
        let top = try StrictMapping(
            StrictMapping.document(yaml, source: source), source: source,
            allowed: ["tls_server_config", "http_server_config", "basic_auth_users"])
        var config = WebConfig()
        config.tls = try WebTLS.parse(
            top.mapping("tls_server_config", allowed: WebTLS.keys), directory: directory)
        let http = try top.mapping("http_server_config", allowed: ["http2", "headers"])
        // Either value is fine: Skiff serves HTTP/1.1, which every client of these endpoints speaks
        // (Go offers HTTP/2 over TLS only as an option the client may decline).
        _ = try http.bool("http2")
        for (name, value) in try http.stringMap("headers").sorted(by: { $0.key < $1.key }) {
            guard let canonical = allowedHeaders.first(where: { $0.lowercased() == name.lowercased() }) else {
                throw top.fail(
                    "http_server_config.headers: \(name) cannot be set; allowed: \(allowedHeaders.joined(separator: ", "))")
            }
            config.headers.append((canonical, value))
        }
        let users = try top.stringMap("basic_auth_users")
        if !users.isEmpty { config.users = try BasicAuthUsers(users, source: source) }
        return config
    }

    static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
