import Foundation
import HummingbirdBcrypt
import TestSupport
import Testing

/// `--http.config` (exporter-toolkit's web config) on a running sidecar: probes and /metrics over
/// HTTPS, basic auth with a bcrypt hash as htpasswd writes it ($2y$), 401 without it.
@Suite(.serialized, .needs(.promtool, .prometheus, .curl, .openssl, .juicefs, .boto3)) struct HTTPConfigTests {
    /// curl's status code for `path`, "000" when no HTTP answer came.
    static func status(
        _ port: Int, _ path: String, user: String? = nil, caFile: String?, scheme: String = "https"
    ) async throws -> String {
        var arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"]
        if let caFile { arguments += ["--cacert", caFile] }
        if let user { arguments += ["-u", user] }
        arguments.append("\(scheme)://127.0.0.1:\(port)\(path)")
        return try await ExternalProgram.curl.run(arguments).stdout
    }

    @Test func httpsAndBasicAuthGuardEveryEndpoint() async throws {
        let world = try await SidecarTests.World.make()
        let pki = try await TestPKI.shared()
        let hash = "$2y$" + Bcrypt.hash("s3cret", cost: 10).dropFirst(4)
        let webConfig = world.root.sub("web.yml")
        try """
        tls_server_config:
          cert_file: \(pki.serverCertificate)
          key_file: \(pki.serverKey)
        http_server_config:
          headers:
            X-Frame-Options: deny
        basic_auth_users:
          prometheus: \(hash)
        """.write(toFile: webConfig, atomically: true, encoding: .utf8)
        let (_, result) = try await SidecarTests.withSidecar(world.arguments(["--http.config", webConfig])) { running in
            let port = world.httpPort
            let deadline = ContinuousClock.now + .seconds(60)
            var ready = ""
            while ready != "200" && ContinuousClock.now < deadline {
                ready = try await Self.status(port, "/-/ready", user: "prometheus:s3cret", caFile: pki.caCertificate)
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(ready == "200", "\(running.stderrSoFar)")
            #expect(try await Self.status(port, "/metrics", user: "prometheus:s3cret", caFile: pki.caCertificate) == "200")
            #expect(try await Self.status(port, "/-/healthy", caFile: pki.caCertificate) == "401")
            #expect(try await Self.status(port, "/metrics", user: "prometheus:wrong", caFile: pki.caCertificate) == "401")
            #expect(try await Self.status(port, "/metrics", user: "nobody:s3cret", caFile: pki.caCertificate) == "401")
            // Plain HTTP gets no answer from a TLS port, and an unknown CA is refused.
            #expect(try await Self.status(port, "/-/healthy", user: "prometheus:s3cret", caFile: nil, scheme: "http") != "200")
            #expect(try await Self.status(port, "/-/healthy", user: "prometheus:s3cret", caFile: nil) == "000")
            let headers = try await ExternalProgram.curl.run([
                "-s", "-D", "-", "-o", "/dev/null", "--cacert", pki.caCertificate, "https://127.0.0.1:\(port)/-/healthy",
            ]).stdout
            #expect(headers.lowercased().contains("www-authenticate: basic"), "\(headers)")
            #expect(headers.lowercased().contains("x-frame-options: deny"), "\(headers)")
        }
        #expect(result.status == 0, "\(result)")
        await world.finish()
    }

    /// client_auth_type RequireAndVerifyClientCert: only a certificate from the client CA gets in.
    /// /-/healthy answers without Prometheus, so none is started.
    @Test func clientCertificatesAreRequiredWhenAsked() async throws {
        let root = try TempDir()
        defer { root.remove() }
        let pki = try await TestPKI.shared()
        let webConfig = root.sub("web.yml")
        try """
        tls_server_config:
          cert_file: \(pki.serverCertificate)
          key_file: \(pki.serverKey)
          client_auth_type: RequireAndVerifyClientCert
          client_ca_file: \(pki.caCertificate)
          min_version: TLS13
        """.write(toFile: webConfig, atomically: true, encoding: .utf8)
        let port = try HTTPProbe.freePort()
        let arguments = [
            "sidecar", "--http.config", webConfig, "--http-address=127.0.0.1:\(port)", "--grpc-address=127.0.0.1:0",
            "--prometheus.url=http://127.0.0.1:1", "--tsdb.path", root.sub("tsdb"), "--http-grace-period=0s",
        ]
        let (_, result) = try await SidecarTests.withSidecar(arguments) { running in
            func healthy(_ extra: [String]) async throws -> String {
                try await ExternalProgram.curl.run(
                    ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "--cacert", pki.caCertificate]
                        + extra + ["https://127.0.0.1:\(port)/-/healthy"]
                ).stdout
            }
            let trusted = ["--cert", pki.clientCertificate, "--key", pki.clientKey]
            let deadline = ContinuousClock.now + .seconds(30)
            var answer = ""
            while answer != "200" && ContinuousClock.now < deadline {
                answer = try await healthy(trusted)
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(answer == "200", "\(running.stderrSoFar)")
            #expect(try await healthy([]) == "000", "no client certificate")
            #expect(try await healthy(["--cert", pki.rogueClientCertificate, "--key", pki.rogueClientKey]) == "000")
            #expect(try await healthy(trusted + ["--tls-max", "1.2"]) == "000", "below min_version TLS13")
        }
        #expect(result.status == 0, "\(result)")
    }

    @Test func aBadWebConfigIsRefusedAtStart() async throws {
        let root = try TempDir()
        defer { root.remove() }
        let cases: [(String, String)] = [
            ("tls_server_config:\n  cert_file: /nope.pem\n  key_file: /nope.key\n", "cannot load the certificate or key"),
            ("basic_auth_users:\n  alice: plaintext\n", "basic_auth_users.alice is not a bcrypt hash"),
            ("tls_server_confg: {}\n", "unknown key \"tls_server_confg\""),
        ]
        for (index, (yaml, message)) in cases.enumerated() {
            let path = root.sub("web\(index).yml")
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try await SkiffProcess.run([
                "sidecar", "--http.config", path, "--http-address=127.0.0.1:0", "--grpc-address=127.0.0.1:0",
            ])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("--http.config \(path)"), "\(result)")
            #expect(result.stderr.contains(message), "\(result)")
        }
    }
}
