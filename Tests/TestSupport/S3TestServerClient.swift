import Foundation
import Synchronization

/// Out-of-band S3 access through boto3 in the Python companion: an independent client, so tests
/// never check Skiff's S3 code with Skiff's S3 code. The companion imports boto3 once, while the
/// server starts, so a call costs milliseconds rather than a Python start (~0.4 s) each.
extension S3TestServer {
    /// Creates another empty bucket (e.g. one per test, for isolation).
    public func makeBucket(_ name: String) async throws {
        _ = try await request("make-bucket", name)
    }

    /// Every object key in the bucket with its size.
    public func listObjects(bucket: String? = nil) async throws -> [String: Int64] {
        let sizes = try await request("list", bucket ?? self.bucket) as? [String: Any] ?? [:]
        return sizes.mapValues { ($0 as? NSNumber)?.int64Value ?? -1 }
    }

    /// The multipart uploads started but neither completed nor aborted.
    public func listMultipartUploads(bucket: String? = nil) async throws -> [(key: String, uploadId: String)] {
        let uploads = try await request("uploads", bucket ?? self.bucket) as? [[String]] ?? []
        return uploads.map { (key: $0[0], uploadId: $0[1]) }
    }

    /// Starts a multipart upload and leaves it open, as a crashed uploader would; returns its id.
    public func startMultipartUpload(_ key: String, bucket: String? = nil) async throws -> String {
        try await request("start-upload", bucket ?? self.bucket, key) as? String ?? ""
    }

    /// The object's SHA-256 (lowercase hex), hashed in Python while streaming the object.
    public func objectSHA256(_ key: String, bucket: String? = nil) async throws -> String {
        try await request("sha256", bucket ?? self.bucket, key) as? String ?? ""
    }

    /// Uploads `bytes` as `key` with a single PUT (passed to Python through a file in `directory`).
    public func putObject(_ key: String, bytes: [UInt8], bucket: String? = nil) async throws {
        let file = directory + "/put-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: file) }
        guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
            throw S3TestServerError("cannot write \(file)")
        }
        _ = try await request("put", bucket ?? self.bucket, key, file)
    }

    /// Deletes `key` (no error if it does not exist, as in S3).
    public func deleteObject(_ key: String, bucket: String? = nil) async throws {
        _ = try await request("delete", bucket ?? self.bucket, key)
    }

    /// Sends one JSON-array line to the companion and returns the `ok` value of its JSON reply.
    /// The exchange blocks a thread (bounded by boto3's timeouts and the socket's 120 s receive
    /// timeout), so it runs off the cooperative pool.
    func request(_ arguments: String...) async throws -> Any? {
        let line = Array(try JSONSerialization.data(withJSONObject: arguments)) + [UInt8(ascii: "\n")]
        let reply = try await offThePool { [self] in
            try companion.channel.withLock { fd throws(S3TestServerError) -> [UInt8] in
                guard fd >= 0 else { throw S3TestServerError("\(kind) on \(endpoint) is stopped") }
                try Self.sendAll(line, to: fd)
                return try Self.receiveLine(from: fd)
            }
        }
        let operation = arguments.joined(separator: " ")
        guard !reply.isEmpty else {
            throw S3TestServerError("boto3 \(operation): the companion closed the channel", log: logPath)
        }
        let object = try JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any] ?? [:]
        if let error = object["error"] {
            throw S3TestServerError("boto3 \(operation) against \(kind) on \(endpoint) failed: \(error)", log: logPath)
        }
        return object["ok"] is NSNull ? nil : object["ok"]
    }

    static func sendAll(_ bytes: [UInt8], to fd: Int32) throws(S3TestServerError) {
        var sent = 0
        while sent < bytes.count {
            // MSG_NOSIGNAL: a dead companion must give EPIPE, not a SIGPIPE that kills the tests.
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, noSignal) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw S3TestServerError("send to companion: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// Reads up to and including "\n" (the companion answers one line per request); [] at EOF.
    static func receiveLine(from fd: Int32) throws(S3TestServerError) -> [UInt8] {
        var line: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while line.last != UInt8(ascii: "\n") {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw S3TestServerError("no answer from companion: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return [] }
            line += buffer[..<n]
        }
        return line
    }

    #if os(Linux)
    static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    static let noSignal: Int32 = 0  // macOS: SO_NOSIGPIPE is set on the socket instead
    #endif

    /// Starts `python companionScript command...`, its stdin and stdout one end of a socket pair
    /// (returned: the other end), its stderr and the server's output appended to `log`.
    static func launchCompanion(
        _ python: String, _ command: [String], environment: [String: String], log: String
    ) throws -> (Process, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, streamSocket, 0, &fds) == 0 else {
            throw S3TestServerError("socketpair: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec (atomic on Linux, see `streamSocket`): a child that inherited our end
        // would hide the EOF the companion waits for.
        #if !os(Linux)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var one: Int32 = 1
        setsockopt(fds[0], SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        defer { close(fds[1]) }  // the companion has its own copy; ours would hide its exit
        let process: Process
        do {
            let end = FileHandle(fileDescriptor: fds[1], closeOnDealloc: false)
            process = try launch(
                python, [companionScript] + command, environment: environment, output: log, input: end,
                stdout: end)
        } catch {
            close(fds[0])
            throw error
        }
        return (process, fds[0])
    }

    /// The companion, `Tests/Companions/s3_test_client.py` (what it does is said at its top). Not
    /// in this target's directory: SwiftPM would warn about an undeclared file on every build.
    static let companionScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Companions/s3_test_client.py").path
}
