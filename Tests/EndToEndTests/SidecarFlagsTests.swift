import Foundation
import TestSupport
import Testing

/// Every flag of `thanos sidecar` v0.42 parses in `skiff sidecar` (kingpin's forms), and each
/// refusal says what is wrong. `--help` after the flags makes the binary parse them all and stop.
@Suite struct SidecarFlagsTests {
    /// Every v0.42 flag once (global ones too), in `--flag=value` and `--flag value` forms.
    static let everyFlag: [String] = [
        "--log.level=debug", "--log.format", "json", "--tracing.config-file=/t.yaml", "--enable-auto-gomemlimit",
        "--auto-gomemlimit.ratio=0.5", "--debug.name=side", "--http-address=:10902", "--http-grace-period=2m",
        "--http.config=/web.yml", "--grpc-address=:10901", "--grpc-server-tls-cert=/c", "--grpc-server-tls-key=/k",
        "--grpc-server-tls-client-ca=/ca", "--grpc-server-tls-min-version=1.2",
        "--grpc-server-tls-ciphers=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "--grpc-server-tls-curves", "X25519", "--grpc-server-tls-curves=CurveP256",
        "--grpc-server-max-connection-age=60m", "--grpc-grace-period=2m", "--prometheus.url=http://localhost:9090/",
        "--prometheus.ready_timeout=10m", "--prometheus.get_config_interval=30s", "--prometheus.get_config_timeout=30s",
        "--prometheus.http-client-file=/h.yaml", "--tsdb.path=/prometheus", "--reloader.config-file=/p.yml",
        "--reloader.config-envsubst-file=/out.yml", "--reloader.rule-dir=/r1", "--reloader.rule-dir=/r2",
        "--reloader.watch-interval=3m", "--reloader.retry-interval=5s", "--reloader.method=signal",
        "--reloader.process-name=prometheus", "--request.logging-config-file=/rl.yaml", "--objstore.config-file=/o.yml",
        "--shipper.upload-compacted", "--shipper.ignore-unequal-block-size", "--shipper.allow-out-of-order-uploads",
        "--shipper.skip-corrupted-blocks", "--hash-func=SHA256", "--shipper.meta-file-name=thanos.shipper.json",
        "--shipper.upload-concurrency=4", "--store.limits.request-series=1000", "--store.limits.request-samples=0",
        "--min-time=-2d",
    ]

    /// The content halves of the `*-file` / content pairs, and the negated booleans.
    static let otherHalves: [String] = [
        "--tracing.config=type: OTLP", "--prometheus.http-client={}", "--request.logging-config=grpc: {}",
        "--objstore.config=type: FILESYSTEM", "--no-enable-auto-gomemlimit", "--no-shipper.upload-compacted",
        "--no-shipper.ignore-unequal-block-size", "--no-shipper.allow-out-of-order-uploads",
        "--no-shipper.skip-corrupted-blocks", "--hash-func=",
    ]

    @Test func everyThanosFlagParses() async throws {
        let globals = Array(Self.everyFlag.prefix(7))
        let commandFlags = Array(Self.everyFlag.dropFirst(7))
        // Global flags may come before the command word too (kingpin); the command's come after it.
        let lists = [
            ["sidecar"] + Self.everyFlag + ["--help"], globals + ["sidecar"] + commandFlags + ["--help"],
            ["sidecar"] + Self.otherHalves + ["--help"],
        ]
        for arguments in lists {
            let result = try await SkiffProcess.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result)")
            #expect(result.stdout.hasPrefix("usage: skiff sidecar [<flags>]"), "\(result)")
        }
    }

    @Test func helpShowsKingpinForms() async throws {
        let result = try await SkiffProcess.run(["sidecar", "--help"])
        #expect(result.status == 0)
        for line in [
            "--[no-]shipper.upload-compacted", "--grpc-address=\"0.0.0.0:10901\"", "--reloader.rule-dir=<dir> ...",
            "--hash-func=\"\"", "--[no-]shipper.skip-corrupted-blocks", "Accepted for compatibility",
        ] {
            #expect(result.stdout.contains(line), "\(line) missing from:\n\(result.stdout)")
        }
        #expect(!result.stdout.contains("debug.name"), "hidden flags stay hidden")
        #expect(try await SkiffProcess.run(["help", "sidecar"]).stdout == result.stdout)
        #expect(try await SkiffProcess.run(["sidecar", "--version"]).stdout.hasPrefix("skiff, version "))
    }

    /// Refused while parsing, as kingpin refuses them: exit 2 and kingpin's words.
    @Test(arguments: [
        (["--shipper.nope"], "unknown long flag '--shipper.nope'"),
        (["--tsdb.path=/a", "--tsdb.path=/b"], "flag 'tsdb.path' cannot be repeated"),
        (["--shipper.upload-compacted=false"], "is a boolean flag and takes no value"),
        (["--no-tsdb.path"], "unknown long flag '--no-tsdb.path'"),
        (["--tsdb.path"], "expected argument for flag '--tsdb.path'"),
        (["--log.level=loud"], "enum value must be one of error,warn,info,debug, got 'loud'"),
        (["--grpc-server-tls-min-version=1.4"], "enum value must be one of 1.0,1.1,1.2,1.3, got '1.4'"),
        (["--reloader.method=kill"], "enum value must be one of http,signal, got 'kill'"),
        (["--hash-func=MD5"], "enum value must be one of ,SHA256, got 'MD5'"),
        (["extra"], "unexpected extra"),
        (["@/nonexistent/args"], "failed to open arguments file \"/nonexistent/args\""),
    ])
    func parseRefusals(arguments: [String], message: String) async throws {
        let result = try await SkiffProcess.run(["sidecar"] + arguments)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("error parsing commandline arguments: "), "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(result.stderr.contains("skiff sidecar --help"), "\(result)")
    }

    /// Values refused at start: exit 1, naming the flag.
    @Test(arguments: [
        (["--auto-gomemlimit.ratio=0"], "--auto-gomemlimit.ratio must be greater than 0 and less than or equal to 1."),
        (["--auto-gomemlimit.ratio=1.5"], "--auto-gomemlimit.ratio must be greater than 0"),
        (["--log.format=journald"], "--log.format=journald is not supported by Skiff"),
        (
            ["--objstore.config-file=/a.yml", "--objstore.config=type: S3"],
            "both objstore.config-file and objstore.config flags set"
        ),
        // An empty value is unset, as for every *-file/content pair: the content is read.
        (["--objstore.config-file=", "--objstore.config=type: NOPE"], "NOPE"),
        (
            ["--prometheus.http-client-file=/a.yml", "--prometheus.http-client={}"],
            "both prometheus.http-client-file and prometheus.http-client flags set"
        ),
        (["--shipper.meta-file-name=../x.json"], "--shipper.meta-file-name \"../x.json\" must be a file name"),
        (["--http-grace-period=soon"], "--http-grace-period: duration \"soon\" is invalid"),
        (["--grpc-server-tls-cert=/c"], "--grpc-server-tls-cert is set but --grpc-server-tls-key is not"),
    ])
    func valueRefusals(arguments: [String], message: String) async throws {
        let result = try await SkiffProcess.run(
            ["sidecar", "--http-address=127.0.0.1:0", "--grpc-address=127.0.0.1:0"] + arguments)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
    }

    /// An @file holding an operator's list (comments and blank lines skipped) parses like argv.
    @Test func argumentFile() async throws {
        let root = try TempDir()
        defer { root.remove() }
        try "# generated\n--tsdb.path=/prometheus\n\n--log.level\ndebug\n".write(
            toFile: root.sub("args"), atomically: true, encoding: .utf8)
        let result = try await SkiffProcess.run(["sidecar", "@\(root.sub("args"))", "--help"])
        #expect(result.status == 0, "\(result)")
    }
}
