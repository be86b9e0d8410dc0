import Foundation
import TestSupport
import Testing

/// The S3 test servers start, serve the boto3 helpers, fail with clear messages, and go away.
@Suite(.needs(.motoServer, .juicefs, .boto3, .openssl)) struct S3TestServerTests {
    @Test(arguments: S3ServerKind.allCases)
    func startServeAndStop(_ kind: S3ServerKind) async throws {
        let began = ContinuousClock.now
        let server = try await S3TestServer.start(kind)
        let started = ContinuousClock.now - began
        do {
            try await exercise(server)
        } catch {
            await server.stop()
            throw error
        }
        let stopping = ContinuousClock.now
        await server.stop()
        // Shown in the test output: what a test pays per server.
        print("\(kind): ready with a bucket in \(started), stopped in \(ContinuousClock.now - stopping)")
        #expect(!FileManager.default.fileExists(atPath: server.directory))
        #expect(try await Self.nothingListens(on: server.port), "\(kind) still answers on \(server.endpoint)")
        await #expect(throws: S3TestServerError.self) { try await server.listObjects() }
        await server.stop()  // a second stop is harmless
    }

    func exercise(_ server: S3TestServer) async throws {
        #expect(server.endpoint == "127.0.0.1:\(server.port)")
        #expect(try await server.listObjects() == [:])
        let extra = "skiff-extra"
        try await server.makeBucket(extra)
        let chunk = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await server.putObject("01ARZ3NDEKTSV4RRFFQ69G5FAV/chunks/000001", bytes: chunk, bucket: extra)
        try await server.putObject("01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json", bytes: Array("{}".utf8), bucket: extra)
        try await server.putObject("empty", bytes: [], bucket: extra)
        try await server.putObject("odd/a key+with=ü&?", bytes: [1, 2, 3], bucket: extra)
        #expect(
            try await server.listObjects(bucket: extra) == [
                "01ARZ3NDEKTSV4RRFFQ69G5FAV/chunks/000001": 100_000, "01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json": 2,
                "empty": 0, "odd/a key+with=ü&?": 3,
            ])
        #expect(try await server.listObjects() == [:], "the start bucket is separate")
        #expect(
            try await server.objectSHA256("01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json", bucket: extra)
                == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
        #expect(
            try await server.objectSHA256("empty", bucket: extra)
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

        #expect(try await server.listMultipartUploads(bucket: extra).isEmpty)
        let uploadId = try await server.startMultipartUpload("01ARZ3NDEKTSV4RRFFQ69G5FAV/index", bucket: extra)
        let uploads = try await server.listMultipartUploads(bucket: extra)
        #expect(uploads.map(\.key) == ["01ARZ3NDEKTSV4RRFFQ69G5FAV/index"] && uploads.map(\.uploadId) == [uploadId])

        try await server.deleteObject("01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json", bucket: extra)
        try await server.deleteObject("no/such/key", bucket: extra)
        #expect(
            try await server.listObjects(bucket: extra).keys.sorted()
                == ["01ARZ3NDEKTSV4RRFFQ69G5FAV/chunks/000001", "empty", "odd/a key+with=ü&?"])

        let yaml = server.objstoreYAML(extraConfig: ["part_size: 5242880"])
        let transport = server.caFile.map { "      ca_file: \($0)" } ?? "  insecure: true"
        for line in ["type: S3", "  bucket: skiff-test", "  endpoint: \(server.endpoint)", transport, "  part_size: 5242880"] {
            #expect(yaml.contains(line + "\n"), "\(yaml)")
        }
        // A helper failure names the operation and carries the server's answer and log.
        let error = await #expect(throws: S3TestServerError.self) { try await server.objectSHA256("missing") }
        let message = error?.description ?? ""
        #expect(message.contains("boto3 sha256 skiff-test missing") && message.contains("NoSuchKey"), "\(message)")
        #expect(message.contains("server.log"), "\(message)")
        #expect(!server.logTail(lines: 5).isEmpty)
    }

    @Test func missingBinaryNamesTheFix() async throws {
        var env = ProcessInfo.processInfo.environment
        env["SKIFF_TEST_JUICEFS"] = "/nonexistent"
        let wrongOverride = await #expect(throws: ExternalProgram.Missing.self) {
            try await S3TestServer.start(.juicefs, environment: env)
        }
        let message = wrongOverride?.description ?? ""
        #expect(message.contains("SKIFF_TEST_JUICEFS=/nonexistent is not an executable file"), "\(message)")
        #expect(message.contains("Tools/install-deps"), "\(message)")

        env["SKIFF_TEST_JUICEFS"] = nil
        env["PATH"] = "/nonexistent"
        env["HOME"] = "/nonexistent"
        let notFound = await #expect(throws: ExternalProgram.Missing.self) {
            try await S3TestServer.start(.juicefs, environment: env)
        }
        let notFoundMessage = notFound?.description ?? ""
        #expect(notFoundMessage.contains("juicefs not found on PATH"), "\(notFoundMessage)")
        #expect(notFoundMessage.contains("Tools/install-deps"), "\(notFoundMessage)")
    }

    /// A server that exits at once fails the start quickly, showing its output.
    @Test func serverThatExitsFailsWithItsLog() async throws {
        var env = ProcessInfo.processInfo.environment
        env["SKIFF_TEST_MOTO_SERVER"] = "/bin/ls"  // `ls -H 127.0.0.1 -p PORT` complains and exits
        let began = ContinuousClock.now
        let error = await #expect(throws: S3TestServerError.self) {
            try await S3TestServer.start(.moto, environment: env)
        }
        let message = error?.description ?? ""
        #expect(
            message.contains("moto_server on 127.0.0.1:") && message.contains("exited (status 2) before it was ready"),
            "\(message)")
        #expect(message.contains("127.0.0.1': No such file or directory"), "the log tail: \(message)")
        #expect(ContinuousClock.now - began < .seconds(28))  // the readiness deadline is 30 s: an exit is noticed before it
    }

    @Test func juicefsFormatFailureShowsItsStatus() async throws {
        var env = ProcessInfo.processInfo.environment
        env["SKIFF_TEST_JUICEFS"] = "/bin/false"
        let error = await #expect(throws: S3TestServerError.self) {
            try await S3TestServer.start(.juicefs, environment: env)
        }
        #expect(error?.description.contains("juicefs format failed (status 1)") == true, "\(String(describing: error))")
    }

    @Test func withServerStopsWhenTheBodyThrows() async throws {
        struct Boom: Error {}
        var seen: (directory: String, port: Int)?
        await #expect(throws: Boom.self) {
            try await S3TestServer.withServer(.juicefs) { server in
                seen = (server.directory, server.port)
                throw Boom()
            }
        }
        let (directory, port) = try #require(seen)
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(try await Self.nothingListens(on: port))
    }

    /// A server nobody stopped is killed when its last reference goes away.
    @Test func droppedServerIsKilled() async throws {
        var server: S3TestServer? = try await S3TestServer.start(.juicefs)
        let (directory, port) = (server!.directory, server!.port)
        server = nil
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(try await Self.nothingListens(on: port))
    }

    /// True once connecting to 127.0.0.1:`port` is refused (a closing server may take a moment).
    static func nothingListens(on port: Int) async throws -> Bool {
        for _ in 0..<50 {
            if await !HTTPProbe.accepts(port: port) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
