import Foundation
import Synchronization

/// Out-of-band S3 access through boto3 in the Python companion: an independent client, so tests
/// never check Skiff's S3 code with Skiff's S3 code. The companion imports boto3 once, while the
/// server starts, so a call costs milliseconds rather than a Python start (~0.4 s) each.
extension S3TestServer {
    /// Creates another empty bucket (e.g. one per test, for isolation).
    public func makeBucket(_ name: String) async throws {
        _ = try request("make-bucket", name)
    }

    /// Every object key in the bucket with its size.
    public func listObjects(bucket: String? = nil) throws -> [String: Int64] {
        let sizes = try request("list", bucket ?? self.bucket) as? [String: Any] ?? [:]
        return sizes.mapValues { ($0 as? NSNumber)?.int64Value ?? -1 }
    }

    /// The multipart uploads started but neither completed nor aborted.
    public func listMultipartUploads(bucket: String? = nil) throws -> [(key: String, uploadId: String)] {
        let uploads = try request("uploads", bucket ?? self.bucket) as? [[String]] ?? []
        return uploads.map { (key: $0[0], uploadId: $0[1]) }
    }

    /// Starts a multipart upload and leaves it open, as a crashed uploader would; returns its id.
    public func startMultipartUpload(_ key: String, bucket: String? = nil) throws -> String {
        try request("start-upload", bucket ?? self.bucket, key) as? String ?? ""
    }

    /// The object's SHA-256 (lowercase hex), hashed in Python while streaming the object.
    public func objectSHA256(_ key: String, bucket: String? = nil) throws -> String {
        try request("sha256", bucket ?? self.bucket, key) as? String ?? ""
    }

    /// Uploads `bytes` as `key` with a single PUT (passed to Python through a file in `directory`).
    public func putObject(_ key: String, bytes: [UInt8], bucket: String? = nil) throws {
        let file = directory + "/put-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: file) }
        guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
            throw S3TestServerError("cannot write \(file)")
        }
        _ = try request("put", bucket ?? self.bucket, key, file)
    }

    /// Deletes `key` (no error if it does not exist, as in S3).
    public func deleteObject(_ key: String, bucket: String? = nil) throws {
        _ = try request("delete", bucket ?? self.bucket, key)
    }

    /// Sends one JSON-array line to the companion and returns the `ok` value of its JSON reply.
    /// Blocks the calling thread (bounded by boto3's timeouts and the socket's 120 s receive timeout).
    func request(_ arguments: String...) throws -> Any? {
        var line = try JSONSerialization.data(withJSONObject: arguments)
        line.append(UInt8(ascii: "\n"))
        let reply = try channel.withLock { fd throws(S3TestServerError) -> [UInt8] in
            guard fd >= 0 else { throw S3TestServerError("\(kind) on \(endpoint) is stopped") }
            try Self.sendAll(Array(line), to: fd)
            return try Self.receiveLine(from: fd)
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

    /// Starts `python -c companionScript command...`, its stdin and stdout one end of a socket pair
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
                python, ["-c", companionScript] + command, environment: environment, output: log, input: end,
                stdout: end)
        } catch {
            close(fds[0])
            throw error
        }
        return (process, fds[0])
    }

    /// The companion: `python3 -c companionScript SERVER ARGS...`.
    /// * Unblocks all signals first: Foundation's `Process` hands a child the signal mask of the
    ///   spawning thread, and Swift's concurrency threads block SIGTERM (and most others).
    /// * Runs the server in its own process group; stops it on SIGTERM, or at EOF on stdin (the
    ///   test process closed the socket or died: then it also removes the temp dir); exits when
    ///   the server exits.
    /// * Answers requests, one JSON array per line on stdin, with one JSON object per line on stdout.
    static let companionScript = """
        import hashlib, json, os, shutil, signal, subprocess, sys, threading
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        os.setpgid(0, 0)
        done = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        server = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=2, stderr=2)

        def client():
            e = os.environ
            # botocore bug: after an empty PUT with "Expect: 100-continue" that a Go server answers
            # without "100 Continue" (juicefs), the next PUT on that connection hangs until timeout.
            e["BOTO_EXPERIMENTAL__NO_EMPTY_CONTINUE"] = "true"
            import boto3
            from botocore.config import Config
            return boto3.client("s3", endpoint_url=e["S3TS_ENDPOINT"], region_name=e["S3TS_REGION"],
                aws_access_key_id=e["S3TS_ACCESS_KEY"], aws_secret_access_key=e["S3TS_SECRET_KEY"],
                verify=e.get("S3TS_CA") or None,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=5,
                    read_timeout=60, retries={"total_max_attempts": 3, "mode": "standard"},
                    request_checksum_calculation="when_required", response_checksum_validation="when_required"))

        def run(s3, op, bucket, *args):
            def items(name, field):
                for page in s3.get_paginator(name).paginate(Bucket=bucket):
                    yield from page.get(field, [])
            if op == "make-bucket":
                # A retried CreateBucket whose first attempt did succeed (a slow, just-started server)
                # answers BucketAlreadyOwnedByYou: the bucket is ours, which is what was asked.
                try: s3.create_bucket(Bucket=bucket)
                except s3.exceptions.BucketAlreadyOwnedByYou: pass
            elif op == "list": return {o["Key"]: o["Size"] for o in items("list_objects_v2", "Contents")}
            elif op == "uploads": return [[u["Key"], u["UploadId"]] for u in items("list_multipart_uploads", "Uploads")]
            elif op == "sha256":
                body, digest = s3.get_object(Bucket=bucket, Key=args[0])["Body"], hashlib.sha256()
                for chunk in iter(lambda: body.read(1 << 20), b""): digest.update(chunk)
                return digest.hexdigest()
            elif op == "put":
                with open(args[1], "rb") as f: s3.put_object(Bucket=bucket, Key=args[0], Body=f.read())
            elif op == "start-upload": return s3.create_multipart_upload(Bucket=bucket, Key=args[0])["UploadId"]
            elif op == "delete": s3.delete_object(Bucket=bucket, Key=args[0])
            else: raise ValueError(f"unknown operation {op}")

        def serve():
            try: s3, broken = client(), None
            except Exception as error: s3, broken = None, f"{error} (python {sys.executable}); run Tools/install-deps"
            try:
                for line in sys.stdin.buffer:
                    try: reply = {"ok": run(s3, *json.loads(line))} if s3 else {"error": broken}
                    except Exception as error: reply = {"error": f"{type(error).__name__}: {error}"}
                    sys.stdout.buffer.write(json.dumps(reply).encode() + b"\\n")
                    sys.stdout.buffer.flush()
            finally:
                orphaned.set()
                done.set()

        orphaned = threading.Event()
        threading.Thread(target=serve, daemon=True).start()
        while server.poll() is None and not done.wait(0.05): pass
        if server.poll() is None:
            server.terminate()
            try: server.wait(10)
            except subprocess.TimeoutExpired: os.killpg(0, signal.SIGKILL)
        if orphaned.is_set(): shutil.rmtree(os.environ["S3TS_DIRECTORY"], ignore_errors=True)
        # os._exit: a normal exit would wait for the daemon thread's lock on stdin, then abort.
        os._exit(server.returncode if server.returncode >= 0 else 128 - server.returncode)
        """
}
