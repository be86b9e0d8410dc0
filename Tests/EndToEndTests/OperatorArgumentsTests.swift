import Foundation
import SkiffCore
import TestSupport
import Testing

/// The argument lists real deployments pass to `thanos sidecar` (prometheus-operator's, from
/// thanos-dropin.md section 2.1), given verbatim to `skiff sidecar` next to a real Prometheus:
/// each must reach ready, and ship where a bucket is configured. Ports are the tests' own, in
/// the list's form (`:port`, `[ip]:port`).
@Suite(.serialized, .needs(.promtool, .prometheus, .curl, .juicefs, .boto3)) struct OperatorArgumentsTests {
    typealias World = SidecarTests.World

    /// The operator's `--prometheus.http-client-file` content (thanos_sidecar_config.go).
    static func httpClientFile(_ world: World) throws -> String {
        let path = world.root.sub("prometheus.http-client-file.yaml")
        try "tls_config:\n  insecure_skip_verify: true\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// How every list since operator v0.50 starts (the ports are the test's own).
    static func head(_ world: World) -> [String] {
        [
            "sidecar", "--prometheus.url=\(world.prometheus.url)/", "--grpc-address=:\(world.grpcPort)",
            "--http-address=:\(world.httpPort)",
        ]
    }

    /// The blocks the uploaded-blocks file in the data dir lists.
    static func uploadedList(_ world: World, _ name: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: "\(world.tsdb)/\(name)"),
            let file = try? JSONValue.parse([UInt8](data))
        else { return [] }
        return (file["uploaded"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// Runs the list until ready (and, with `shipping`, until every block is in the bucket and
    /// listed in the uploaded-blocks file `shipperFile`, which is rewritten after each commit).
    static func runUntilReady(
        _ world: World, _ arguments: [String], shipping: Bool, shipperFile: String = "thanos.shipper.json",
        whileRunning check: () async throws -> Void = {}
    ) async throws -> String {
        let (stderr, result) = try await SidecarTests.withSidecar(arguments) { running in
            let ready = try await HTTPProbe.waitFor(port: world.httpPort, path: "/-/ready", within: .seconds(60)) {
                $0?.status == 200
            }
            #expect(ready?.status == 200, "\(running.stderrSoFar)")
            // Ready means a querier can connect: the gRPC port is open by then.
            #expect(await HTTPProbe.accepts(port: world.grpcPort), "\(running.stderrSoFar)")
            if shipping {
                let deadline = ContinuousClock.now + .seconds(60)
                let all = world.localBlocks.map(\.string)
                while uploadedList(world, shipperFile) != all && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(world.shipped() == world.localBlocks, "\(running.stderrSoFar)")
                #expect(uploadedList(world, shipperFile) == all, "\(running.stderrSoFar)")
            }
            try await check()
            return running.stderrSoFar
        }
        #expect(result.status == 0, "\(result)")
        return stderr
    }

    /// kube-prometheus-stack today: Prometheus >= 3.9 and Thanos v0.42 (delayed compaction), an
    /// objectStorageConfig secret the kubelet has already substituted into the argument.
    @Test func delayedCompactionList() async throws {
        let world = try await World.make(minBlock: "2h", maxBlock: "24h")
        let objstore = try String(contentsOfFile: world.bucketConfig, encoding: .utf8)
        let arguments =
            Self.head(world) + [
                "--objstore.config=\(objstore)",
                "--tsdb.path=\(world.tsdb)",
                "--shipper.meta-file-name=thanos.shipper.json",
                "--shipper.ignore-unequal-block-size",
                "--log.level=info",
                "--log.format=logfmt",
                "--prometheus.http-client-file=\(try Self.httpClientFile(world))",
            ]
        _ = try await Self.runUntilReady(world, arguments, shipping: true)
        await world.finish()
    }

    /// TestThanosGrpcArguments: mutual TLS with TLS 1.3 as the floor, no bucket.
    @Test(.needs(.openssl)) func grpcTLSFixture() async throws {
        let world = try await World.make()
        let pki = try await TestPKI.shared()
        let arguments =
            Self.head(world) + [
                "--grpc-server-tls-cert=\(pki.serverCertificate)",
                "--grpc-server-tls-key=\(pki.serverKey)",
                "--grpc-server-tls-client-ca=\(pki.caCertificate)",
                "--grpc-server-tls-min-version=1.3",
                "--prometheus.http-client-file=\(try Self.httpClientFile(world))",
            ]
        let stderr = try await Self.runUntilReady(world, arguments, shipping: false) { () async throws in
            // The floor is enforced in the handshake: TLS 1.3 with a client certificate gets in, 1.2 does not.
            func handshake(_ version: String) async throws -> Bool {
                // s_client prints a verify code even when the handshake failed: a cipher says it did not.
                let out = try await ExternalProgram.openssl.run(
                    [
                        "s_client", "-connect", "127.0.0.1:\(world.grpcPort)", version, "-CAfile", pki.caCertificate,
                        "-cert", pki.clientCertificate, "-key", pki.clientKey, "-alpn", "h2", "-verify_return_error",
                    ], stdin: "/dev/null"
                ).stdout
                return out.contains("Verify return code: 0 (ok)") && !out.contains("Cipher is (NONE)")
            }
            let modern = try await handshake("-tls1_3")
            let old = try await handshake("-tls1_2")
            #expect(modern && !old)
        }
        #expect(stderr.contains("uploads are disabled"), "\(stderr)")
        #expect(world.shipped().isEmpty)
        await world.finish()
    }

    /// TestThanosAdditionalArgsNoError: a user's additionalArgs passed through verbatim.
    @Test func additionalArgsFixture() async throws {
        let world = try await World.make()
        let arguments =
            Self.head(world) + [
                "--log.level=info",
                "--prometheus.http-client-file=\(try Self.httpClientFile(world))",
                "--reloader.watch-interval=5m",
            ]
        _ = try await Self.runUntilReady(world, arguments, shipping: false)
        await world.finish()
    }

    /// Operator v0.59 to v0.77 passed the HTTP client config inline, as JSON.
    @Test func inlineHTTPClientList() async throws {
        let world = try await World.make()
        let arguments =
            Self.head(world) + [
                "--objstore.config-file=\(world.bucketConfig)",
                "--tsdb.path=\(world.tsdb)",
                #"--prometheus.http-client={"tls_config": {"insecure_skip_verify":true}}"#,
            ]
        _ = try await Self.runUntilReady(world, arguments, shipping: true)
        await world.finish()
    }

    /// Before operator v0.50: `[$(POD_IP)]:10901`, which the kubelet expands before start.
    @Test func podIPAddressList() async throws {
        let world = try await World.make()
        let arguments = [
            "sidecar",
            "--prometheus.url=\(world.prometheus.url)/",
            "--grpc-address=[127.0.0.1]:\(world.grpcPort)",
            "--http-address=[127.0.0.1]:\(world.httpPort)",
            "--objstore.config-file=\(world.bucketConfig)",
            "--tsdb.path=\(world.tsdb)",
            "--log.level=debug",
            "--log.format=json",
        ]
        let stderr = try await Self.runUntilReady(world, arguments, shipping: true)
        #expect(stderr.hasPrefix("{"), "\(stderr.prefix(300))")
        await world.finish()
    }

    /// `--shipper.meta-file-name` names the uploaded-blocks file; the default one is not written.
    @Test func metaFileNameIsUsed() async throws {
        let world = try await World.make()
        let arguments = world.arguments(["--shipper.meta-file-name", "uploaded-blocks.json"])
        _ = try await Self.runUntilReady(world, arguments, shipping: true, shipperFile: "uploaded-blocks.json")
        #expect(!FileManager.default.fileExists(atPath: "\(world.tsdb)/thanos.shipper.json"))
        await world.finish()
    }
}
